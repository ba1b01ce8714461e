//! CC sign-in: password login, cookie-based refresh, logout.

use halo_auth::UserType;
use halo_proto::ApiError;
use halo_proto::text::{TextRule, clean_text};
use halo_proto::v1;
use halo_web::{CoreClient, TokenGrant, internal_error};
use serde::Serialize;
use utoipa::ToSchema;

use super::operators::OperatorProfile;
use crate::roles::Role;

/// What the SPA keeps in memory. The refresh token is never in a body: it
/// travels only in the httpOnly cookie.
#[derive(Debug, Serialize, ToSchema)]
pub struct CcTokens {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    #[schema(example = 3600)]
    pub expires_in: i64,
    pub user: OperatorProfile,
}

/// The body for the SPA, and the refresh token with its lifetime for the cookie.
pub struct Issued {
    pub tokens: CcTokens,
    pub refresh_token: String,
    pub refresh_expires_in: i64,
}

impl TryFrom<TokenGrant> for Issued {
    type Error = ApiError;

    fn try_from(grant: TokenGrant) -> Result<Self, ApiError> {
        let principal = grant.principal;
        if principal.user_type() != v1::UserType::CcUser {
            return Err(ApiError::unauthenticated(
                "invalid_refresh_token",
                "the refresh token is invalid",
            ));
        }
        Ok(Self {
            tokens: CcTokens {
                access_token: grant.access_token,
                token_type: "Bearer",
                expires_in: grant.access_expires_in,
                user: OperatorProfile {
                    id: principal
                        .id
                        .parse()
                        .map_err(|e| internal_error("the core sent a malformed user id", e))?,
                    email: principal.email.unwrap_or_default(),
                    display_name: principal.display_name,
                    role: principal
                        .role
                        .as_deref()
                        .and_then(Role::parse)
                        .ok_or_else(ApiError::internal)?,
                },
            },
            refresh_token: grant.refresh_token,
            refresh_expires_in: grant.refresh_expires_in,
        })
    }
}

pub async fn login(
    core: &CoreClient,
    email: String,
    password: String,
    client_ip: String,
) -> Result<Issued, ApiError> {
    let email = clean_text("email", &email, TextRule::Line)?;
    core.cc_login(email, password, client_ip).await?.try_into()
}

/// CC sessions only: the core refuses an app session's token before
/// rotating it.
pub async fn refresh(
    core: &CoreClient,
    refresh_token: String,
    client_ip: String,
) -> Result<Issued, ApiError> {
    core.refresh(refresh_token, &[UserType::CcUser], client_ip)
        .await?
        .try_into()
}
