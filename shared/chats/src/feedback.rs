//! After (or during) a chat: the customer's rating, once the chat has
//! ended, and either side's report for the CC.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::matching::emit;
use crate::{ChatError, ChatId, Party};

/// The customer's rating of a chat.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"chat_id": "019ab8f1-0c3d-7e21-8a7e-3f5b2c1d0e9f", "stars": 5,
    "note": "Sangat membantu", "created_at": "2026-11-26T08:40:00Z"}))]
pub struct ChatRating {
    #[schema(value_type = Uuid)]
    pub chat_id: ChatId,
    pub stars: i16,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Rates an ended chat, once; the mitra's rating stats move with it.
/// `stars` is 1 to 5 (the caller checks; the table refuses others).
pub async fn rate(
    db: &PgPool,
    customer: Uuid,
    chat: ChatId,
    stars: i16,
    note: Option<String>,
) -> Result<ChatRating, ChatError> {
    let mut tx = db.begin().await?;
    let found: Option<(String, Option<Uuid>)> =
        sqlx::query_as("SELECT status, mitra_id FROM chats WHERE id = $1 AND customer_id = $2")
            .bind(chat.0)
            .bind(customer)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((status, mitra)) = found else {
        return Err(ChatError::NotFound);
    };
    let Some(mitra) = mitra.filter(|_| status == "ended") else {
        return Err(ChatError::NotEnded);
    };
    let created: Option<(DateTime<Utc>,)> = sqlx::query_as(
        "INSERT INTO chat_ratings (chat_id, mitra_id, stars, note) VALUES ($1, $2, $3, $4)
         ON CONFLICT (chat_id) DO NOTHING RETURNING created_at",
    )
    .bind(chat.0)
    .bind(mitra)
    .bind(stars)
    .bind(&note)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((created_at,)) = created else {
        return Err(ChatError::AlreadyRated);
    };
    halo_mitras::record_rating(&mut tx, mitra, stars).await?;
    tx.commit().await?;
    Ok(ChatRating {
        chat_id: chat,
        stars,
        note,
        created_at,
    })
}

/// What a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportReason {
    Harassment,
    SexualContent,
    /// The other side may hurt themselves: the CC treats these first.
    SelfHarmRisk,
    Scam,
    Other,
}

/// For reading the `reason` column (its CHECK allows no other value).
impl From<String> for ReportReason {
    fn from(reason: String) -> Self {
        match reason.as_str() {
            "harassment" => Self::Harassment,
            "sexual_content" => Self::SexualContent,
            "self_harm_risk" => Self::SelfHarmRisk,
            "scam" => Self::Scam,
            _ => Self::Other,
        }
    }
}

impl ReportReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Harassment => "harassment",
            Self::SexualContent => "sexual_content",
            Self::SelfHarmRisk => "self_harm_risk",
            Self::Scam => "scam",
            Self::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// Waiting for an operator.
    Open,
    Resolved,
}

impl ReportStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Resolved => "resolved",
        }
    }
}

/// For reading the `status` column (its CHECK allows no other value).
impl From<String> for ReportStatus {
    fn from(status: String) -> Self {
        if status == "resolved" {
            Self::Resolved
        } else {
            Self::Open
        }
    }
}

/// A report as its reporter sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "019ab8f4-3c4d-7c41-9a7e-3f5b2c1d0e9f", "chat_id": "019ab8f1-0c3d-7e21-8a7e-3f5b2c1d0e9f",
    "reason": "harassment", "note": "Kata-kata kasar", "status": "open", "created_at": "2026-11-26T08:20:00Z"}))]
pub struct Report {
    pub id: Uuid,
    #[schema(value_type = Uuid)]
    pub chat_id: ChatId,
    pub reason: ReportReason,
    pub note: Option<String>,
    pub status: ReportStatus,
    pub created_at: DateTime<Utc>,
}

/// Opens a report about a chat the reporter took part in (active or
/// ended); one open report per reporter per chat. Writes `report.opened`
/// for the CC.
pub async fn report(
    db: &PgPool,
    by: Party,
    chat: ChatId,
    reason: ReportReason,
    note: Option<String>,
) -> Result<Report, ChatError> {
    let (Party::Customer(reporter) | Party::Mitra(reporter)) = by else {
        return Err(ChatError::NotFound);
    };
    let mut tx = db.begin().await?;
    let column = by.column();
    let status: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT status FROM chats WHERE id = $1 AND {column} = $2"
    )))
    .bind(chat.0)
    .bind(reporter)
    .fetch_optional(&mut *tx)
    .await?;
    match status.as_deref() {
        None => return Err(ChatError::NotFound),
        Some("active" | "ended") => {}
        // A mitra no longer sees a chat that moved on; the customer's
        // unserved or waiting chat has nobody to report.
        Some(_) => return Err(ChatError::NotActive),
    }
    let id = Uuid::now_v7();
    let created: Option<(DateTime<Utc>,)> = sqlx::query_as(
        "INSERT INTO chat_reports (id, chat_id, reporter_type, reporter_id, reason, note)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (chat_id, reporter_id) WHERE status = 'open' DO NOTHING
         RETURNING created_at",
    )
    .bind(id)
    .bind(chat.0)
    .bind(by.name())
    .bind(reporter)
    .bind(reason.as_str())
    .bind(&note)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((created_at,)) = created else {
        return Err(ChatError::ReportOpen);
    };
    emit(
        &mut tx,
        "report.opened",
        chat.0,
        json!({"report_id": id, "chat_id": chat.0, "reporter_type": by.name(), "reason": reason}),
    )
    .await?;
    tx.commit().await?;
    Ok(Report {
        id,
        chat_id: chat,
        reason,
        note,
        status: ReportStatus::Open,
        created_at,
    })
}
