//! Chats as operators see them (issue 12): both participants, every
//! state, the transcript, and reports to resolve. Unlike the apps' views,
//! nothing here is hidden from the reader; the CC audits what it reads.
//! Lists are newest first, paged on the id (UUIDv7: creation order); only
//! the filters given reach the SQL, so each shape of query uses its index.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgPool, QueryBuilder};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::feedback::{ReportReason, ReportStatus};
use crate::messages::Role;
use crate::{ChatError, ChatStatus};

/// A chat in the CC's lists.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
#[schema(example = json!({"id": "019ab8f1-0c3d-7e21-8a7e-3f5b2c1d0e9f", "order_id": "019ab8f0-7a11-7c41-9a7e-3f5b2c1d0e9f",
    "status": "ended", "customer_id": "019ab8ef-2b3c-7c41-9a7e-3f5b2c1d0e9f", "customer_name": "Rina",
    "customer_phone": "+6281234567890", "mitra_id": "019ab8f0-6d2e-7c41-9a7e-3f5b2c1d0e9f", "mitra_name": "Dewi",
    "chosen_mitra_id": null, "duration_minutes": 30, "created_at": "2026-11-26T08:00:00Z",
    "started_at": "2026-11-26T08:01:10Z", "ends_at": "2026-11-26T08:31:10Z", "ended_at": "2026-11-26T08:31:10Z",
    "ended_by": "time"}))]
pub struct ChatRecord {
    pub id: Uuid,
    pub order_id: Uuid,
    #[sqlx(try_from = "String")]
    pub status: ChatStatus,
    pub customer_id: Uuid,
    #[schema(example = "Rina")]
    pub customer_name: Option<String>,
    /// E.164; null for an anonymous customer.
    #[schema(example = "+6281234567890")]
    pub customer_phone: Option<String>,
    /// The mitra offered the chat now, or who served it.
    pub mitra_id: Option<Uuid>,
    #[schema(example = "Dewi")]
    pub mitra_name: Option<String>,
    /// The mitra the customer picked, if any.
    pub chosen_mitra_id: Option<Uuid>,
    #[schema(example = 30)]
    pub duration_minutes: i32,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// `time`, `customer`, `mitra` or `operator`.
    #[schema(example = "time")]
    pub ended_by: Option<String>,
}

const CHAT_RECORD: &str = "
    SELECT c.id, c.order_id, c.status, c.customer_id, cu.display_name AS customer_name,
           cu.phone AS customer_phone, c.mitra_id,
           coalesce(p.display_name, m.display_name) AS mitra_name, c.chosen_mitra_id,
           c.duration_minutes, c.created_at, c.started_at, c.ends_at, c.ended_at, c.ended_by
    FROM chats c
    JOIN users cu ON cu.id = c.customer_id
    LEFT JOIN users m ON m.id = c.mitra_id
    LEFT JOIN mitra_profiles p ON p.mitra_id = c.mitra_id";

/// Which chats to list; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct ChatFilter {
    pub status: Option<ChatStatus>,
    pub mitra_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
    /// Older than this chat (the previous page's cursor).
    pub before: Option<Uuid>,
}

pub async fn list_chats(
    db: &PgPool,
    filter: &ChatFilter,
    limit: i64,
) -> Result<Vec<ChatRecord>, sqlx::Error> {
    let mut sql = QueryBuilder::new(CHAT_RECORD);
    sql.push(" WHERE true");
    if let Some(status) = filter.status {
        sql.push(" AND c.status = ").push_bind(status.as_str());
    }
    if let Some(mitra) = filter.mitra_id {
        sql.push(" AND c.mitra_id = ").push_bind(mitra);
    }
    if let Some(customer) = filter.customer_id {
        sql.push(" AND c.customer_id = ").push_bind(customer);
    }
    halo_db::push_created_between(&mut sql, "c", filter.from, filter.to);
    if let Some(before) = filter.before {
        sql.push(" AND c.id < ").push_bind(before);
    }
    sql.push(" ORDER BY c.id DESC LIMIT ").push_bind(limit);
    sql.build_query_as().fetch_all(db).await
}

/// One offer of a chat to a mitra and how it ended.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct OfferRecord {
    pub mitra_id: Uuid,
    pub offered_at: DateTime<Utc>,
    /// Null while open; `accepted`, `declined`, `timed_out` or `withdrawn`.
    pub outcome: Option<String>,
}

/// An extension asked for in a chat.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct ExtensionRecord {
    pub id: Uuid,
    pub tier_id: String,
    pub tier_label: String,
    pub duration_minutes: i32,
    pub amount_idr: i64,
    /// `requested`, `accepted`, `declined`, `paid` or `expired`.
    pub status: String,
    pub order_id: Option<Uuid>,
    pub requested_at: DateTime<Utc>,
}

/// Everything about one chat but its messages.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatDetail {
    #[serde(flatten)]
    pub chat: ChatRecord,
    pub offers: Vec<OfferRecord>,
    pub extensions: Vec<ExtensionRecord>,
    pub rating: Option<RatingRecord>,
    pub message_count: i64,
    pub open_reports: i64,
}

#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct RatingRecord {
    pub stars: i16,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn chat_detail(db: &PgPool, id: Uuid) -> Result<Option<ChatDetail>, sqlx::Error> {
    let chat: Option<ChatRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{CHAT_RECORD} WHERE c.id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await?;
    let Some(chat) = chat else {
        return Ok(None);
    };
    let offers = sqlx::query_as(
        "SELECT mitra_id, offered_at, outcome FROM chat_offers WHERE chat_id = $1 ORDER BY offered_at",
    )
    .bind(id)
    .fetch_all(db)
    .await?;
    let extensions = sqlx::query_as(
        "SELECT id, tier_id, tier_label, duration_minutes, amount_idr, status, order_id, requested_at
         FROM chat_extensions WHERE chat_id = $1 ORDER BY requested_at",
    )
    .bind(id)
    .fetch_all(db)
    .await?;
    let rating =
        sqlx::query_as("SELECT stars, note, created_at FROM chat_ratings WHERE chat_id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    let (message_count, open_reports): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM chat_messages WHERE chat_id = $1),
                (SELECT count(*) FROM chat_reports WHERE chat_id = $1 AND status = 'open')",
    )
    .bind(id)
    .fetch_one(db)
    .await?;
    Ok(Some(ChatDetail {
        chat,
        offers,
        extensions,
        rating,
        message_count,
        open_reports,
    }))
}

/// A message as operators read it: who sent it, by role and user id.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
#[schema(example = json!({"id": 7, "sender": "customer", "sender_id": "019ab8ef-2b3c-7c41-9a7e-3f5b2c1d0e9f",
    "body": "halo kak", "created_at": "2026-11-26T08:02:01Z"}))]
pub struct TranscriptMessage {
    /// Also the transcript's cursor: ids grow in the order messages were sent.
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub sender: Role,
    pub sender_id: Uuid,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A page of a chat's messages, oldest first, after message `after`; `None`
/// when there is no such chat. Run it in the transaction that records the
/// read, so every transcript read is audited.
pub async fn transcript(
    tx: &mut PgConnection,
    chat: Uuid,
    after: i64,
    limit: i64,
) -> Result<Option<Vec<TranscriptMessage>>, sqlx::Error> {
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM chats WHERE id = $1)")
        .bind(chat)
        .fetch_one(&mut *tx)
        .await?;
    if !exists {
        return Ok(None);
    }
    let messages = sqlx::query_as(
        "SELECT id, sender, sender_id, body, created_at FROM chat_messages
         WHERE chat_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(chat)
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    Ok(Some(messages))
}

/// A report as operators see it.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
#[schema(example = json!({"id": "019ab8f4-3c4d-7c41-9a7e-3f5b2c1d0e9f", "chat_id": "019ab8f1-0c3d-7e21-8a7e-3f5b2c1d0e9f",
    "reporter_type": "customer", "reporter_id": "019ab8ef-2b3c-7c41-9a7e-3f5b2c1d0e9f", "reason": "harassment",
    "note": "Kata-kata kasar", "status": "open", "created_at": "2026-11-26T08:20:00Z", "resolved_at": null,
    "resolved_by": null, "resolution_note": null}))]
pub struct ReportRecord {
    pub id: Uuid,
    pub chat_id: Uuid,
    /// `customer` or `mitra`.
    #[schema(example = "customer")]
    pub reporter_type: String,
    pub reporter_id: Uuid,
    #[sqlx(try_from = "String")]
    pub reason: ReportReason,
    pub note: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: ReportStatus,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<Uuid>,
    pub resolution_note: Option<String>,
}

const REPORT_RECORD: &str = "
    SELECT id, chat_id, reporter_type, reporter_id, reason, note, status, created_at,
           resolved_at, resolved_by, resolution_note
    FROM chat_reports";

/// Reports, newest first, in one status or all.
pub async fn list_reports(
    db: &PgPool,
    status: Option<ReportStatus>,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ReportRecord>, sqlx::Error> {
    let mut sql = QueryBuilder::new(REPORT_RECORD);
    sql.push(" WHERE true");
    if let Some(status) = status {
        sql.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(before) = before {
        sql.push(" AND id < ").push_bind(before);
    }
    sql.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
    sql.build_query_as().fetch_all(db).await
}

/// Reports opened after report `after` (ids are UUIDv7), oldest first, at
/// most 100 at a time: what the CC's live feed announces.
pub async fn reports_after(db: &PgPool, after: Uuid) -> Result<Vec<ReportRecord>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{REPORT_RECORD} WHERE id > $1 ORDER BY id LIMIT 100"
    )))
    .bind(after)
    .fetch_all(db)
    .await
}

/// The id the feed counts new reports from (nil when there are none).
pub async fn newest_report_id(db: &PgPool) -> Result<Uuid, sqlx::Error> {
    let newest: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM chat_reports ORDER BY id DESC LIMIT 1")
            .fetch_optional(db)
            .await?;
    Ok(newest.unwrap_or_else(Uuid::nil))
}

pub async fn report_record(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ReportRecord>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{REPORT_RECORD} WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Resolves an open report; run it in the transaction that audits it.
/// A resolved report is `ReportResolved`, an unknown one `NotFound`.
pub async fn resolve_report(
    tx: &mut PgConnection,
    id: Uuid,
    operator: Uuid,
    note: &str,
) -> Result<ReportRecord, ChatError> {
    let resolved: Option<ReportRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH r AS (UPDATE chat_reports SET status = 'resolved', resolved_at = now(),
                        resolved_by = $2, resolution_note = $3
                    WHERE id = $1 AND status = 'open' RETURNING *)
         {} ",
        REPORT_RECORD.replace("FROM chat_reports", "FROM r")
    )))
    .bind(id)
    .bind(operator)
    .bind(note)
    .fetch_optional(&mut *tx)
    .await?;
    match resolved {
        Some(report) => Ok(report),
        None => match report_record(tx, id).await? {
            Some(_) => Err(ChatError::ReportResolved),
            None => Err(ChatError::NotFound),
        },
    }
}
