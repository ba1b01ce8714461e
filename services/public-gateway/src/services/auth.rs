//! Mobile sign-in: anonymous, phone OTP, Google/Apple, refresh, logout.

use halo_auth::{Auth, UserType};
use halo_proto::ApiError;
use halo_proto::v1::{self, auth_service_client::AuthServiceClient};
use halo_web::CoreChannel;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::profile::Profile;

/// A fresh token pair and who it is for.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// JWT (HS256); send as `Authorization: Bearer …`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 3600)]
    pub expires_in: i64,
    /// Opaque; single use. Store it securely and send it to
    /// `/api/shared/auth/refresh` for the next pair.
    pub refresh_token: String,
    #[schema(example = 2_592_000)]
    pub refresh_expires_in: i64,
    pub user: Profile,
    /// True when this sign-in upgraded the caller's anonymous account in
    /// place (same user id, history kept).
    pub upgraded: bool,
}

impl TryFrom<v1::TokenPair> for TokenResponse {
    type Error = ApiError;

    fn try_from(pair: v1::TokenPair) -> Result<Self, ApiError> {
        let principal = pair.principal.ok_or_else(ApiError::internal)?;
        Ok(Self {
            access_token: pair.access_token,
            token_type: "Bearer",
            expires_in: pair.access_expires_in,
            refresh_token: pair.refresh_token,
            refresh_expires_in: pair.refresh_expires_in,
            user: Profile::try_from(principal)?,
            upgraded: pair.upgraded,
        })
    }
}

/// A code was sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct OtpSent {
    /// The number the code went to, normalised to E.164.
    #[schema(example = "+6281234567890")]
    pub phone: String,
    /// Seconds until the code expires.
    pub expires_in: i64,
    /// Seconds before another code may be requested.
    pub resend_after: i64,
}

fn client(core: &CoreChannel) -> AuthServiceClient<CoreChannel> {
    AuthServiceClient::new(core.clone())
}

pub async fn anonymous(core: &CoreChannel, client_ip: String) -> Result<TokenResponse, ApiError> {
    client(core)
        .sign_in_anonymous(v1::SignInAnonymousRequest { client_ip })
        .await?
        .into_inner()
        .try_into()
}

pub async fn request_otp(
    core: &CoreChannel,
    phone: String,
    audience: v1::OtpAudience,
    client_ip: String,
) -> Result<OtpSent, ApiError> {
    let sent = client(core)
        .request_otp(v1::RequestOtpRequest {
            phone,
            audience: audience.into(),
            client_ip,
        })
        .await?
        .into_inner();
    Ok(OtpSent {
        phone: sent.phone,
        expires_in: sent.expires_in,
        resend_after: sent.resend_after,
    })
}

/// Only an anonymous customer's own, verified token can ask for an
/// upgrade; the core checks the account is still eligible.
fn upgrade_target(caller: Option<Auth>) -> Option<String> {
    caller
        .filter(|auth| auth.user_type == UserType::Customer)
        .map(|auth| auth.user_id.to_string())
}

pub async fn verify_otp(
    core: &CoreChannel,
    phone: String,
    code: String,
    audience: v1::OtpAudience,
    caller: Option<Auth>,
    client_ip: String,
) -> Result<TokenResponse, ApiError> {
    let upgrade_user_id = match audience {
        v1::OtpAudience::Customer => upgrade_target(caller),
        _ => None,
    };
    client(core)
        .verify_otp(v1::VerifyOtpRequest {
            phone,
            code,
            audience: audience.into(),
            upgrade_user_id,
            client_ip,
        })
        .await?
        .into_inner()
        .try_into()
}

pub async fn provider_sign_in(
    core: &CoreChannel,
    provider: v1::IdentityProvider,
    id_token: String,
    nonce: Option<String>,
    caller: Option<Auth>,
) -> Result<TokenResponse, ApiError> {
    client(core)
        .sign_in_with_provider(v1::ProviderSignInRequest {
            provider: provider.into(),
            id_token,
            nonce,
            upgrade_user_id: upgrade_target(caller),
        })
        .await?
        .into_inner()
        .try_into()
}

/// Mobile sessions only: the core refuses a CC session's token before
/// rotating it.
pub async fn refresh(
    core: &CoreChannel,
    refresh_token: String,
    client_ip: String,
) -> Result<TokenResponse, ApiError> {
    client(core)
        .refresh(v1::RefreshRequest {
            refresh_token,
            client_ip,
            allowed_user_types: vec![v1::UserType::Customer.into(), v1::UserType::Mitra.into()],
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
