//! `/internal/mitras`: register, edit, suspend and activate mitras.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use halo_mitras::{MitraRecord, ProfileChange, RosterFilter};
use halo_proto::ApiError;
use halo_proto::text::{TextRule, clean_text, optional_note};
use halo_web::{EdgeState, ErrorBody, Json, split_page};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::roles::Operator;
use crate::services::mitras::{self as service, Suspension};

const BIO_MAX: usize = 1000;
const PHOTO_URL_MAX: usize = 2048;

/// An account status filter.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    Suspended,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only mitras in this account status.
    #[param(inline)]
    pub status: Option<AccountStatus>,
    /// `true`: only those reachable now (available or full); `false`: only
    /// those who are not.
    pub online: Option<bool>,
    /// Part of the name, or the start of the phone in E.164 (`+62812...`).
    #[param(
        max_length = 100,
        example = "Dewi",
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub q: Option<String>,
    /// At most this many (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct MitraList {
    pub items: Vec<MitraRecord>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<Uuid>,
}

/// Every mitra, suspended ones included, newest first.
#[utoipa::path(get, path = "/internal/mitras", operation_id = "cc_list_mitras", tag = "mitras", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "a page of mitras", body = MitraList),
        (status = 400, description = "`validation_failed` (`limit`, `q`) or `bad_request` (a parameter of the wrong type)", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody)))]
pub async fn list(
    State(state): State<EdgeState>,
    _operator: Operator,
    Query(query): Query<ListQuery>,
) -> Result<Json<MitraList>, ApiError> {
    let limit = super::page_limit(query.limit)?;
    let search = super::search_text(query.q)?;
    let filter = RosterFilter {
        status: query.status.map(|s| match s {
            AccountStatus::Active => "active".to_owned(),
            AccountStatus::Suspended => "suspended".to_owned(),
        }),
        online: query.online,
        search,
        before: query.cursor,
    };
    let rows = service::list(&state, &filter, limit).await?;
    let (items, next_cursor) = split_page(rows, limit, |m| m.id);
    Ok(Json(MitraList { items, next_cursor }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"phone": "081200000001", "display_name": "Dewi",
    "photo_url": "https://cdn.halobestie.id/mitra/dewi.jpg", "bio": "Pendengar yang sabar."}))]
pub struct NewMitra {
    /// Any form auth accepts (`08…`, `628…`, `+628…`); stored in E.164.
    #[schema(max_length = 20)]
    pub phone: String,
    #[schema(min_length = 1, max_length = 60, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub display_name: String,
    /// An `https://` URL.
    #[schema(max_length = 2048, pattern = "^https://[^\\x00-\\x20\\x7f-\\x9f]+$")]
    pub photo_url: Option<String>,
    #[schema(
        max_length = 1000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub bio: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"bio": "Pendengar yang sabar. Suka kopi dan cerita."}))]
pub struct MitraChange {
    #[schema(min_length = 1, max_length = 60, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub display_name: Option<String>,
    /// An `https://` URL; `null` removes the photo.
    #[serde(default, deserialize_with = "present")]
    #[schema(max_length = 2048, pattern = "^https://[^\\x00-\\x20\\x7f-\\x9f]+$")]
    pub photo_url: Option<Option<String>>,
    #[schema(
        max_length = 1000,
        pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
    )]
    pub bio: Option<String>,
}

/// A field sent as `null` is `Some(None)`; one left out stays `None`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn display_name(raw: &str) -> Result<String, ApiError> {
    let name = clean_text("display_name", raw, TextRule::DisplayName)?;
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ApiError::invalid_field(
            "display_name",
            "invalid_display_name",
            "a display name is 1 to 60 characters",
        ));
    }
    Ok(name)
}

fn photo_url(raw: &str) -> Result<String, ApiError> {
    let url = clean_text("photo_url", raw, TextRule::Line)?;
    if !url.starts_with("https://")
        || url.len() > PHOTO_URL_MAX
        || url.contains(char::is_whitespace)
    {
        return Err(ApiError::invalid_field(
            "photo_url",
            "invalid_photo_url",
            "an https:// URL of at most 2048 characters",
        ));
    }
    Ok(url)
}

fn profile_change(
    display_name_raw: Option<&str>,
    photo: Option<Option<&str>>,
    bio: Option<String>,
) -> Result<ProfileChange, ApiError> {
    Ok(ProfileChange {
        display_name: display_name_raw.map(display_name).transpose()?,
        photo_url: photo.map(|p| p.map(photo_url).transpose()).transpose()?,
        bio: match bio {
            Some(bio) => Some(optional_note("bio", Some(bio), BIO_MAX)?.unwrap_or_default()),
            None => None,
        },
    })
}

/// Registers a phone as a mitra's (OTP sign-in on the mitra app works from
/// now on) with their public profile.
#[utoipa::path(post, path = "/internal/mitras", operation_id = "cc_create_mitra", tag = "mitras", security(("bearer" = [])),
    request_body = NewMitra,
    responses((status = 201, description = "the mitra, offline until they sign in and go online", body = MitraRecord),
        (status = 400, description = "`validation_failed` (`phone`, `display_name`, `photo_url`, `bio`)", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 409, description = "`phone_taken`: the phone is a mitra's already", body = ErrorBody)))]
pub async fn create(
    State(state): State<EdgeState>,
    operator: Operator,
    Json(body): Json<NewMitra>,
) -> Result<(StatusCode, Json<MitraRecord>), ApiError> {
    let name = display_name(&body.display_name)?;
    let profile = profile_change(None, body.photo_url.as_deref().map(Some), body.bio)?;
    let mitra = service::create(&state, &operator, body.phone, name, profile).await?;
    Ok((StatusCode::CREATED, Json(mitra)))
}

/// One mitra.
#[utoipa::path(get, path = "/internal/mitras/{id}", operation_id = "cc_get_mitra", tag = "mitras", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the mitra's user id")),
    responses((status = 200, description = "the mitra", body = MitraRecord),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 404, description = "`mitra_not_found`", body = ErrorBody)))]
pub async fn get(
    State(state): State<EdgeState>,
    _operator: Operator,
    Path(id): Path<Uuid>,
) -> Result<Json<MitraRecord>, ApiError> {
    Ok(Json(service::get(&state, id).await?))
}

/// Changes the public profile; fields left out stay as they are.
#[utoipa::path(patch, path = "/internal/mitras/{id}", operation_id = "cc_update_mitra", tag = "mitras", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the mitra's user id")), request_body = MitraChange,
    responses((status = 200, description = "the mitra after the change", body = MitraRecord),
        (status = 400, description = "`validation_failed` (`display_name`, `photo_url`, `bio`) or `bad_request`", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 404, description = "`mitra_not_found`", body = ErrorBody)))]
pub async fn update(
    State(state): State<EdgeState>,
    operator: Operator,
    Path(id): Path<Uuid>,
    Json(body): Json<MitraChange>,
) -> Result<Json<MitraRecord>, ApiError> {
    let change = profile_change(
        body.display_name.as_deref(),
        body.photo_url.as_ref().map(Option::as_deref),
        body.bio,
    )?;
    Ok(Json(service::update(&state, &operator, id, &change).await?))
}

/// Takes a mitra out of service: their sessions end (the next refresh
/// fails), their running chats end (`ended_by: operator`), chats offered to
/// them go to others, and they go offline. Safe to repeat.
#[utoipa::path(post, path = "/internal/mitras/{id}/suspend", operation_id = "cc_suspend_mitra", tag = "mitras", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the mitra's user id")),
    responses((status = 200, description = "what the suspension did", body = Suspension),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 404, description = "`mitra_not_found`", body = ErrorBody)))]
pub async fn suspend(
    State(state): State<EdgeState>,
    operator: Operator,
    Path(id): Path<Uuid>,
) -> Result<Json<Suspension>, ApiError> {
    Ok(Json(service::suspend(&state, &operator, id).await?))
}

/// Puts a suspended mitra back in service: they may sign in again.
#[utoipa::path(post, path = "/internal/mitras/{id}/activate", operation_id = "cc_activate_mitra", tag = "mitras", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the mitra's user id")),
    responses((status = 200, description = "the mitra", body = MitraRecord),
        (status = 400, description = "`bad_request`: the id is not a UUID", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 404, description = "`mitra_not_found`", body = ErrorBody)))]
pub async fn activate(
    State(state): State<EdgeState>,
    operator: Operator,
    Path(id): Path<Uuid>,
) -> Result<Json<MitraRecord>, ApiError> {
    Ok(Json(service::activate(&state, &operator, id).await?))
}
