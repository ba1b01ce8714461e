//! The dashboard: one snapshot of what is happening now, and a feed that
//! pushes it to every open `GET /internal/events` stream when it changes,
//! with each new report. One poller per instance (every 2 s, one query
//! plus one for new reports) serves any number of operators; the CC itself
//! never polls.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use halo_chats::ReportRecord;
use halo_proto::ApiError;
use halo_web::KnobCache;
use serde::Serialize;
use sqlx::{FromRow, PgPool};
use tokio::sync::broadcast;
use utoipa::ToSchema;
use uuid::Uuid;

use super::query_failed;

const POLL_EVERY: Duration = Duration::from_secs(2);

/// Now, and today in Asia/Jakarta (the business day of the team).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, ToSchema)]
#[schema(example = json!({"mitras_online": 42, "mitras_available": 17, "chats_offered": 3, "chats_active": 61,
    "orders_today": 318, "revenue_today_idr": 7450000, "refunds_pending": 2, "reports_open": 5,
    "day_started_at": "2026-11-25T17:00:00Z"}))]
pub struct Dashboard {
    /// Online and heartbeating (available or full).
    pub mitras_online: i64,
    /// Online with a free slot: a new order can be served now.
    pub mitras_available: i64,
    /// Paid chats waiting for a mitra to accept.
    pub chats_offered: i64,
    pub chats_active: i64,
    /// Orders placed today (every state but the internal ones).
    pub orders_today: i64,
    /// Whole rupiah paid today, refunded orders left out.
    #[schema(example = 1250000)]
    pub revenue_today_idr: i64,
    /// Paid orders never served: refunds to make in Xendit.
    pub refunds_pending: i64,
    pub reports_open: i64,
    /// The start of today in Asia/Jakarta, as UTC.
    pub day_started_at: DateTime<Utc>,
}

/// `$1` is `mitra_stale_after_seconds`, `$2` `max_customers_per_mitra`.
const DASHBOARD: &str = "
    WITH day AS (SELECT date_trunc('day', now() AT TIME ZONE 'Asia/Jakarta')
                        AT TIME ZONE 'Asia/Jakarta' AS started_at),
         ranks AS (SELECT rank FROM mitra_ranks($1, $2))
    SELECT (SELECT count(*) FROM ranks WHERE rank < 2) AS mitras_online,
           (SELECT count(*) FROM ranks WHERE rank = 0) AS mitras_available,
           (SELECT count(*) FROM chats WHERE status = 'offered') AS chats_offered,
           (SELECT count(*) FROM chats WHERE status = 'active') AS chats_active,
           (SELECT count(*) FROM orders, day WHERE created_at >= day.started_at
                AND status NOT IN ('creating', 'failed')) AS orders_today,
           (SELECT coalesce(sum(amount_idr), 0)::bigint FROM orders, day
                WHERE paid_at >= day.started_at AND status <> 'refunded') AS revenue_today_idr,
           (SELECT count(*) FROM orders WHERE status = 'refund_required') AS refunds_pending,
           (SELECT count(*) FROM chat_reports WHERE status = 'open') AS reports_open,
           day.started_at AS day_started_at
    FROM day";

pub async fn snapshot(db: &PgPool, knobs: &KnobCache) -> Result<Dashboard, ApiError> {
    let knobs = knobs.current()?;
    sqlx::query_as(DASHBOARD)
        .bind(knobs.knobs.mitra_stale_after_seconds as f64)
        .bind(knobs.knobs.max_customers_per_mitra)
        .fetch_one(db)
        .await
        .map_err(query_failed)
}

/// What the events stream carries.
#[derive(Debug, Clone)]
pub enum FeedEvent {
    Dashboard(Arc<Dashboard>),
    ReportOpened(Arc<ReportRecord>),
}

/// The instance's dashboard poller and its subscribers.
#[derive(Clone)]
pub struct DashboardFeed {
    events: broadcast::Sender<FeedEvent>,
}

/// What the poller remembers between rounds.
#[derive(Default)]
struct Seen {
    dashboard: Option<Dashboard>,
    /// The newest report announced (or, while nobody watches, opened).
    newest_report: Option<Uuid>,
}

impl DashboardFeed {
    /// Starts polling; the task ends when the last handle is dropped.
    pub fn start(db: PgPool, knobs: KnobCache) -> Self {
        let (events, _) = broadcast::channel(64);
        let weak = events.downgrade();
        tokio::spawn(async move {
            let mut seen = Seen::default();
            let mut tick = tokio::time::interval(POLL_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(events) = weak.upgrade() else { return };
                let result = if events.receiver_count() == 0 {
                    // Nobody watches: only keep the report mark current (an
                    // index lookup), so a new watcher hears of every report
                    // opened after it arrived and of no older one.
                    seen.dashboard = None;
                    halo_chats::newest_report_id(&db)
                        .await
                        .map(|id| seen.newest_report = Some(id))
                        .map_err(query_failed)
                } else {
                    poll(&db, &knobs, &events, &mut seen).await
                };
                if let Err(err) = result {
                    tracing::warn!(error = %err.message, code = %err.code, "dashboard poll failed");
                }
            }
        });
        Self { events }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<FeedEvent> {
        self.events.subscribe()
    }
}

async fn poll(
    db: &PgPool,
    knobs: &KnobCache,
    events: &broadcast::Sender<FeedEvent>,
    seen: &mut Seen,
) -> Result<(), ApiError> {
    let now = snapshot(db, knobs).await?;
    if seen.dashboard.as_ref() != Some(&now) {
        seen.dashboard = Some(now.clone());
        let _ = events.send(FeedEvent::Dashboard(Arc::new(now)));
    }
    let after = match seen.newest_report {
        Some(after) => after,
        None => {
            seen.newest_report = Some(
                halo_chats::newest_report_id(db)
                    .await
                    .map_err(query_failed)?,
            );
            return Ok(());
        }
    };
    let opened = halo_chats::reports_after(db, after)
        .await
        .map_err(query_failed)?;
    if let Some(last) = opened.last() {
        seen.newest_report = Some(last.id);
    }
    for report in opened {
        let _ = events.send(FeedEvent::ReportOpened(Arc::new(report)));
    }
    Ok(())
}
