//! Mitras for the customer app: public profiles with their availability,
//! available first, then online but full, then offline.
//!
//! Available means (issue 10): the mitra said `online`, their last
//! heartbeat is within `mitra_stale_after_seconds`, their account is active,
//! and the customers they hold are fewer than `max_customers_per_mitra`:
//! the SQL function `mitra_ranks` (migration `..._mitra_ranks.sql`), which
//! matching and ordering use too, ranking every mitra in one set-based
//! query. Suspended mitras are not listed.

use std::fmt;
use std::str::FromStr;

use halo_knobs::Knobs;
use serde::Serialize;
use sqlx::{FromRow, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

/// Whether a customer can have this mitra now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Online, beating, with a free slot.
    Available,
    /// Online and beating, but every slot is taken.
    Busy,
    /// Offline, or silent for longer than `mitra_stale_after_seconds`.
    Offline,
}

impl Availability {
    pub(crate) fn from_rank(rank: i32) -> Self {
        match rank {
            0 => Self::Available,
            1 => Self::Busy,
            _ => Self::Offline,
        }
    }
}

/// A mitra's star ratings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rating {
    /// Mean stars, to two decimals; null before the first rating.
    #[schema(example = 4.75)]
    pub average: Option<f64>,
    #[schema(example = 12)]
    pub count: i64,
}

impl Rating {
    pub(crate) fn from_stats(count: i32, sum: i64) -> Self {
        let average = (count > 0).then(|| (sum as f64 / f64::from(count) * 100.0).round() / 100.0);
        Self {
            average,
            count: i64::from(count),
        }
    }
}

/// What a customer may know about a mitra: the public profile and whether
/// they can be had now. Nothing else (no phone, no account state).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MitraCard {
    pub id: Uuid,
    #[schema(example = "Dewi")]
    pub display_name: String,
    /// An `https://` URL, or null.
    pub photo_url: Option<String>,
    #[schema(example = "Pendengar yang sabar. Suka kopi dan cerita.")]
    pub bio: String,
    pub rating: Rating,
    pub availability: Availability,
}

#[derive(FromRow)]
struct CardRow {
    id: Uuid,
    display_name: String,
    photo_url: Option<String>,
    bio: String,
    rating_count: i32,
    rating_sum: i64,
    rank: i32,
}

impl From<CardRow> for MitraCard {
    fn from(row: CardRow) -> Self {
        Self {
            id: row.id,
            display_name: row.display_name,
            photo_url: row.photo_url,
            bio: row.bio,
            rating: Rating::from_stats(row.rating_count, row.rating_sum),
            availability: Availability::from_rank(row.rank),
        }
    }
}

/// Every listable mitra with `rank` 0 (available), 1 (busy) or 2 (offline).
/// `$1` is `mitra_stale_after_seconds`, `$2` `max_customers_per_mitra`.
const CARDS: &str = "
    SELECT u.id,
           coalesce(p.display_name, u.display_name, 'Bestie') AS display_name,
           p.photo_url,
           coalesce(p.bio, '') AS bio,
           coalesce(p.rating_count, 0) AS rating_count,
           coalesce(p.rating_sum, 0) AS rating_sum,
           r.rank
    FROM users u
    JOIN mitra_ranks($1, $2) r ON r.mitra_id = u.id
    LEFT JOIN mitra_profiles p ON p.mitra_id = u.id
    WHERE u.user_type = 'mitra' AND u.status = 'active'";

/// Where a page ends: the last mitra's availability rank and id. Opaque to
/// the apps (`<rank>.<id>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    rank: i32,
    id: Uuid,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.rank, self.id)
    }
}

impl FromStr for Cursor {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (rank, id) = s.split_once('.').ok_or(())?;
        let rank = match rank {
            "0" => 0,
            "1" => 1,
            "2" => 2,
            _ => return Err(()),
        };
        Ok(Self {
            rank,
            id: id.parse().map_err(|_| ())?,
        })
    }
}

/// One page of mitras.
#[derive(Debug)]
pub struct Page {
    pub mitras: Vec<MitraCard>,
    pub next: Option<Cursor>,
}

/// Up to `limit` mitras after `after`, available first, then busy, then
/// offline, by id within each. Keyset pagination on (rank, id): a mitra
/// whose availability changes between two pages may be shown twice or
/// skipped, which a list that reflects the present cannot avoid.
pub async fn list(
    db: &PgPool,
    knobs: &Knobs,
    after: Option<Cursor>,
    limit: u32,
) -> Result<Page, sqlx::Error> {
    let after = after.unwrap_or(Cursor {
        rank: -1,
        id: Uuid::nil(),
    });
    let rows: Vec<CardRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM ({CARDS}) m WHERE (m.rank, m.id) > ($3, $4) ORDER BY m.rank, m.id LIMIT $5"
    )))
    .bind(knobs.mitra_stale_after_seconds as f64)
    .bind(knobs.max_customers_per_mitra)
    .bind(after.rank)
    .bind(after.id)
    .bind(i64::from(limit) + 1)
    .fetch_all(db)
    .await?;
    let more = rows.len() > limit as usize;
    let rows: Vec<CardRow> = rows.into_iter().take(limit as usize).collect();
    let next = if more {
        rows.last().map(|r| Cursor {
            rank: r.rank,
            id: r.id,
        })
    } else {
        None
    };
    Ok(Page {
        mitras: rows.into_iter().map(MitraCard::from).collect(),
        next,
    })
}

/// One listable mitra, or `None` (no such mitra, or suspended).
pub async fn get(db: &PgPool, knobs: &Knobs, id: Uuid) -> Result<Option<MitraCard>, sqlx::Error> {
    let row: Option<CardRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM ({CARDS}) m WHERE m.id = $3"
    )))
    .bind(knobs.mitra_stale_after_seconds as f64)
    .bind(knobs.max_customers_per_mitra)
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(MitraCard::from))
}
