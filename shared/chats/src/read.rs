//! Reading chats: each side sees only its own. A customer sees the
//! mitra's public face; a mitra sees the customer only as a display name
//! or alias ([`crate::MitraChat`]). Pages are newest first, keyed on the
//! chat id (a UUIDv7, so id order is creation order).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::model::{MITRA_CHAT_COLUMNS, MitraChat, MitraRow};
use crate::{ChatId, ChatStatus};

/// The mitra serving a chat, as the customer sees them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatMitra {
    pub id: Uuid,
    #[schema(example = "Dewi")]
    pub display_name: String,
    pub photo_url: Option<String>,
}

/// A chat in the customer's app.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerChat {
    pub id: ChatId,
    pub order_id: Uuid,
    pub status: ChatStatus,
    /// Who serves the chat, once one has accepted; null while offered and
    /// when unserved.
    pub mitra: Option<ChatMitra>,
    #[schema(example = 30)]
    pub duration_minutes: i32,
    pub started_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

const CUSTOMER_CHAT: &str = "
    SELECT c.id, c.order_id, c.status, c.mitra_id,
           coalesce(p.display_name, m.display_name, 'Bestie') AS mitra_name, p.photo_url,
           c.duration_minutes, c.started_at, c.ends_at, c.ended_at
    FROM chats c
    LEFT JOIN users m ON m.id = c.mitra_id
    LEFT JOIN mitra_profiles p ON p.mitra_id = c.mitra_id";

#[derive(FromRow)]
struct CustomerRow {
    id: Uuid,
    order_id: Uuid,
    status: String,
    mitra_id: Option<Uuid>,
    mitra_name: String,
    photo_url: Option<String>,
    duration_minutes: i32,
    started_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
}

impl From<CustomerRow> for CustomerChat {
    fn from(row: CustomerRow) -> Self {
        let status = ChatStatus::parse(&row.status);
        let served = matches!(status, ChatStatus::Active | ChatStatus::Ended);
        Self {
            id: ChatId(row.id),
            order_id: row.order_id,
            status,
            mitra: row.mitra_id.filter(|_| served).map(|id| ChatMitra {
                id,
                display_name: row.mitra_name,
                photo_url: row.photo_url,
            }),
            duration_minutes: row.duration_minutes,
            started_at: row.started_at,
            ends_at: row.ends_at,
            ended_at: row.ended_at,
        }
    }
}

/// One page, newest first; `next` is the cursor for the following one.
#[derive(Debug)]
pub struct Page<T> {
    pub chats: Vec<T>,
    pub next: Option<ChatId>,
}

fn page<T, R: Into<T>>(rows: Vec<R>, limit: u32, id: impl Fn(&T) -> ChatId) -> Page<T> {
    let more = rows.len() > limit as usize;
    let chats: Vec<T> = rows
        .into_iter()
        .take(limit as usize)
        .map(Into::into)
        .collect();
    let next = if more { chats.last().map(id) } else { None };
    Page { chats, next }
}

/// A customer's chat, or `None` when it is not theirs.
pub async fn customer_chat(
    db: &PgPool,
    customer: Uuid,
    chat: ChatId,
) -> Result<Option<CustomerChat>, sqlx::Error> {
    let row: Option<CustomerRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{CUSTOMER_CHAT} WHERE c.id = $1 AND c.customer_id = $2"
    )))
    .bind(chat.0)
    .bind(customer)
    .fetch_optional(db)
    .await?;
    Ok(row.map(Into::into))
}

/// A customer's chats, newest first, before the chat `before`.
pub async fn customer_chats(
    db: &PgPool,
    customer: Uuid,
    before: Option<ChatId>,
    limit: u32,
) -> Result<Page<CustomerChat>, sqlx::Error> {
    let rows: Vec<CustomerRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{CUSTOMER_CHAT} WHERE c.customer_id = $1 AND ($2::uuid IS NULL OR c.id < $2)
         ORDER BY c.id DESC LIMIT $3"
    )))
    .bind(customer)
    .bind(before.map(|c| c.0))
    .bind(i64::from(limit) + 1)
    .fetch_all(db)
    .await?;
    Ok(page(rows, limit, |c: &CustomerChat| c.id))
}

/// A chat offered to or served by this mitra, or `None`: a chat that moved
/// on to another mitra is no longer theirs to see.
pub async fn mitra_chat<'e>(
    db: impl PgExecutor<'e>,
    mitra: Uuid,
    chat: ChatId,
) -> Result<Option<MitraChat>, sqlx::Error> {
    let row: Option<MitraRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {MITRA_CHAT_COLUMNS} FROM chats c JOIN users u ON u.id = c.customer_id
         WHERE c.id = $1 AND c.mitra_id = $2"
    )))
    .bind(chat.0)
    .bind(mitra)
    .fetch_optional(db)
    .await?;
    Ok(row.map(Into::into))
}

/// A mitra's chats, newest first, optionally of one status.
pub async fn mitra_chats(
    db: &PgPool,
    mitra: Uuid,
    status: Option<ChatStatus>,
    before: Option<ChatId>,
    limit: u32,
) -> Result<Page<MitraChat>, sqlx::Error> {
    let rows: Vec<MitraRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {MITRA_CHAT_COLUMNS} FROM chats c JOIN users u ON u.id = c.customer_id
         WHERE c.mitra_id = $1 AND ($2::text IS NULL OR c.status = $2) AND ($3::uuid IS NULL OR c.id < $3)
         ORDER BY c.id DESC LIMIT $4"
    )))
    .bind(mitra)
    .bind(status.map(ChatStatus::as_str))
    .bind(before.map(|c| c.0))
    .bind(i64::from(limit) + 1)
    .fetch_all(db)
    .await?;
    Ok(page(rows, limit, |c: &MitraChat| c.id))
}
