//! `/api/client/me` and `/api/mitra/me`: the caller's own profile.

use std::sync::LazyLock;

use axum::extract::State;
use halo_auth::Auth;
use halo_proto::ApiError;
use halo_proto::text::{TextRule, clean_text};
use halo_web::{CoreClient, Json};
use regex::Regex;
use serde::Deserialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::services::profile::{self, Profile};

/// A display name: 1 to 60 characters once the surrounding whitespace the
/// core trims is gone, and no control characters anywhere (Postgres text
/// cannot hold NUL; the others break the apps' layouts). The document
/// carries the same pattern (a test keeps them equal).
pub const DISPLAY_NAME_PATTERN: &str = r"^[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^\x00-\x20\x7f-\x9f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]([^\x00-\x1f\x7f-\x9f]{0,58}[^\x00-\x20\x7f-\x9f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$";

static DISPLAY_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(DISPLAY_NAME_PATTERN).expect("DISPLAY_NAME_PATTERN compiles"));

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// 1 to 60 characters, not counting leading and trailing spaces; no
    /// control characters.
    #[schema(
        example = "Sari",
        pattern = r"^[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^\x00-\x20\x7f-\x9f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]([^\x00-\x1f\x7f-\x9f]{0,58}[^\x00-\x20\x7f-\x9f \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?[ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub display_name: String,
}

impl ProfilePatch {
    /// Refuses what the document refuses, before any call to the core, and
    /// returns the name trimmed and in NFC. Hidden and direction-changing
    /// characters get their own codes; then the length and shape rule.
    fn checked(self) -> Result<String, ApiError> {
        let cleaned = clean_text("display_name", &self.display_name, TextRule::DisplayName)
            .map_err(|e| ApiError::invalid_fields(vec![e]))?;
        if DISPLAY_NAME.is_match(&self.display_name) {
            return Ok(cleaned);
        }
        Err(ApiError::invalid_field(
            "display_name",
            "invalid_display_name",
            "a display name is 1 to 60 characters, without control characters",
        ))
    }
}

/// The signed-in customer's profile.
#[utoipa::path(get, path = "/api/client/me", tag = "profile", security(("bearer" = [])),
    responses((status = 200, description = "the profile", body = Profile)))]
pub async fn client_me(State(db): State<PgPool>, auth: Auth) -> Result<Json<Profile>, ApiError> {
    Ok(Json(profile::get(&db, &auth).await?))
}

/// Changes the signed-in customer's display name.
#[utoipa::path(patch, path = "/api/client/me", tag = "profile", security(("bearer" = [])), request_body = ProfilePatch,
    responses((status = 200, description = "the changed profile", body = Profile)))]
pub async fn client_me_patch(
    State(core): State<CoreClient>,
    auth: Auth,
    Json(patch): Json<ProfilePatch>,
) -> Result<Json<Profile>, ApiError> {
    Ok(Json(
        profile::set_display_name(&core, &auth, patch.checked()?).await?,
    ))
}

/// The signed-in mitra's profile.
#[utoipa::path(get, path = "/api/mitra/me", tag = "profile", security(("bearer" = [])),
    responses((status = 200, description = "the profile", body = Profile)))]
pub async fn mitra_me(State(db): State<PgPool>, auth: Auth) -> Result<Json<Profile>, ApiError> {
    Ok(Json(profile::get(&db, &auth).await?))
}

/// Changes the signed-in mitra's display name.
#[utoipa::path(patch, path = "/api/mitra/me", tag = "profile", security(("bearer" = [])), request_body = ProfilePatch,
    responses((status = 200, description = "the changed profile", body = Profile)))]
pub async fn mitra_me_patch(
    State(core): State<CoreClient>,
    auth: Auth,
    Json(patch): Json<ProfilePatch>,
) -> Result<Json<Profile>, ApiError> {
    Ok(Json(
        profile::set_display_name(&core, &auth, patch.checked()?).await?,
    ))
}
