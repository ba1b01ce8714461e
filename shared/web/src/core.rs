//! [`CoreClient`]: the edges' one typed way to call the core. Every call
//! carries the service credential, the request id and trace context; a call
//! made for a user carries that user's access token (the core verifies it
//! and acts only for that user); each call has a deadline; every failure
//! comes back as the one [`ApiError`] vocabulary.

use std::time::Duration;

use halo_auth::{Auth, UserType};
use halo_proto::v1::{
    self, auth_service_client::AuthServiceClient, config_service_client::ConfigServiceClient,
};
use halo_proto::{ApiError, ON_BEHALF_OF_METADATA, SERVICE_CREDENTIAL_METADATA};
use halo_telemetry::GrpcContextInterceptor;
use secrecy::{ExposeSecret, SecretString};
use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_client::HealthClient;

/// bcrypt-bound calls (sign-ins, refresh) queue behind a low-priority pool
/// under load; past this the edge answers 504 and the app retries.
const SLOW_CALL: Duration = Duration::from_secs(10);
/// Everything else is a few queries.
const QUICK_CALL: Duration = Duration::from_secs(3);

/// Where the core is and how to prove we may call it.
#[derive(Debug, Clone)]
pub struct CoreClientConfig {
    /// `CORE_GRPC_URL`.
    pub url: String,
    /// `CORE_SERVICE_SECRET`.
    pub service_secret: SecretString,
}

/// Adds the service credential and the request's context to every call.
#[derive(Clone)]
pub struct CoreInterceptor {
    credential: AsciiMetadataValue,
}

impl Interceptor for CoreInterceptor {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let mut request = GrpcContextInterceptor.call(request)?;
        request
            .metadata_mut()
            .insert(SERVICE_CREDENTIAL_METADATA, self.credential.clone());
        Ok(request)
    }
}

/// A token pair the core issued, its principal checked present (a pair
/// without one would be a bug of ours, answered as a logged 500).
#[derive(Debug)]
pub struct TokenGrant {
    pub access_token: String,
    pub access_expires_in: i64,
    pub refresh_token: String,
    pub refresh_expires_in: i64,
    pub principal: v1::Principal,
    /// An anonymous customer was upgraded in place.
    pub upgraded: bool,
}

impl TryFrom<v1::TokenPair> for TokenGrant {
    type Error = ApiError;

    fn try_from(pair: v1::TokenPair) -> Result<Self, ApiError> {
        let principal = pair.principal.ok_or_else(|| {
            crate::internal_error(
                "the core sent a token pair without a principal",
                anyhow::anyhow!("TokenPair.principal is missing"),
            )
        })?;
        Ok(Self {
            access_token: pair.access_token,
            access_expires_in: pair.access_expires_in,
            refresh_token: pair.refresh_token,
            refresh_expires_in: pair.refresh_expires_in,
            principal,
            upgraded: pair.upgraded,
        })
    }
}

/// The channel the generated clients run on.
pub type CoreChannel = InterceptedService<Channel, CoreInterceptor>;

/// The core, as the edges call it. Clone freely: one multiplexed HTTP/2 link.
#[derive(Clone)]
pub struct CoreClient {
    channel: CoreChannel,
}

/// A request for the core, made for `auth`'s user when given.
fn request<T>(message: T, auth: Option<&Auth>, deadline: Duration) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.set_timeout(deadline);
    if let Some(auth) = auth
        && let Ok(mut token) = MetadataValue::try_from(auth.token.as_ref())
    {
        token.set_sensitive(true);
        request.metadata_mut().insert(ON_BEHALF_OF_METADATA, token);
    }
    request
}

fn proto_user_type(user_type: UserType) -> i32 {
    match user_type {
        UserType::Customer => v1::UserType::Customer,
        UserType::Mitra => v1::UserType::Mitra,
        UserType::CcUser => v1::UserType::CcUser,
    }
    .into()
}

impl CoreClient {
    /// Connects lazily: an edge starts, and answers `/healthz`, while the
    /// core is still starting; `/readyz` tells when it answers.
    pub fn connect_lazy(config: &CoreClientConfig) -> anyhow::Result<Self> {
        let url = &config.url;
        let endpoint = Endpoint::from_shared(url.clone())
            .map_err(|_| anyhow::anyhow!("CORE_GRPC_URL={url:?} is not a valid http:// URL"))?
            .connect_timeout(Duration::from_secs(1))
            .timeout(SLOW_CALL)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30));
        let mut credential = AsciiMetadataValue::try_from(config.service_secret.expose_secret())
            .map_err(|_| anyhow::anyhow!("CORE_SERVICE_SECRET must be printable ASCII"))?;
        credential.set_sensitive(true);
        Ok(Self {
            channel: InterceptedService::new(
                endpoint.connect_lazy(),
                CoreInterceptor { credential },
            ),
        })
    }

    fn auth(&self) -> AuthServiceClient<CoreChannel> {
        AuthServiceClient::new(self.channel.clone())
    }

    fn config(&self) -> ConfigServiceClient<CoreChannel> {
        ConfigServiceClient::new(self.channel.clone())
    }

    /// The standard health service (readiness).
    pub fn health(&self) -> HealthClient<CoreChannel> {
        HealthClient::new(self.channel.clone())
    }

    pub async fn sign_in_anonymous(&self, client_ip: String) -> Result<TokenGrant, ApiError> {
        let message = v1::SignInAnonymousRequest { client_ip };
        self.auth()
            .sign_in_anonymous(request(message, None, SLOW_CALL))
            .await?
            .into_inner()
            .try_into()
    }

    pub async fn request_otp(
        &self,
        phone: String,
        audience: v1::OtpAudience,
        client_ip: String,
    ) -> Result<v1::RequestOtpResponse, ApiError> {
        let message = v1::RequestOtpRequest {
            phone,
            audience: audience.into(),
            client_ip,
        };
        Ok(self
            .auth()
            .request_otp(request(message, None, QUICK_CALL))
            .await?
            .into_inner())
    }

    /// With `caller` (an anonymous customer's own token), the core upgrades
    /// that account in place.
    pub async fn verify_otp(
        &self,
        phone: String,
        code: String,
        audience: v1::OtpAudience,
        caller: Option<&Auth>,
        client_ip: String,
    ) -> Result<TokenGrant, ApiError> {
        let message = v1::VerifyOtpRequest {
            phone,
            code,
            audience: audience.into(),
            client_ip,
        };
        self.auth()
            .verify_otp(request(message, caller, SLOW_CALL))
            .await?
            .into_inner()
            .try_into()
    }

    pub async fn provider_sign_in(
        &self,
        provider: v1::IdentityProvider,
        id_token: String,
        nonce: Option<String>,
        caller: Option<&Auth>,
    ) -> Result<TokenGrant, ApiError> {
        let message = v1::ProviderSignInRequest {
            provider: provider.into(),
            id_token,
            nonce,
        };
        self.auth()
            .sign_in_with_provider(request(message, caller, SLOW_CALL))
            .await?
            .into_inner()
            .try_into()
    }

    pub async fn cc_login(
        &self,
        email: String,
        password: String,
        client_ip: String,
    ) -> Result<TokenGrant, ApiError> {
        let message = v1::CcLoginRequest {
            email,
            password,
            client_ip,
        };
        self.auth()
            .cc_login(request(message, None, SLOW_CALL))
            .await?
            .into_inner()
            .try_into()
    }

    /// Rotates a refresh token of one of `allowed` session types; the core
    /// refuses any other type before anything rotates.
    pub async fn refresh(
        &self,
        refresh_token: String,
        allowed: &[UserType],
        client_ip: String,
    ) -> Result<TokenGrant, ApiError> {
        let message = v1::RefreshRequest {
            refresh_token,
            allowed_user_types: allowed.iter().copied().map(proto_user_type).collect(),
            client_ip,
        };
        self.auth()
            .refresh(request(message, None, SLOW_CALL))
            .await?
            .into_inner()
            .try_into()
    }

    /// Ends the caller's own session.
    pub async fn logout(&self, caller: &Auth) -> Result<(), ApiError> {
        let message = v1::LogoutRequest {};
        self.auth()
            .logout(request(message, Some(caller), QUICK_CALL))
            .await?;
        Ok(())
    }

    /// Changes the caller's own display name.
    pub async fn update_profile(
        &self,
        caller: &Auth,
        display_name: String,
    ) -> Result<v1::Principal, ApiError> {
        let message = v1::UpdateProfileRequest { display_name };
        Ok(self
            .auth()
            .update_profile(request(message, Some(caller), QUICK_CALL))
            .await?
            .into_inner())
    }

    /// A CC action: a customer's or mitra's status; leaving `active`
    /// revokes their sessions.
    pub async fn set_user_status(
        &self,
        operator: &Auth,
        user_id: uuid::Uuid,
        user_type: v1::UserType,
        status: v1::AccountStatus,
        client_ip: String,
    ) -> Result<v1::SetUserStatusResponse, ApiError> {
        let message = v1::SetUserStatusRequest {
            user_id: user_id.to_string(),
            user_type: user_type.into(),
            status: status.into(),
            client_ip,
        };
        Ok(self
            .auth()
            .set_user_status(request(message, Some(operator), QUICK_CALL))
            .await?
            .into_inner())
    }

    /// A CC action: makes a phone a mitra's.
    pub async fn register_mitra(
        &self,
        operator: &Auth,
        message: v1::RegisterMitraRequest,
    ) -> Result<v1::RegisteredMitra, ApiError> {
        Ok(self
            .auth()
            .register_mitra(request(message, Some(operator), QUICK_CALL))
            .await?
            .into_inner())
    }

    /// An admin's action; hashes the password (bcrypt).
    pub async fn create_cc_user(
        &self,
        admin: &Auth,
        message: v1::CreateCcUserRequest,
    ) -> Result<v1::CcUser, ApiError> {
        Ok(self
            .auth()
            .create_cc_user(request(message, Some(admin), SLOW_CALL))
            .await?
            .into_inner())
    }

    /// An admin's action.
    pub async fn update_cc_user(
        &self,
        admin: &Auth,
        message: v1::UpdateCcUserRequest,
    ) -> Result<v1::CcUser, ApiError> {
        Ok(self
            .auth()
            .update_cc_user(request(message, Some(admin), QUICK_CALL))
            .await?
            .into_inner())
    }

    /// An admin's action; hashes the password (bcrypt).
    pub async fn reset_cc_user_password(
        &self,
        admin: &Auth,
        message: v1::ResetCcUserPasswordRequest,
    ) -> Result<v1::CcUser, ApiError> {
        Ok(self
            .auth()
            .reset_cc_user_password(request(message, Some(admin), SLOW_CALL))
            .await?
            .into_inner())
    }

    /// Every DB knob, at least as new as `min_version`.
    pub async fn knobs(&self, min_version: i64) -> Result<v1::Knobs, ApiError> {
        let message = v1::GetKnobsRequest { min_version };
        Ok(self
            .config()
            .get_knobs(request(message, None, QUICK_CALL))
            .await?
            .into_inner())
    }

    pub async fn settings(&self, operator: &Auth) -> Result<v1::Settings, ApiError> {
        let message = v1::GetSettingsRequest {};
        Ok(self
            .config()
            .get_settings(request(message, Some(operator), QUICK_CALL))
            .await?
            .into_inner())
    }

    /// An admin's change; the core checks the role itself.
    pub async fn update_settings(
        &self,
        admin: &Auth,
        expected_version: String,
        changes_json: String,
        client_ip: String,
    ) -> Result<v1::Settings, ApiError> {
        let message = v1::UpdateSettingsRequest {
            expected_version,
            changes_json,
            client_ip,
        };
        Ok(self
            .config()
            .update_settings(request(message, Some(admin), QUICK_CALL))
            .await?
            .into_inner())
    }

    pub async fn settings_history(
        &self,
        operator: &Auth,
        limit: i32,
        before_id: Option<i64>,
    ) -> Result<v1::SettingsHistory, ApiError> {
        let message = v1::GetSettingsHistoryRequest { limit, before_id };
        Ok(self
            .config()
            .get_settings_history(request(message, Some(operator), QUICK_CALL))
            .await?
            .into_inner())
    }
}
