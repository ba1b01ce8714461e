//! Chats (issue 10): the paid, timed conversation between a customer and a
//! mitra. A paid order becomes a chat offered to one mitra at a time; the
//! mitra accepts or declines; a decline or an accept timeout re-offers it
//! (never to the same mitra twice) until `match_wait_seconds`, then it is
//! unserved and the order owed a refund. An accepted chat runs until
//! `ends_at` (or either side ends it), longer when the customer buys an
//! extension. Afterwards the customer rates it; either side may report it.
//! Sole writer of `chats`, `chat_offers`, `chat_extensions`,
//! `chat_messages`, `chat_reads`, `chat_ratings`, `chat_reports` and
//! `mitra_earnings`; writes its events
//! to `outbox` in the same transaction.

mod earnings;
mod ending;
mod events;
mod extensions;
mod feedback;
mod matching;
mod messages;
mod model;
mod oversight;
mod read;
mod respond;
mod sweep;

pub use earnings::{Earnings, EarningsDay, earnings};
pub use ending::{MitraChatsClosed, Party, end, end_due, end_in, end_mitra_chats, warn_due};
pub use events::{LiveEvent, claim_live_events};
pub use extensions::{
    Checkout, CustomerExtension, ExtensionId, ExtensionStatus, MitraExtension, accept_extension,
    customer_extensions, decline_extension, expire_extensions, mitra_extensions, request,
};
pub use feedback::{ChatRating, Report, ReportReason, ReportStatus, rate, report};
pub use matching::dispatch_paid_orders;
pub use messages::{
    Message, Outgoing, ReadReceipt, Role, Sent, counterpart, history, mark_read, missed,
    newest_message_id, send, send_batch,
};
pub use model::{ChatId, ChatStatus, CustomerAlias, MitraChat};
pub use oversight::{
    ChatDetail, ChatFilter, ChatRecord, ExtensionRecord, OfferRecord, RatingRecord, ReportRecord,
    TranscriptMessage, chat_detail, list_chats, list_reports, newest_report_id, report_record,
    reports_after, resolve_report, transcript,
};
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
    /// The chat has not started (still offered) or was never served, or
    /// (for an extension) its time is up.
    #[error("the chat is not active")]
    NotActive,
    /// Rating needs the chat to have ended.
    #[error("the chat has not ended")]
    NotEnded,
    #[error("the chat is rated already")]
    AlreadyRated,
    /// The reporter has an open report on this chat.
    #[error("a report of this chat is open already")]
    ReportOpen,
    /// An operator resolved the report already.
    #[error("the report is resolved already")]
    ReportResolved,
    #[error("no such tier")]
    UnknownTier,
    /// An extension request is waiting for the mitra or for payment.
    #[error("an extension is pending already")]
    ExtensionPending,
    /// The extension request was answered, expired, or its chat ended.
    #[error("the extension request is no longer open")]
    ExtensionClosed,
    /// Making the extension's order failed (the payment provider).
    #[error(transparent)]
    Order(#[from] halo_orders::OrderError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}
