//! Presence: the status a mitra sets is written at once (it is the truth);
//! heartbeats are gathered in memory and flushed as one UPDATE a second.
//!
//! At 5,000 mitras beating every 30 s that is ~170 beats a second; one
//! statement a second per instance instead of one per beat keeps Postgres'
//! write load flat however many mitras beat, at the price of a beat showing
//! up to a second late (and being lost if the instance dies before the
//! flush, which the next beat 30 s later repairs long before
//! `mitra_stale_after_seconds`, at least two cadences, counts it stale).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

/// What a mitra says about themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    Online,
    Offline,
}

impl PresenceStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Offline => "offline",
        }
    }
}

/// A mitra's presence as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Presence {
    pub status: PresenceStatus,
    /// When the status last changed (not when it was last repeated).
    pub status_changed_at: DateTime<Utc>,
}

/// Sets the mitra's status. Going online also counts as a heartbeat, so a
/// mitra is available from this answer on, not from the next beat.
pub async fn set_presence(
    db: &PgPool,
    mitra_id: Uuid,
    status: PresenceStatus,
) -> Result<Presence, sqlx::Error> {
    let changed_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO mitra_presence AS p (mitra_id, status) VALUES ($1, $2)
         ON CONFLICT (mitra_id) DO UPDATE SET
             status = EXCLUDED.status,
             status_changed_at = CASE WHEN p.status = EXCLUDED.status
                                      THEN p.status_changed_at ELSE now() END,
             last_beat_at = now()
         RETURNING status_changed_at",
    )
    .bind(mitra_id)
    .bind(status.as_str())
    .fetch_one(db)
    .await?;
    Ok(Presence {
        status,
        status_changed_at: changed_at,
    })
}

/// Heartbeats received by this instance and not yet written; cheap to
/// clone (one shared set).
#[derive(Debug, Clone, Default)]
pub struct Heartbeats {
    pending: Arc<Mutex<HashSet<Uuid>>>,
}

impl Heartbeats {
    /// Notes a beat; no I/O, so a beat costs a hash insert on the request
    /// path.
    pub fn beat(&self, mitra_id: Uuid) {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(mitra_id);
    }

    /// Writes every beat noted since the last flush in one statement and
    /// returns how many mitras it covered. A mitra who never set a status
    /// has no row, and their beats change nothing. On an error the beats
    /// are dropped: the next ones arrive within a cadence.
    pub async fn flush(&self, db: &PgPool) -> Result<usize, sqlx::Error> {
        let ids: Vec<Uuid> = std::mem::take(
            &mut *self
                .pending
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
        .into_iter()
        .collect();
        if ids.is_empty() {
            return Ok(0);
        }
        sqlx::query("UPDATE mitra_presence SET last_beat_at = now() WHERE mitra_id = ANY($1)")
            .bind(&ids)
            .execute(db)
            .await?;
        Ok(ids.len())
    }
}

/// Takes a mitra offline in the caller's transaction (a suspension); a
/// mitra who never set a status stays without a row.
pub async fn go_offline(tx: &mut sqlx::PgConnection, mitra_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE mitra_presence SET status = 'offline',
             status_changed_at = CASE WHEN status = 'offline' THEN status_changed_at ELSE now() END
         WHERE mitra_id = $1",
    )
    .bind(mitra_id)
    .execute(tx)
    .await?;
    Ok(())
}
