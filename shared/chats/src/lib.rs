//! Chats (issue 10): the paid, timed conversation between a customer and a
//! mitra. A paid order becomes a chat offered to one mitra at a time; the
//! mitra accepts or declines; a decline or an accept timeout re-offers it
//! (never to the same mitra twice) until `match_wait_seconds`, then it is
//! unserved and the order owed a refund. Sole writer of `chats` and
//! `chat_offers`; writes its events to `outbox` in the same transaction.

mod matching;
mod model;
mod respond;
mod sweep;

pub use matching::dispatch_paid_orders;
pub use model::{ChatId, ChatStatus, CustomerAlias, MitraChat};
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
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}
