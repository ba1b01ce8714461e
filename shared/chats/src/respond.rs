//! A mitra's answer to an offer: accept (the chat starts now) or decline
//! (the chat goes to the next mitra, or is given up).

use halo_knobs::Knobs;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::matching::{MATCHABLE_COLUMNS, Matchable, emit, offer_next};
use crate::model::MitraChat;
use crate::{ChatError, ChatId};

/// Accepts an open offer: the chat is `active` from now until now plus the
/// tier's duration, and the mitra has earned their share of its order. Accepting a chat this mitra already accepted answers
/// the chat again (a retry after a lost answer).
pub async fn accept(
    db: &PgPool,
    knobs: &Knobs,
    mitra: Uuid,
    chat: ChatId,
) -> Result<MitraChat, ChatError> {
    let mut tx = db.begin().await?;
    let accepted: Option<(Uuid,)> = sqlx::query_as(
        "UPDATE chats SET status = 'active', started_at = now(),
                          ends_at = now() + make_interval(mins => duration_minutes),
                          offer_expires_at = NULL, updated_at = now()
         WHERE id = $1 AND mitra_id = $2 AND status = 'offered' AND offer_expires_at > now()
         RETURNING order_id",
    )
    .bind(chat.0)
    .bind(mitra)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((order,)) = accepted {
        close_offer(&mut tx, chat, mitra, "accepted").await?;
        crate::earnings::record(&mut tx, knobs, order, mitra, chat.0).await?;
        emit(
            &mut tx,
            "chat.accepted",
            chat.0,
            json!({"chat_id": chat.0, "mitra_id": mitra}),
        )
        .await?;
    } else {
        let outcome = offer_outcome(&mut tx, chat, mitra).await?;
        if outcome.as_deref() != Some("accepted") {
            return Err(ChatError::OfferClosed);
        }
    }
    let view = crate::read::mitra_chat(&mut *tx, mitra, chat)
        .await?
        .ok_or(ChatError::NotFound)?;
    tx.commit().await?;
    Ok(view)
}

/// Declines an open offer; the chat moves on at once. Declining twice is
/// the same as once.
pub async fn decline(
    db: &PgPool,
    knobs: &Knobs,
    mitra: Uuid,
    chat: ChatId,
) -> Result<(), ChatError> {
    let mut tx = db.begin().await?;
    let declined: Option<Matchable> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE chats SET mitra_id = NULL, offer_expires_at = NULL, updated_at = now()
         WHERE id = $1 AND mitra_id = $2 AND status = 'offered' AND offer_expires_at > now()
         RETURNING {MATCHABLE_COLUMNS}"
    )))
    .bind(chat.0)
    .bind(mitra)
    .fetch_optional(&mut *tx)
    .await?;
    match declined {
        Some(declined) => {
            close_offer(&mut tx, chat, mitra, "declined").await?;
            emit(
                &mut tx,
                "chat.declined",
                chat.0,
                json!({"chat_id": chat.0, "mitra_id": mitra}),
            )
            .await?;
            offer_next(&mut tx, knobs, &declined).await?;
        }
        None => {
            let outcome = offer_outcome(&mut tx, chat, mitra).await?;
            if outcome.as_deref() != Some("declined") {
                return Err(ChatError::OfferClosed);
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn close_offer(
    tx: &mut PgConnection,
    chat: ChatId,
    mitra: Uuid,
    outcome: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE chat_offers SET outcome = $3 WHERE chat_id = $1 AND mitra_id = $2")
        .bind(chat.0)
        .bind(mitra)
        .bind(outcome)
        .execute(tx)
        .await?;
    Ok(())
}

/// How this mitra's offer of the chat ended (an offer still open in the
/// table has lapsed: the guarded update refused it); `NotFound` when the
/// chat was never offered to them, so others' chats stay invisible.
async fn offer_outcome(
    tx: &mut PgConnection,
    chat: ChatId,
    mitra: Uuid,
) -> Result<Option<String>, ChatError> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT outcome FROM chat_offers WHERE chat_id = $1 AND mitra_id = $2")
            .bind(chat.0)
            .bind(mitra)
            .fetch_optional(tx)
            .await?;
    row.map(|(outcome,)| outcome).ok_or(ChatError::NotFound)
}
