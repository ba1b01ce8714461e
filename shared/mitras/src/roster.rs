//! Mitras as operators see them (issue 12): every mitra, suspended ones
//! included, with phone, account status, presence and load; and the
//! profile operators edit. Lists are newest first, paged on the id.

use chrono::{DateTime, Utc};
use halo_knobs::Knobs;
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{FromRow, PgConnection, PgPool, QueryBuilder};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::listing::{Availability, Rating};

/// A mitra in the CC.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "019ab8f0-6d2e-7c41-9a7e-3f5b2c1d0e9f", "phone": "+6281200000001", "display_name": "Dewi",
    "photo_url": "https://cdn.halobestie.id/mitra/dewi.jpg", "bio": "Pendengar yang sabar.", "status": "active",
    "presence": "online", "last_beat_at": "2026-11-26T08:14:55Z", "availability": "available", "load": 1,
    "rating": {"average": 4.75, "count": 12}, "created_at": "2026-11-01T03:00:00Z"}))]
pub struct MitraRecord {
    pub id: Uuid,
    /// E.164: the phone they sign in with.
    #[schema(example = "+6281200000001")]
    pub phone: Option<String>,
    #[schema(example = "Dewi")]
    pub display_name: String,
    pub photo_url: Option<String>,
    pub bio: String,
    /// `active` or `suspended`.
    #[schema(example = "active")]
    pub status: String,
    /// What the mitra last said (`online`/`offline`); see `availability`
    /// for whether they can take a chat now.
    #[schema(example = "online")]
    pub presence: String,
    pub last_beat_at: Option<DateTime<Utc>>,
    pub availability: Availability,
    /// Chats offered to or running with them now.
    pub load: i64,
    pub rating: Rating,
    pub created_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct RecordRow {
    id: Uuid,
    phone: Option<String>,
    display_name: String,
    photo_url: Option<String>,
    bio: String,
    status: String,
    presence: String,
    last_beat_at: Option<DateTime<Utc>>,
    rank: i32,
    load: i64,
    rating_count: i32,
    rating_sum: i64,
    created_at: DateTime<Utc>,
}

impl From<RecordRow> for MitraRecord {
    fn from(row: RecordRow) -> Self {
        Self {
            id: row.id,
            phone: row.phone,
            display_name: row.display_name,
            photo_url: row.photo_url,
            bio: row.bio,
            status: row.status,
            presence: row.presence,
            last_beat_at: row.last_beat_at,
            availability: Availability::from_rank(row.rank),
            load: row.load,
            rating: Rating::from_stats(row.rating_count, row.rating_sum),
            created_at: row.created_at,
        }
    }
}

/// `$1` is `mitra_stale_after_seconds`, `$2` `max_customers_per_mitra`.
const RECORDS: &str = "
    SELECT u.id, u.phone,
           coalesce(p.display_name, u.display_name, 'Bestie') AS display_name,
           p.photo_url, coalesce(p.bio, '') AS bio, u.status,
           coalesce(pr.status, 'offline') AS presence, pr.last_beat_at,
           r.rank, r.load,
           coalesce(p.rating_count, 0) AS rating_count,
           coalesce(p.rating_sum, 0) AS rating_sum,
           u.created_at
    FROM users u
    JOIN mitra_ranks(";

const RECORDS_TAIL: &str = ") r ON r.mitra_id = u.id
    LEFT JOIN mitra_profiles p ON p.mitra_id = u.id
    LEFT JOIN mitra_presence pr ON pr.mitra_id = u.id
    WHERE u.user_type = 'mitra'";

fn records(knobs: &Knobs) -> QueryBuilder<sqlx::Postgres> {
    let mut sql = QueryBuilder::new(RECORDS);
    sql.push_bind(knobs.mitra_stale_after_seconds as f64)
        .push(", ")
        .push_bind(knobs.max_customers_per_mitra)
        .push(RECORDS_TAIL);
    sql
}

/// Which mitras to list; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct RosterFilter {
    /// `active` or `suspended`.
    pub status: Option<String>,
    /// Only those who can be reached now (available or busy), or only
    /// those who cannot.
    pub online: Option<bool>,
    /// A phone (any prefix of the E.164 form) or part of the name.
    pub search: Option<String>,
    pub before: Option<Uuid>,
}

pub async fn roster(
    db: &PgPool,
    knobs: &Knobs,
    filter: &RosterFilter,
    limit: i64,
) -> Result<Vec<MitraRecord>, sqlx::Error> {
    let mut sql = records(knobs);
    if let Some(status) = &filter.status {
        sql.push(" AND u.status = ").push_bind(status.clone());
    }
    match filter.online {
        Some(true) => sql.push(" AND r.rank < 2"),
        Some(false) => sql.push(" AND r.rank = 2"),
        None => &mut sql,
    };
    if let Some(search) = &filter.search {
        let pattern = format!("%{}%", escape_like(search));
        let phone = format!("{}%", escape_like(search));
        sql.push(" AND (coalesce(p.display_name, u.display_name) ILIKE ")
            .push_bind(pattern)
            .push(" OR u.phone LIKE ")
            .push_bind(phone)
            .push(")");
    }
    if let Some(before) = filter.before {
        sql.push(" AND u.id < ").push_bind(before);
    }
    sql.push(" ORDER BY u.id DESC LIMIT ").push_bind(limit);
    let rows: Vec<RecordRow> = sql.build_query_as().fetch_all(db).await?;
    Ok(rows.into_iter().map(MitraRecord::from).collect())
}

pub async fn mitra_record(
    db: &PgPool,
    knobs: &Knobs,
    id: Uuid,
) -> Result<Option<MitraRecord>, sqlx::Error> {
    let mut sql = records(knobs);
    sql.push(" AND u.id = ").push_bind(id);
    let row: Option<RecordRow> = sql.build_query_as().fetch_optional(db).await?;
    Ok(row.map(MitraRecord::from))
}

/// `%`, `_` and `\` in a search are literal characters, not patterns.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A change to a mitra's public profile; `None` leaves a field as it is,
/// `photo_url: Some(None)` removes the photo.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    pub display_name: Option<String>,
    pub photo_url: Option<Option<String>>,
    pub bio: Option<String>,
}

#[derive(FromRow)]
struct ProfileRow {
    display_name: Option<String>,
    photo_url: Option<String>,
    bio: String,
}

impl ProfileRow {
    fn to_json(&self) -> Value {
        json!({"display_name": self.display_name, "photo_url": self.photo_url, "bio": self.bio})
    }
}

/// Applies `change` to the mitra's profile (creating it on first write),
/// in the caller's transaction (with its audit entry); returns the
/// profile's fields before and after, or `None` when `mitra` is no mitra.
/// Callers check the values (a name of 1 to 60 characters, an `https://`
/// photo URL, a bio of at most 1,000).
pub async fn save_profile(
    tx: &mut PgConnection,
    mitra: Uuid,
    change: &ProfileChange,
) -> Result<Option<(Value, Value)>, sqlx::Error> {
    let is_mitra: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND user_type = 'mitra')",
    )
    .bind(mitra)
    .fetch_one(&mut *tx)
    .await?;
    if !is_mitra {
        return Ok(None);
    }
    let before: Option<ProfileRow> = sqlx::query_as(
        "SELECT display_name, photo_url, bio FROM mitra_profiles WHERE mitra_id = $1 FOR UPDATE",
    )
    .bind(mitra)
    .fetch_optional(&mut *tx)
    .await?;
    let before = before.unwrap_or(ProfileRow {
        display_name: None,
        photo_url: None,
        bio: String::new(),
    });
    let after = ProfileRow {
        display_name: change
            .display_name
            .clone()
            .or_else(|| before.display_name.clone()),
        photo_url: change
            .photo_url
            .clone()
            .unwrap_or_else(|| before.photo_url.clone()),
        bio: change.bio.clone().unwrap_or_else(|| before.bio.clone()),
    };
    sqlx::query(
        "INSERT INTO mitra_profiles (mitra_id, display_name, photo_url, bio) VALUES ($1, $2, $3, $4)
         ON CONFLICT (mitra_id) DO UPDATE SET display_name = $2, photo_url = $3, bio = $4,
                                              updated_at = now()",
    )
    .bind(mitra)
    .bind(&after.display_name)
    .bind(&after.photo_url)
    .bind(&after.bio)
    .execute(&mut *tx)
    .await?;
    Ok(Some((before.to_json(), after.to_json())))
}
