//! Mobile sign-in: anonymous, phone OTP, Google/Apple, refresh, logout.

use halo_auth::{Auth, UserType};
use halo_proto::ApiError;
use halo_proto::v1;
use halo_web::{CoreClient, TokenGrant};
use serde::Serialize;
use utoipa::ToSchema;

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

impl TryFrom<TokenGrant> for TokenResponse {
    type Error = ApiError;

    fn try_from(grant: TokenGrant) -> Result<Self, ApiError> {
        Ok(Self {
            access_token: grant.access_token,
            token_type: "Bearer",
            expires_in: grant.access_expires_in,
            refresh_token: grant.refresh_token,
            refresh_expires_in: grant.refresh_expires_in,
            user: Profile::try_from(grant.principal)?,
            upgraded: grant.upgraded,
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

pub async fn anonymous(core: &CoreClient, client_ip: String) -> Result<TokenResponse, ApiError> {
    core.sign_in_anonymous(client_ip).await?.try_into()
}

pub async fn request_otp(
    core: &CoreClient,
    phone: String,
    audience: v1::OtpAudience,
    client_ip: String,
) -> Result<OtpSent, ApiError> {
    let sent = core.request_otp(phone, audience, client_ip).await?;
    Ok(OtpSent {
        phone: sent.phone,
        expires_in: sent.expires_in,
        resend_after: sent.resend_after,
    })
}

/// Only an anonymous customer's own token can ask for an upgrade; the core
/// verifies it again and checks the session is live.
fn upgrade_source(caller: Option<&Auth>) -> Option<&Auth> {
    caller.filter(|auth| auth.user_type == UserType::Customer)
}

pub async fn verify_otp(
    core: &CoreClient,
    phone: String,
    code: String,
    audience: v1::OtpAudience,
    caller: Option<&Auth>,
    client_ip: String,
) -> Result<TokenResponse, ApiError> {
    let caller = match audience {
        v1::OtpAudience::Customer => upgrade_source(caller),
        _ => None,
    };
    core.verify_otp(phone, code, audience, caller, client_ip)
        .await?
        .try_into()
}

pub async fn provider_sign_in(
    core: &CoreClient,
    provider: v1::IdentityProvider,
    id_token: String,
    nonce: Option<String>,
    caller: Option<&Auth>,
) -> Result<TokenResponse, ApiError> {
    core.provider_sign_in(provider, id_token, nonce, upgrade_source(caller))
        .await?
        .try_into()
}

/// Mobile sessions only: the core refuses a CC session's token before
/// rotating it.
pub async fn refresh(
    core: &CoreClient,
    refresh_token: String,
    client_ip: String,
) -> Result<TokenResponse, ApiError> {
    core.refresh(
        refresh_token,
        &[UserType::Customer, UserType::Mitra],
        client_ip,
    )
    .await?
    .try_into()
}
