//! A chat as a mitra sees it: never the customer's phone, email or user
//! id, only their display name or a stable alias.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct ChatId(pub Uuid);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChatStatus {
    /// Waiting for a mitra to accept.
    Offered,
    /// Accepted; running until `ends_at`.
    Active,
    Ended,
    /// Nobody accepted in time; the order is owed a refund.
    Unserved,
}

impl ChatStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offered => "offered",
            Self::Active => "active",
            Self::Ended => "ended",
            Self::Unserved => "unserved",
        }
    }

    pub fn parse(status: &str) -> Self {
        match status {
            "offered" => Self::Offered,
            "active" => Self::Active,
            "ended" => Self::Ended,
            _ => Self::Unserved,
        }
    }
}

/// For reading the `status` column (its CHECK allows no other value).
impl From<String> for ChatStatus {
    fn from(status: String) -> Self {
        Self::parse(&status)
    }
}

/// What a mitra is told about the customer: their display name, or, when
/// they have none, an alias derived from their id by a one-way hash, the
/// same in every chat (so a mitra recognises a returning customer without
/// learning who they are).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CustomerAlias {
    #[schema(example = "Teman 4F2A")]
    pub display_name: String,
}

impl CustomerAlias {
    pub fn new(customer_id: Uuid, display_name: Option<String>) -> Self {
        let display_name = display_name.unwrap_or_else(|| {
            let digest = Sha256::digest(customer_id.as_bytes());
            format!("Teman {:02X}{:02X}", digest[0], digest[1])
        });
        Self { display_name }
    }
}

/// A chat in a mitra's app.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MitraChat {
    pub id: ChatId,
    pub status: ChatStatus,
    pub customer: CustomerAlias,
    #[schema(example = 30)]
    pub duration_minutes: i32,
    /// While offered to this mitra: when the offer lapses.
    pub offer_expires_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// The columns [`MitraRow`] reads, for `SELECT {MITRA_CHAT_COLUMNS} FROM
/// chats c JOIN users u ON u.id = c.customer_id`.
pub(crate) const MITRA_CHAT_COLUMNS: &str = "c.id, c.status, c.customer_id, u.display_name, \
     c.duration_minutes, c.offer_expires_at, c.started_at, c.ends_at, c.ended_at";

#[derive(FromRow)]
pub(crate) struct MitraRow {
    id: Uuid,
    status: String,
    customer_id: Uuid,
    display_name: Option<String>,
    duration_minutes: i32,
    offer_expires_at: Option<DateTime<Utc>>,
    started_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
}

impl From<MitraRow> for MitraChat {
    fn from(row: MitraRow) -> Self {
        Self {
            id: ChatId(row.id),
            status: ChatStatus::parse(&row.status),
            customer: CustomerAlias::new(row.customer_id, row.display_name),
            duration_minutes: row.duration_minutes,
            offer_expires_at: row.offer_expires_at,
            started_at: row.started_at,
            ends_at: row.ends_at,
            ended_at: row.ended_at,
        }
    }
}
