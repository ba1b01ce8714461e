//! The end of a chat: the server ends it at `ends_at` and warns
//! `chat_end_warning_seconds` before; either side may end it early. The
//! timers are swept by every gateway instance each second over rows
//! claimed with `FOR UPDATE SKIP LOCKED`, each event written by the
//! statement that makes its change.

use halo_knobs::Knobs;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::matching::{MATCHABLE_COLUMNS, Matchable, emit, offer_next};
use crate::respond::close_offer;
use crate::{ChatError, ChatId};

/// Chats one sweep handles per kind; the next tick takes the rest.
const BATCH: i64 = 200;

/// One statement that ends the active chats among those `claim` (a
/// subquery of chat ids) selects, writes their `chat.ended` events, and
/// returns their ids. `ended_by` is one of the fixed names, never input.
fn ending(claim: &str, ended_by: &'static str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!(
        "WITH ended AS (
             UPDATE chats SET status = 'ended', ended_at = now(), ended_by = '{ended_by}', updated_at = now()
             WHERE id IN ({claim}) AND status = 'active'
             RETURNING id, mitra_id, ended_at),
         events AS (
             INSERT INTO outbox (topic, aggregate_id, payload)
             SELECT 'chat.ended', id, jsonb_build_object('chat_id', id, 'mitra_id', mitra_id,
                                                         'ended_by', '{ended_by}', 'ended_at', ended_at)
             FROM ended)
         SELECT id FROM ended"
    ))
}

/// Ends the active chats whose time is up (`chat.ended`, `ended_by:
/// time`), except those holding for an accepted extension's payment,
/// which end `extension_payment_grace_seconds` late if still unpaid. Their
/// pending extensions expire with them. Returns how many ended.
pub async fn end_due(db: &PgPool, knobs: &Knobs) -> Result<usize, sqlx::Error> {
    let mut tx = db.begin().await?;
    let ended: Vec<Uuid> = sqlx::query_scalar(ending(
        "SELECT c.id FROM chats c
         WHERE c.status = 'active' AND c.ends_at <= now()
           AND (c.ends_at + make_interval(secs => $2) <= now()
                OR NOT EXISTS (SELECT 1 FROM chat_extensions e
                               WHERE e.chat_id = c.id AND e.status = 'accepted'))
         ORDER BY c.ends_at LIMIT $1 FOR UPDATE SKIP LOCKED",
        "time",
    ))
    .bind(BATCH)
    .bind(knobs.extension_payment_grace_seconds as f64)
    .fetch_all(&mut *tx)
    .await?;
    crate::extensions::expire_with_chats(&mut tx, &ended).await?;
    tx.commit().await?;
    Ok(ended.len())
}

/// Writes `chat.ending_soon` once for each active chat within
/// `chat_end_warning_seconds` of its end. Returns how many.
pub async fn warn_due(db: &PgPool, knobs: &Knobs) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "WITH warned AS (
             UPDATE chats SET warned_at = now(), updated_at = now()
             WHERE id IN (SELECT id FROM chats
                          WHERE status = 'active' AND warned_at IS NULL
                            AND ends_at <= now() + make_interval(secs => $2) AND ends_at > now()
                          ORDER BY ends_at LIMIT $1 FOR UPDATE SKIP LOCKED)
             RETURNING id, mitra_id, ends_at)
         INSERT INTO outbox (topic, aggregate_id, payload)
         SELECT 'chat.ending_soon', id, jsonb_build_object('chat_id', id, 'mitra_id', mitra_id, 'ends_at', ends_at)
         FROM warned",
    )
    .bind(BATCH)
    .bind(knobs.chat_end_warning_seconds as f64)
    .execute(db)
    .await?
    .rows_affected())
}

/// Who ends a chat early, or reports on it.
#[derive(Debug, Clone, Copy)]
pub enum Party {
    Customer(Uuid),
    Mitra(Uuid),
    /// An operator, from the CC: any chat.
    Operator,
}

impl Party {
    pub(crate) fn column(self) -> &'static str {
        match self {
            Self::Customer(_) | Self::Operator => "customer_id",
            Self::Mitra(_) => "mitra_id",
        }
    }

    /// The participant the chat must have; `None` for an operator.
    fn participant(self) -> Option<Uuid> {
        match self {
            Self::Customer(id) | Self::Mitra(id) => Some(id),
            Self::Operator => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Customer(_) => "customer",
            Self::Mitra(_) => "mitra",
            Self::Operator => "operator",
        }
    }
}

/// Ends an active chat at once; its pending extension expires. Ending a
/// chat that has ended already changes nothing; a chat that has not
/// started is `NotActive`, and one the caller is not part of `NotFound`.
pub async fn end(db: &PgPool, by: Party, chat: ChatId) -> Result<(), ChatError> {
    let mut tx = db.begin().await?;
    end_in(&mut tx, by, chat).await?;
    tx.commit().await?;
    Ok(())
}

/// [`end`] in the caller's transaction (an operator's, with its audit
/// entry); true when this call ended the chat, false when it had ended.
pub async fn end_in(tx: &mut PgConnection, by: Party, chat: ChatId) -> Result<bool, ChatError> {
    let column = by.column();
    let mine =
        format!("SELECT id FROM chats WHERE id = $1 AND ($2::uuid IS NULL OR {column} = $2)");
    let ended: Vec<Uuid> = sqlx::query_scalar(ending(&mine, by.name()))
        .bind(chat.0)
        .bind(by.participant())
        .fetch_all(&mut *tx)
        .await?;
    if !ended.is_empty() {
        crate::extensions::expire_with_chats(tx, &ended).await?;
        return Ok(true);
    }
    let status: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT status FROM chats WHERE id IN ({mine})"
    )))
    .bind(chat.0)
    .bind(by.participant())
    .fetch_optional(&mut *tx)
    .await?;
    match status.as_deref() {
        Some("ended") => Ok(false),
        Some(_) => Err(ChatError::NotActive),
        None => Err(ChatError::NotFound),
    }
}

/// What [`end_mitra_chats`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MitraChatsClosed {
    /// Active chats ended (`ended_by: operator`).
    pub ended: usize,
    /// Open offers withdrawn and passed to the next mitra.
    pub withdrawn: usize,
}

/// For a mitra just suspended (call it once they are no longer active, so
/// nothing new is offered to them): ends their active chats, passes the
/// chats offered to them on to others (`chat.offer_withdrawn`, then the
/// usual matching), and takes them offline; all in the caller's
/// transaction (the operator's, with its audit entry).
pub async fn end_mitra_chats(
    tx: &mut PgConnection,
    knobs: &Knobs,
    mitra: Uuid,
) -> Result<MitraChatsClosed, sqlx::Error> {
    let ended: Vec<Uuid> = sqlx::query_scalar(ending(
        "SELECT id FROM chats WHERE mitra_id = $1 AND status = 'active' FOR UPDATE",
        Party::Operator.name(),
    ))
    .bind(mitra)
    .fetch_all(&mut *tx)
    .await?;
    crate::extensions::expire_with_chats(tx, &ended).await?;
    let offered: Vec<Matchable> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE chats SET mitra_id = NULL, offer_expires_at = NULL, updated_at = now()
         WHERE id IN (SELECT id FROM chats WHERE mitra_id = $1 AND status = 'offered' FOR UPDATE)
         RETURNING {MATCHABLE_COLUMNS}"
    )))
    .bind(mitra)
    .fetch_all(&mut *tx)
    .await?;
    for chat in &offered {
        close_offer(tx, ChatId(chat.id), mitra, "withdrawn").await?;
        emit(
            tx,
            "chat.offer_withdrawn",
            chat.id,
            json!({"chat_id": chat.id, "mitra_id": mitra}),
        )
        .await?;
        offer_next(tx, knobs, chat).await?;
    }
    halo_mitras::go_offline(tx, mitra).await?;
    Ok(MitraChatsClosed {
        ended: ended.len(),
        withdrawn: offered.len(),
    })
}
