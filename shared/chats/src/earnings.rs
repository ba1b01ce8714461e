//! What a mitra earns: `mitra_revenue_share_percent` of every order they
//! serve (a chat's order when they accept it, an extension's when it is
//! paid), rounded down to whole rupiah. Each order's share is fixed when it
//! is served, so a later change of the knob never rewrites the past.

use chrono::NaiveDate;
use halo_knobs::Knobs;
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

/// The day boundaries earnings are counted in: the business runs on
/// Jakarta time (UTC+7, no daylight saving).
const EARNINGS_TIME_ZONE: &str = "Asia/Jakarta";

/// Records the mitra's share of a served order, in the transaction that
/// served it. Recording an order twice keeps the first.
pub(crate) async fn record(
    tx: &mut PgConnection,
    knobs: &Knobs,
    order: Uuid,
    mitra: Uuid,
    chat: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO mitra_earnings (order_id, mitra_id, chat_id, gross_idr, share_percent, earned_idr)
         SELECT o.id, $2, $3, o.amount_idr, $4, o.amount_idr * $4 / 100 FROM orders o WHERE o.id = $1
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(order)
    .bind(mitra)
    .bind(chat)
    .bind(knobs.mitra_revenue_share_percent)
    .execute(tx)
    .await?;
    Ok(())
}

/// One Jakarta day of a mitra's earnings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, FromRow)]
pub struct EarningsDay {
    #[schema(value_type = String, format = Date, example = "2026-11-26")]
    pub date: NaiveDate,
    /// Orders served that day (chats accepted, extensions paid).
    #[schema(example = 3)]
    pub orders: i64,
    /// What customers paid for them, whole rupiah.
    #[schema(example = 75000)]
    pub gross_idr: i64,
    /// The mitra's share, whole rupiah.
    #[schema(example = 52500)]
    pub earned_idr: i64,
}

/// A mitra's earnings over whole Jakarta days, `from` to `to` inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"from": "2026-11-01", "to": "2026-11-30", "time_zone": "Asia/Jakarta", "currency": "IDR",
    "orders": 3, "gross_idr": 75000, "earned_idr": 52500,
    "days": [{"date": "2026-11-26", "orders": 3, "gross_idr": 75000, "earned_idr": 52500}]}))]
pub struct Earnings {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    #[schema(example = "Asia/Jakarta")]
    pub time_zone: &'static str,
    #[schema(example = "IDR")]
    pub currency: &'static str,
    pub orders: i64,
    pub gross_idr: i64,
    pub earned_idr: i64,
    /// The days with earnings, oldest first; days without are absent.
    pub days: Vec<EarningsDay>,
}

/// The mitra's earnings from `from` to `to` (Jakarta dates, inclusive).
pub async fn earnings(
    db: &PgPool,
    mitra: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Earnings, sqlx::Error> {
    let days: Vec<EarningsDay> = sqlx::query_as(
        "SELECT (earned_at AT TIME ZONE $4)::date AS date, count(*) AS orders,
                sum(gross_idr)::bigint AS gross_idr, sum(earned_idr)::bigint AS earned_idr
         FROM mitra_earnings
         WHERE mitra_id = $1
           AND earned_at >= ($2::date::timestamp AT TIME ZONE $4)
           AND earned_at < (($3::date + 1)::timestamp AT TIME ZONE $4)
         GROUP BY 1 ORDER BY 1",
    )
    .bind(mitra)
    .bind(from)
    .bind(to)
    .bind(EARNINGS_TIME_ZONE)
    .fetch_all(db)
    .await?;
    Ok(Earnings {
        from,
        to,
        time_zone: EARNINGS_TIME_ZONE,
        currency: "IDR",
        orders: days.iter().map(|d| d.orders).sum(),
        gross_idr: days.iter().map(|d| d.gross_idr).sum(),
        earned_idr: days.iter().map(|d| d.earned_idr).sum(),
        days,
    })
}
