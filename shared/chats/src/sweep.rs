//! The matching timers, swept every second by every gateway instance: an
//! offer not answered within `mitra_accept_timeout_seconds` moves on, and a
//! chat nobody could take yet is tried again until its match deadline.
//! Each chat is claimed with `FOR UPDATE SKIP LOCKED` in its own
//! transaction, so instances never handle one chat twice at once.

use halo_knobs::Knobs;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::ChatId;
use crate::matching::{MATCHABLE_COLUMNS, Matchable, emit, offer_next};
use crate::respond::close_offer;

/// Chats one sweep handles per kind; the next tick takes the rest.
const BATCH: usize = 100;

/// Closes lapsed offers (`chat.offer_timed_out`) and offers each chat to
/// the next mitra. Returns how many offers lapsed.
pub async fn time_out_offers(db: &PgPool, knobs: &Knobs) -> Result<usize, sqlx::Error> {
    let mut handled = 0;
    while handled < BATCH {
        let mut tx = db.begin().await?;
        let lapsed: Option<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT id, mitra_id FROM chats
             WHERE status = 'offered' AND mitra_id IS NOT NULL AND offer_expires_at <= now()
             ORDER BY offer_expires_at LIMIT 1 FOR UPDATE SKIP LOCKED",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, mitra)) = lapsed else {
            break;
        };
        let chat: Matchable = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE chats SET mitra_id = NULL, offer_expires_at = NULL, updated_at = now()
             WHERE id = $1 RETURNING {MATCHABLE_COLUMNS}"
        )))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        close_offer(&mut tx, ChatId(chat.id), mitra, "timed_out").await?;
        emit(
            &mut tx,
            "chat.offer_timed_out",
            chat.id,
            json!({"chat_id": chat.id, "mitra_id": mitra}),
        )
        .await?;
        offer_next(&mut tx, knobs, &chat).await?;
        tx.commit().await?;
        handled += 1;
    }
    Ok(handled)
}

/// Tries again to offer the chats that found nobody free, giving up those
/// past their match deadline. Returns how many it looked at.
pub async fn retry_waiting(db: &PgPool, knobs: &Knobs) -> Result<usize, sqlx::Error> {
    let mut after = Uuid::nil();
    let mut handled = 0;
    while handled < BATCH {
        let mut tx = db.begin().await?;
        let waiting: Option<Matchable> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {MATCHABLE_COLUMNS} FROM chats
             WHERE status = 'offered' AND mitra_id IS NULL AND id > $1
             ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
        )))
        .bind(after)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(chat) = waiting else {
            break;
        };
        after = chat.id;
        offer_next(&mut tx, knobs, &chat).await?;
        tx.commit().await?;
        handled += 1;
    }
    Ok(handled)
}
