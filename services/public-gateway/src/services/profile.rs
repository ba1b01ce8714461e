//! The caller's own profile: read straight from Postgres (one primary-key
//! read, no core call), written through the core (which owns `users`).

use halo_auth::Auth;
use halo_proto::ApiError;
use halo_proto::v1;
use halo_web::{CoreClient, db_error, internal_error};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Profile {
    pub id: Uuid,
    /// `customer` or `mitra`.
    #[schema(example = "customer")]
    pub user_type: String,
    pub is_anonymous: bool,
    pub display_name: Option<String>,
    /// Masked, e.g. `+62812****7890`.
    pub phone: Option<String>,
}

/// `+62812****7890`: enough to recognise one's own number, not to read it.
fn mask_phone(e164: &str) -> String {
    let chars: Vec<char> = e164.chars().collect();
    if chars.len() <= 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}

impl TryFrom<v1::Principal> for Profile {
    type Error = ApiError;

    fn try_from(p: v1::Principal) -> Result<Self, ApiError> {
        let user_type = match p.user_type() {
            v1::UserType::Customer => "customer",
            v1::UserType::Mitra => "mitra",
            other => {
                return Err(internal_error(
                    "the core sent a profile of another user type",
                    anyhow::anyhow!("user type {other:?}"),
                ));
            }
        };
        Ok(Self {
            id: p
                .id
                .parse()
                .map_err(|e| internal_error("the core sent a malformed user id", e))?,
            user_type: user_type.to_owned(),
            is_anonymous: p.is_anonymous,
            display_name: p.display_name,
            phone: p.phone.as_deref().map(mask_phone),
        })
    }
}

#[tracing::instrument(skip_all, err(level = "info", Display))]
pub async fn get(db: &PgPool, auth: &Auth) -> Result<Profile, ApiError> {
    let profile: Option<Profile> = sqlx::query_as(
        "SELECT id, user_type, is_anonymous, display_name, phone FROM users WHERE id = $1 AND user_type = $2",
    )
    .bind(auth.user_id)
    .bind(auth.user_type.as_str())
    .fetch_optional(db)
    .await
    .map_err(|e| db_error("profile read failed", e))?;
    let mut profile = profile
        .ok_or_else(|| ApiError::not_found("user_not_found", "this account no longer exists"))?;
    profile.phone = profile.phone.as_deref().map(mask_phone);
    Ok(profile)
}

/// `display_name` comes checked and cleaned from the route; the core, which
/// owns `users`, checks it again.
pub async fn set_display_name(
    core: &CoreClient,
    auth: &Auth,
    display_name: String,
) -> Result<Profile, ApiError> {
    core.update_profile(auth, display_name).await?.try_into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_masked_phone_keeps_only_the_country_prefix_and_last_four_digits() {
        assert_eq!(super::mask_phone("+6281234567890"), "+62812****7890");
    }
}
