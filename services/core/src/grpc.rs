//! Thin gRPC adapters: decode the request, establish whom it is for
//! ([`crate::caller`]), call a plain async function, encode the answer.
//! Errors map through `CoreError -> Status` in one place.

use halo_auth::UserType;
use halo_proto::v1::{
    self, auth_service_server::AuthService, config_service_server::ConfigService,
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::auth::Auth;
use crate::auth::accounts::{CcUserChange, Standing};
use crate::auth::otp::Audience;
use crate::auth::providers::Provider;
use crate::caller::{ActingOperator, Callers};
use crate::error::{CoreError, CoreResult};
use crate::settings::SettingsStore;

type Reply<T> = Result<Response<T>, Status>;

fn uuid(field: &str, raw: &str) -> Result<Uuid, CoreError> {
    raw.parse()
        .map_err(|_| CoreError::invalid(field, "invalid_id", "not a valid id"))
}

impl Auth {
    /// The anonymous (or phone-less) customer a sign-in may upgrade in
    /// place: only the one whose own token came with the call, and only
    /// while its session is live (a logged-out token upgrades nothing).
    async fn upgrade_target<T>(&self, request: &Request<T>) -> CoreResult<Option<Uuid>> {
        match self.callers.on_behalf_of(request)? {
            Some(caller) if caller.user_type == UserType::Customer => {
                self.callers.require_live_session(&caller).await?;
                Ok(Some(caller.user_id))
            }
            _ => Ok(None),
        }
    }
}

/// The edge's view of the caller's address, in one spelling per address;
/// anything else (a caller that sent none or garbage) shares one bucket.
fn client_ip(raw: &str) -> String {
    raw.parse::<std::net::IpAddr>()
        .map(|ip| ip.to_canonical().to_string())
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The audit entry's actor: the operator the core verified, the request id
/// the edge forwarded (if usable) and the address the edge saw.
fn audit_actor<T>(
    operator: ActingOperator,
    request: &Request<T>,
    raw_client_ip: &str,
) -> halo_audit::Actor {
    halo_audit::Actor {
        operator_id: operator.id,
        request_id: request
            .metadata()
            .get(halo_proto::REQUEST_ID_METADATA)
            .and_then(|v| v.to_str().ok())
            .filter(|id| halo_telemetry::usable_request_id(id))
            .map(str::to_owned),
        client_ip: Some(client_ip(raw_client_ip)),
    }
}

fn audience(value: i32) -> Result<Audience, CoreError> {
    match v1::OtpAudience::try_from(value) {
        Ok(v1::OtpAudience::Customer) => Ok(Audience::Customer),
        Ok(v1::OtpAudience::Mitra) => Ok(Audience::Mitra),
        _ => Err(CoreError::invalid(
            "audience",
            "invalid_audience",
            "customer or mitra",
        )),
    }
}

fn user_type(value: i32) -> Option<UserType> {
    match v1::UserType::try_from(value) {
        Ok(v1::UserType::Customer) => Some(UserType::Customer),
        Ok(v1::UserType::Mitra) => Some(UserType::Mitra),
        Ok(v1::UserType::CcUser) => Some(UserType::CcUser),
        _ => None,
    }
}

#[tonic::async_trait]
impl AuthService for Auth {
    async fn sign_in_anonymous(
        &self,
        request: Request<v1::SignInAnonymousRequest>,
    ) -> Reply<v1::TokenPair> {
        let ip = client_ip(&request.into_inner().client_ip);
        Ok(Response::new(self.sign_in_anonymous(&ip).await?))
    }

    async fn request_otp(
        &self,
        request: Request<v1::RequestOtpRequest>,
    ) -> Reply<v1::RequestOtpResponse> {
        let r = request.into_inner();
        let issued = self
            .otp
            .request(&r.phone, audience(r.audience)?, &client_ip(&r.client_ip))
            .await?;
        Ok(Response::new(v1::RequestOtpResponse {
            phone: issued.phone.to_string(),
            expires_in: issued.expires_in as i64,
            resend_after: issued.resend_after as i64,
        }))
    }

    async fn verify_otp(&self, request: Request<v1::VerifyOtpRequest>) -> Reply<v1::TokenPair> {
        let upgrade = self.upgrade_target(&request).await?;
        let r = request.into_inner();
        Ok(Response::new(
            self.verify_otp(
                &r.phone,
                &r.code,
                audience(r.audience)?,
                upgrade,
                &client_ip(&r.client_ip),
            )
            .await?,
        ))
    }

    async fn sign_in_with_provider(
        &self,
        request: Request<v1::ProviderSignInRequest>,
    ) -> Reply<v1::TokenPair> {
        let upgrade = self.upgrade_target(&request).await?;
        let r = request.into_inner();
        let provider = match v1::IdentityProvider::try_from(r.provider) {
            Ok(v1::IdentityProvider::Google) => Provider::Google,
            Ok(v1::IdentityProvider::Apple) => Provider::Apple,
            _ => {
                return Err(
                    CoreError::invalid("provider", "invalid_provider", "google or apple").into(),
                );
            }
        };
        let pair = self
            .sign_in_with_provider(provider, &r.id_token, r.nonce.as_deref(), upgrade)
            .await?;
        Ok(Response::new(pair))
    }

    async fn cc_login(&self, request: Request<v1::CcLoginRequest>) -> Reply<v1::TokenPair> {
        let r = request.into_inner();
        Ok(Response::new(
            self.cc_login(&r.email, &r.password, &client_ip(&r.client_ip))
                .await?,
        ))
    }

    async fn refresh(&self, request: Request<v1::RefreshRequest>) -> Reply<v1::TokenPair> {
        let r = request.into_inner();
        // What the caller asks for, narrowed to what this core's surface may
        // rotate; asking for nothing is a mistake, never "anything".
        let surface = self.surface.refreshable();
        let allowed: Vec<UserType> = r
            .allowed_user_types
            .iter()
            .filter_map(|t| user_type(*t))
            .filter(|t| surface.contains(t))
            .collect();
        if allowed.is_empty() {
            return Err(CoreError::invalid(
                "allowed_user_types",
                "invalid_user_types",
                "name the session types this edge may refresh",
            )
            .into());
        }
        let pair = self
            .sessions
            .refresh(&r.refresh_token, &allowed, &client_ip(&r.client_ip))
            .await?;
        Ok(Response::new(pair))
    }

    async fn logout(&self, request: Request<v1::LogoutRequest>) -> Reply<v1::LogoutResponse> {
        let caller = self.callers.required(&request)?;
        self.sessions.logout(caller.session_id).await?;
        Ok(Response::new(v1::LogoutResponse {}))
    }

    async fn update_profile(
        &self,
        request: Request<v1::UpdateProfileRequest>,
    ) -> Reply<v1::Principal> {
        let caller = self.callers.required(&request)?;
        if caller.user_type == UserType::CcUser {
            return Err(CoreError::WrongUserType.into());
        }
        let r = request.into_inner();
        Ok(Response::new(
            self.update_profile(caller.user_id, &r.display_name).await?,
        ))
    }

    async fn set_user_status(
        &self,
        request: Request<v1::SetUserStatusRequest>,
    ) -> Reply<v1::SetUserStatusResponse> {
        let operator = self.callers.operator(&request, false).await?;
        let actor = audit_actor(operator, &request, &request.get_ref().client_ip);
        let r = request.into_inner();
        let user_id = uuid("user_id", &r.user_id)?;
        let target = user_type(r.user_type).ok_or(CoreError::UserNotFound)?;
        let status = Standing::from_proto(r.status).ok_or_else(|| {
            CoreError::invalid("status", "invalid_status", "active, suspended or blocked")
        })?;
        let change = self
            .set_user_status(&actor, user_id, target, status)
            .await?;
        Ok(Response::new(v1::SetUserStatusResponse {
            previous: change.previous.to_proto().into(),
            status: change.status.to_proto().into(),
            sessions_revoked: change.sessions_revoked as i64,
        }))
    }

    async fn register_mitra(
        &self,
        request: Request<v1::RegisterMitraRequest>,
    ) -> Reply<v1::RegisteredMitra> {
        let operator = self.callers.operator(&request, false).await?;
        let actor = audit_actor(operator, &request, &request.get_ref().client_ip);
        let r = request.into_inner();
        Ok(Response::new(
            self.register_mitra(&actor, &r.phone, &r.display_name)
                .await?,
        ))
    }

    async fn create_cc_user(&self, request: Request<v1::CreateCcUserRequest>) -> Reply<v1::CcUser> {
        let admin = self.callers.operator(&request, true).await?;
        let actor = audit_actor(admin, &request, &request.get_ref().client_ip);
        let r = request.into_inner();
        Ok(Response::new(
            self.create_cc_user(
                &actor,
                &r.email,
                r.display_name.as_deref(),
                &r.role,
                r.password,
            )
            .await?,
        ))
    }

    async fn update_cc_user(&self, request: Request<v1::UpdateCcUserRequest>) -> Reply<v1::CcUser> {
        let admin = self.callers.operator(&request, true).await?;
        let actor = audit_actor(admin, &request, &request.get_ref().client_ip);
        let r = request.into_inner();
        let id = uuid("id", &r.id)?;
        let change = CcUserChange {
            role: r.role,
            disabled: r.disabled,
            display_name: r.display_name,
        };
        Ok(Response::new(
            self.update_cc_user(&actor, id, change).await?,
        ))
    }

    async fn reset_cc_user_password(
        &self,
        request: Request<v1::ResetCcUserPasswordRequest>,
    ) -> Reply<v1::CcUser> {
        let admin = self.callers.operator(&request, true).await?;
        let actor = audit_actor(admin, &request, &request.get_ref().client_ip);
        let r = request.into_inner();
        let id = uuid("id", &r.id)?;
        Ok(Response::new(
            self.reset_cc_password(&actor, id, r.password).await?,
        ))
    }
}

/// The config service: knobs for the edges, the settings page for operators.
#[derive(Clone)]
pub struct ConfigRpc {
    pub settings: SettingsStore,
    pub callers: Callers,
}

#[tonic::async_trait]
impl ConfigService for ConfigRpc {
    async fn get_knobs(&self, request: Request<v1::GetKnobsRequest>) -> Reply<v1::Knobs> {
        let min_version = request.into_inner().min_version;
        Ok(Response::new(self.settings.knobs(min_version).await?))
    }

    async fn get_settings(&self, request: Request<v1::GetSettingsRequest>) -> Reply<v1::Settings> {
        self.callers.operator(&request, false).await?;
        Ok(Response::new(self.settings.settings()))
    }

    async fn update_settings(
        &self,
        request: Request<v1::UpdateSettingsRequest>,
    ) -> Reply<v1::Settings> {
        let admin = self.callers.operator(&request, true).await?;
        let actor = audit_actor(admin, &request, &request.get_ref().client_ip);
        let r = request.into_inner();
        let changes: serde_json::Value = serde_json::from_str(&r.changes_json).map_err(|_| {
            CoreError::invalid(
                "settings",
                "malformed_json",
                "changes must be a JSON object",
            )
        })?;
        Ok(Response::new(
            self.settings
                .update(&r.expected_version, &changes, &actor)
                .await?,
        ))
    }

    async fn get_settings_history(
        &self,
        request: Request<v1::GetSettingsHistoryRequest>,
    ) -> Reply<v1::SettingsHistory> {
        self.callers.operator(&request, false).await?;
        let r = request.into_inner();
        Ok(Response::new(
            self.settings.history(r.limit, r.before_id).await?,
        ))
    }
}
