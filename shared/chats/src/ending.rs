//! The end of a chat: the server ends it at `ends_at` and warns
//! `chat_end_warning_seconds` before; either side may end it early. The
//! timers are swept by every gateway instance each second, each one a
//! single statement over rows claimed with `FOR UPDATE SKIP LOCKED`, with
//! the event written by the same statement.

use halo_knobs::Knobs;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::matching::emit;
use crate::{ChatError, ChatId};

/// Chats one sweep handles per kind; the next tick takes the rest.
const BATCH: i64 = 200;

/// Ends the active chats whose time is up (`chat.ended`, `ended_by:
/// time`). Returns how many.
pub async fn end_due(db: &PgPool) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "WITH ended AS (
             UPDATE chats SET status = 'ended', ended_at = now(), ended_by = 'time', updated_at = now()
             WHERE id IN (SELECT id FROM chats WHERE status = 'active' AND ends_at <= now()
                          ORDER BY ends_at LIMIT $1 FOR UPDATE SKIP LOCKED)
             RETURNING id, mitra_id, ended_at)
         INSERT INTO outbox (topic, aggregate_id, payload)
         SELECT 'chat.ended', id, jsonb_build_object('chat_id', id, 'mitra_id', mitra_id,
                                                     'ended_by', 'time', 'ended_at', ended_at)
         FROM ended",
    )
    .bind(BATCH)
    .execute(db)
    .await?
    .rows_affected())
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

/// Who ends a chat early.
#[derive(Debug, Clone, Copy)]
pub enum Party {
    Customer(Uuid),
    Mitra(Uuid),
}

impl Party {
    fn column(self) -> &'static str {
        match self {
            Self::Customer(_) => "customer_id",
            Self::Mitra(_) => "mitra_id",
        }
    }

    fn id(self) -> Uuid {
        match self {
            Self::Customer(id) | Self::Mitra(id) => id,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Customer(_) => "customer",
            Self::Mitra(_) => "mitra",
        }
    }
}

/// Ends an active chat at once. Ending a chat that has ended already
/// changes nothing; a chat that has not started is `NotActive`, and one
/// the caller is not part of `NotFound`.
pub async fn end(db: &PgPool, by: Party, chat: ChatId) -> Result<(), ChatError> {
    let mut tx = db.begin().await?;
    let column = by.column();
    let ended: Option<(Option<Uuid>,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE chats SET status = 'ended', ended_at = now(), ended_by = $3, updated_at = now()
         WHERE id = $1 AND {column} = $2 AND status = 'active'
         RETURNING mitra_id"
    )))
    .bind(chat.0)
    .bind(by.id())
    .bind(by.name())
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((mitra,)) = ended {
        emit(
            &mut tx,
            "chat.ended",
            chat.0,
            json!({"chat_id": chat.0, "mitra_id": mitra, "ended_by": by.name()}),
        )
        .await?;
        tx.commit().await?;
        return Ok(());
    }
    let status: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT status FROM chats WHERE id = $1 AND {column} = $2"
    )))
    .bind(chat.0)
    .bind(by.id())
    .fetch_optional(&mut *tx)
    .await?;
    match status.as_deref() {
        Some("ended") => Ok(()),
        Some(_) => Err(ChatError::NotActive),
        None => Err(ChatError::NotFound),
    }
}
