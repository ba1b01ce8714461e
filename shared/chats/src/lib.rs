//! Chats (issue 10): the paid, timed conversation between a customer and a
//! mitra. A paid order becomes a chat offered to one mitra at a time; the
//! mitra accepts or declines; a decline or an accept timeout re-offers it
//! (never to the same mitra twice) until `match_wait_seconds`, then it is
//! unserved and the order owed a refund. An accepted chat runs until
//! `ends_at` (or either side ends it). Sole writer of `chats` and
//! `chat_offers`; writes its events to `outbox` in the same transaction.

mod ending;
mod matching;
mod model;
mod read;
mod respond;
mod sweep;

pub use ending::{Party, end, end_due, warn_due};
pub use matching::dispatch_paid_orders;
pub use model::{ChatId, ChatStatus, CustomerAlias, MitraChat};
pub use read::{
    ChatMitra, CustomerChat, Page, customer_chat, customer_chats, mitra_chat, mitra_chats,
};
pub use respond::{accept, decline};
pub use sweep::{retry_waiting, time_out_offers};

/// Why a mitra's answer to an offer was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// No such chat, or never offered to this mitra.
    #[error("no such chat")]
    NotFound,
    /// Offered to this mitra once, but that offer is over (timed out,
    /// declined, or answered otherwise).
    #[error("the offer is no longer open")]
    OfferClosed,
    /// The chat has not started (still offered) or was never served.
    #[error("the chat is not active")]
    NotActive,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}
