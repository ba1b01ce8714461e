//! `/api/client/me` and `/api/mitra/me`: the caller's own profile.

use axum::extract::State;
use halo_auth::Auth;
use halo_proto::ApiError;
use halo_web::{CoreChannel, Json};
use serde::Deserialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::services::profile::{self, Profile};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// 1 to 60 characters once leading and trailing whitespace (Unicode
    /// `White_Space`, which the core trims) is removed.
    #[schema(
        example = "Sari",
        pattern = r"^[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]([\s\S]{0,58}[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub display_name: String,
}

/// The signed-in customer's profile.
#[utoipa::path(get, path = "/api/client/me", tag = "profile", security(("bearer" = [])),
    responses((status = 200, description = "the profile", body = Profile)))]
pub async fn client_me(State(db): State<PgPool>, auth: Auth) -> Result<Json<Profile>, ApiError> {
    Ok(Json(profile::get(&db, auth).await?))
}

/// Changes the signed-in customer's display name.
#[utoipa::path(patch, path = "/api/client/me", tag = "profile", security(("bearer" = [])), request_body = ProfilePatch,
    responses((status = 200, description = "the changed profile", body = Profile)))]
pub async fn client_me_patch(
    State(core): State<CoreChannel>,
    auth: Auth,
    Json(patch): Json<ProfilePatch>,
) -> Result<Json<Profile>, ApiError> {
    Ok(Json(
        profile::set_display_name(&core, auth, patch.display_name).await?,
    ))
}

/// The signed-in mitra's profile.
#[utoipa::path(get, path = "/api/mitra/me", tag = "profile", security(("bearer" = [])),
    responses((status = 200, description = "the profile", body = Profile)))]
pub async fn mitra_me(State(db): State<PgPool>, auth: Auth) -> Result<Json<Profile>, ApiError> {
    Ok(Json(profile::get(&db, auth).await?))
}

/// Changes the signed-in mitra's display name.
#[utoipa::path(patch, path = "/api/mitra/me", tag = "profile", security(("bearer" = [])), request_body = ProfilePatch,
    responses((status = 200, description = "the changed profile", body = Profile)))]
pub async fn mitra_me_patch(
    State(core): State<CoreChannel>,
    auth: Auth,
    Json(patch): Json<ProfilePatch>,
) -> Result<Json<Profile>, ApiError> {
    Ok(Json(
        profile::set_display_name(&core, auth, patch.display_name).await?,
    ))
}
