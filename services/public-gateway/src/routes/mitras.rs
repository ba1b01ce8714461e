//! `/api/client/mitras`: the mitras a customer can choose from.

use axum::extract::{Path, Query, State};
use halo_auth::Auth;
use halo_mitras::{Cursor, MitraCard};
use halo_proto::ApiError;
use halo_web::{ErrorBody, Json, KnobCache, db_error};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// At most this many mitras (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page, as given.
    #[param(
        pattern = "^[0-2]\\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        example = "0.019ab8f0-6d2e-7c41-9a7e-3f5b2c1d0e9f"
    )]
    pub cursor: Option<String>,
}

/// A page of mitras: available first, then busy, then offline.
#[derive(Serialize, ToSchema)]
pub struct MitraPage {
    pub mitras: Vec<MitraCard>,
    /// Pass as `cursor` for the next page; null on the last page.
    #[schema(example = "2.019ab8f0-6d2e-7c41-9a7e-3f5b2c1d0e9f")]
    pub next_cursor: Option<String>,
}

/// The mitras, available ones first (then online but full, then offline),
/// with their public profile. Availability changes all the time: a page
/// is a snapshot.
#[utoipa::path(get, path = "/api/client/mitras", operation_id = "list_mitras", tag = "mitras", security(("bearer" = [])), params(ListQuery),
    responses(
        (status = 200, description = "a page of mitras", body = MitraPage, example = json!({"mitras": [{"id": "019ab8f0-6d2e-7c41-9a7e-3f5b2c1d0e9f", "display_name": "Dewi",
                "photo_url": "https://cdn.halobestie.id/mitra/dewi.jpg", "bio": "Pendengar yang sabar.",
                "rating": {"average": 4.75, "count": 12}, "availability": "available"}], "next_cursor": null})),
        (status = 400, description = "`validation_failed` (field `limit` or `cursor`), or `bad_request` \
            (`limit` is not a number)", body = ErrorBody)))]
pub async fn list(
    State(db): State<PgPool>,
    State(knobs): State<KnobCache>,
    _auth: Auth,
    Query(query): Query<ListQuery>,
) -> Result<Json<MitraPage>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let after = query
        .cursor
        .map(|c| {
            c.parse::<Cursor>().map_err(|()| {
                ApiError::invalid_field(
                    "cursor",
                    "invalid_cursor",
                    "pass back next_cursor as it was given",
                )
            })
        })
        .transpose()?;
    let knobs = knobs.current()?;
    let page = halo_mitras::list(&db, &knobs.knobs, after, limit)
        .await
        .map_err(|e| db_error("listing mitras failed", e))?;
    Ok(Json(MitraPage {
        mitras: page.mitras,
        next_cursor: page.next.map(|c| c.to_string()),
    }))
}

/// One mitra's public profile and availability.
#[utoipa::path(get, path = "/api/client/mitras/{id}", operation_id = "get_mitra", tag = "mitras", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the mitra's id")),
    responses(
        (status = 200, description = "the mitra", body = MitraCard, example = json!({"id": "019ab8f0-6d2e-7c41-9a7e-3f5b2c1d0e9f", "display_name": "Dewi",
                "photo_url": "https://cdn.halobestie.id/mitra/dewi.jpg", "bio": "Pendengar yang sabar.",
                "rating": {"average": 4.75, "count": 12}, "availability": "available"})),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 404, description = "`mitra_not_found`: no such mitra (or not listed)", body = ErrorBody)))]
pub async fn get(
    State(db): State<PgPool>,
    State(knobs): State<KnobCache>,
    _auth: Auth,
    Path(id): Path<Uuid>,
) -> Result<Json<MitraCard>, ApiError> {
    let knobs = knobs.current()?;
    halo_mitras::get(&db, &knobs.knobs, id)
        .await
        .map_err(|e| db_error("reading a mitra failed", e))?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("mitra_not_found", "no such mitra"))
}
