//! `GET /api/mitra/earnings`: what the mitra earned, by Jakarta day.

use axum::extract::{Query, State};
use chrono::{Datelike, Duration, FixedOffset, NaiveDate, Utc};
use halo_auth::Auth;
use halo_chats::Earnings;
use halo_proto::ApiError;
use halo_web::{ErrorBody, Json, db_error};
use serde::Deserialize;
use sqlx::PgPool;
use utoipa::IntoParams;

/// The longest range one call may ask for.
const MAX_DAYS: i64 = 366;
/// Dates outside these years are mistakes (and some outside Postgres'
/// range); refused rather than sent to the database.
const FIRST_YEAR: i32 = 2000;
const LAST_YEAR: i32 = 9999;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EarningsQuery {
    /// First day, `YYYY-MM-DD` in Asia/Jakarta; default the first of `to`'s month.
    #[param(value_type = Option<String>, format = Date, pattern = "^[2-9][0-9]{3}-[0-9]{2}-[0-9]{2}$", example = "2026-11-01")]
    pub from: Option<NaiveDate>,
    /// Last day, inclusive; default today in Asia/Jakarta.
    #[param(value_type = Option<String>, format = Date, pattern = "^[2-9][0-9]{3}-[0-9]{2}-[0-9]{2}$", example = "2026-11-30")]
    pub to: Option<NaiveDate>,
}

/// Today's date in Jakarta (UTC+7 all year).
fn jakarta_today() -> NaiveDate {
    let jakarta = FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    Utc::now().with_timezone(&jakarta).date_naive()
}

/// The mitra's share of the orders they served (chats accepted, extensions
/// paid) between two Jakarta dates, with a line per day.
#[utoipa::path(get, path = "/api/mitra/earnings", operation_id = "mitra_earnings", tag = "mitras",
    security(("bearer" = [])), params(EarningsQuery),
    responses(
        (status = 200, description = "totals and the days with earnings", body = Earnings),
        (status = 400, description = "`validation_failed` (`from` after `to`, more than 366 days, or a year \
            outside 2000–9999), or `bad_request` (a date is not `YYYY-MM-DD`)", body = ErrorBody)))]
pub async fn earnings(
    State(db): State<PgPool>,
    auth: Auth,
    Query(query): Query<EarningsQuery>,
) -> Result<Json<Earnings>, ApiError> {
    let to = query.to.unwrap_or_else(jakarta_today);
    let from = query.from.unwrap_or_else(|| to.with_day(1).unwrap_or(to));
    for (field, date) in [("from", from), ("to", to)] {
        if !(FIRST_YEAR..=LAST_YEAR).contains(&date.year()) {
            return Err(ApiError::invalid_field(
                field,
                "out_of_range",
                format!("a date from {FIRST_YEAR} to {LAST_YEAR}"),
            ));
        }
    }
    if from > to {
        return Err(ApiError::invalid_field(
            "from",
            "after_to",
            "from must not be after to",
        ));
    }
    if to - from >= Duration::days(MAX_DAYS) {
        return Err(ApiError::invalid_field(
            "to",
            "range_too_long",
            format!("at most {MAX_DAYS} days per call"),
        ));
    }
    halo_chats::earnings(&db, auth.user_id, from, to)
        .await
        .map(Json)
        .map_err(|e| db_error("reading earnings failed", e))
}
