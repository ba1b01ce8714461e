//! CC sign-in: password login, cookie-based refresh, logout.

use halo_proto::ApiError;
use halo_proto::text::{TextRule, clean_text};
use halo_proto::v1::{self, auth_service_client::AuthServiceClient};
use halo_web::CoreChannel;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::operators::Operator;

/// What the SPA keeps in memory. The refresh token is never in a body: it
/// travels only in the httpOnly cookie.
#[derive(Debug, Serialize, ToSchema)]
pub struct CcTokens {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    #[schema(example = 3600)]
    pub expires_in: i64,
    pub user: Operator,
}

/// The body for the SPA, and the refresh token with its lifetime for the cookie.
pub struct Issued {
    pub tokens: CcTokens,
    pub refresh_token: String,
    pub refresh_expires_in: i64,
}

impl TryFrom<v1::TokenPair> for Issued {
    type Error = ApiError;

    fn try_from(pair: v1::TokenPair) -> Result<Self, ApiError> {
        let principal = pair.principal.ok_or_else(ApiError::internal)?;
        if principal.user_type() != v1::UserType::CcUser {
            return Err(ApiError::unauthenticated(
                "invalid_refresh_token",
                "the refresh token is invalid",
            ));
        }
        Ok(Self {
            tokens: CcTokens {
                access_token: pair.access_token,
                token_type: "Bearer",
                expires_in: pair.access_expires_in,
                user: Operator {
                    id: principal.id.parse().map_err(|_| ApiError::internal())?,
                    email: principal.email.unwrap_or_default(),
                    display_name: principal.display_name,
                    role: principal.role.unwrap_or_default(),
                },
            },
            refresh_token: pair.refresh_token,
            refresh_expires_in: pair.refresh_expires_in,
        })
    }
}

fn client(core: &CoreChannel) -> AuthServiceClient<CoreChannel> {
    AuthServiceClient::new(core.clone())
}

pub async fn login(
    core: &CoreChannel,
    email: String,
    password: String,
    client_ip: String,
) -> Result<Issued, ApiError> {
    let email = clean_text("email", &email, TextRule::Line)?;
    client(core)
        .cc_login(v1::CcLoginRequest {
            email,
            password,
            client_ip,
        })
        .await?
        .into_inner()
        .try_into()
}

pub async fn refresh(
    core: &CoreChannel,
    refresh_token: String,
    client_ip: String,
) -> Result<Issued, ApiError> {
    client(core)
        .refresh(v1::RefreshRequest {
            refresh_token,
            client_ip,
            allowed_user_types: vec![v1::UserType::CcUser.into()],
        })
        .await?
        .into_inner()
        .try_into()
}

pub async fn logout(core: &CoreChannel, session_id: Uuid) -> Result<(), ApiError> {
    client(core)
        .logout(v1::LogoutRequest {
            session_id: session_id.to_string(),
        })
        .await?;
    Ok(())
}
