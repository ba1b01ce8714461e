//! Who a call comes from and whom it is for. The core trusts no caller:
//!
//! - **From**: every RPC but the standard health and reflection services
//!   carries `CORE_SERVICE_SECRET` in `x-halo-service-credential`, compared
//!   in constant time ([`ServiceGuardLayer`]). Missing or wrong:
//!   `UNAUTHENTICATED`. The secret is shared by exactly the three processes
//!   of one deployment, over loopback, so a bearer secret is enough: a signed
//!   short-lived token would add a clock dependency and protect nothing the
//!   secret does not, since whoever could mint one holds the secret.
//! - **Where**: a core serves one [`Surface`]; an RPC outside it is
//!   `PERMISSION_DENIED` before any logic runs, so the public service's core
//!   never logs an operator in or changes settings.
//! - **For**: a user-scoped call carries the user's access token in
//!   `x-halo-on-behalf-of`; [`Callers`] verifies it here (never trusting an
//!   id in a request field) and, where acting needs more than a signature
//!   (an upgrade, any CC action), checks that the session is still live.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::{Either, Ready, ready};
use halo_auth::{AccessTokens, TokenError, UserType};
use halo_proto::{ON_BEHALF_OF_METADATA, SERVICE_CREDENTIAL_METADATA};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::error::{CoreError, CoreResult};

/// Which RPCs a core answers (`CORE_SURFACE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// Beside public-gateway: the apps' sign-in, refresh, logout, profile.
    Public,
    /// Beside internal-cc: operator login and every CC action.
    Internal,
    /// One core for both edges (the local stack).
    All,
}

impl std::str::FromStr for Surface {
    type Err = &'static str;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "public" => Ok(Self::Public),
            "internal" => Ok(Self::Internal),
            "all" => Ok(Self::All),
            _ => Err("one of public, internal, all"),
        }
    }
}

/// The RPCs of each surface, by gRPC method path. Anything not listed
/// (a future RPC included) is served by `All` only until it is placed here.
const PUBLIC_ONLY: &[&str] = &[
    "/halo.core.v1.AuthService/SignInAnonymous",
    "/halo.core.v1.AuthService/RequestOtp",
    "/halo.core.v1.AuthService/VerifyOtp",
    "/halo.core.v1.AuthService/SignInWithProvider",
    "/halo.core.v1.AuthService/UpdateProfile",
];
const INTERNAL_ONLY: &[&str] = &[
    "/halo.core.v1.AuthService/CcLogin",
    "/halo.core.v1.AuthService/SetUserStatus",
    "/halo.core.v1.AuthService/RegisterMitra",
    "/halo.core.v1.AuthService/CreateCcUser",
    "/halo.core.v1.AuthService/UpdateCcUser",
    "/halo.core.v1.AuthService/ResetCcUserPassword",
    "/halo.core.v1.ConfigService/GetSettings",
    "/halo.core.v1.ConfigService/UpdateSettings",
    "/halo.core.v1.ConfigService/GetSettingsHistory",
];
const BOTH: &[&str] = &[
    "/halo.core.v1.AuthService/Refresh",
    "/halo.core.v1.AuthService/Logout",
    "/halo.core.v1.ConfigService/GetKnobs",
];
/// Open without the credential: probes and `grpcurl list` need them, and
/// they reveal nothing the repository's .proto files do not.
const OPEN_PREFIXES: &[&str] = &[
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
];

impl Surface {
    pub fn serves(self, path: &str) -> bool {
        let listed = |list: &[&str]| list.contains(&path);
        match self {
            Self::All => true,
            Self::Public => listed(PUBLIC_ONLY) || listed(BOTH),
            Self::Internal => listed(INTERNAL_ONLY) || listed(BOTH),
        }
    }

    /// The session types a refresh may rotate on this surface.
    pub fn refreshable(self) -> &'static [UserType] {
        match self {
            Self::Public => &[UserType::Customer, UserType::Mitra],
            Self::Internal => &[UserType::CcUser],
            Self::All => &[UserType::Customer, UserType::Mitra, UserType::CcUser],
        }
    }
}

/// A tower layer in front of every service of the core: the credential
/// check and the surface check, before any request is decoded.
#[derive(Clone)]
pub struct ServiceGuardLayer {
    guard: Arc<Guard>,
}

struct Guard {
    secret: SecretString,
    surface: Surface,
}

impl ServiceGuardLayer {
    pub fn new(secret: SecretString, surface: Surface) -> Self {
        Self {
            guard: Arc::new(Guard { secret, surface }),
        }
    }
}

impl Guard {
    fn check(&self, path: &str, headers: &http::HeaderMap) -> Result<(), tonic::Status> {
        if OPEN_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) {
            return Ok(());
        }
        let presented = headers
            .get(SERVICE_CREDENTIAL_METADATA)
            .map(http::HeaderValue::as_bytes)
            .unwrap_or_default();
        let expected = self.secret.expose_secret().as_bytes();
        if !bool::from(presented.ct_eq(expected)) {
            return Err(halo_proto::ApiError::unauthenticated(
                "invalid_service_credential",
                "this call does not carry the core's service credential",
            )
            .into());
        }
        if !self.surface.serves(path) {
            return Err(halo_proto::ApiError::forbidden(
                "rpc_not_served",
                "this core does not serve that call on its surface",
            )
            .into());
        }
        Ok(())
    }
}

impl<S> tower::Layer<S> for ServiceGuardLayer {
    type Service = ServiceGuard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ServiceGuard {
            inner,
            guard: self.guard.clone(),
        }
    }
}

#[derive(Clone)]
pub struct ServiceGuard<S> {
    inner: S,
    guard: Arc<Guard>,
}

impl<S, B, RB> tower::Service<http::Request<B>> for ServiceGuard<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    RB: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Either<S::Future, Ready<Result<S::Response, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        match self.guard.check(request.uri().path(), request.headers()) {
            Ok(()) => Either::Left(self.inner.call(request)),
            Err(status) => Either::Right(ready(Ok(status.into_http()))),
        }
    }
}

/// The user a call acts for, from a token the core verified itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub user_id: Uuid,
    pub user_type: UserType,
    pub session_id: Uuid,
}

/// An operator acting through the CC, checked live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActingOperator {
    pub id: Uuid,
    pub is_admin: bool,
}

/// Verifies forwarded access tokens and the liveness behind them.
#[derive(Clone)]
pub struct Callers {
    tokens: AccessTokens,
    pool: PgPool,
}

impl Callers {
    pub fn new(tokens: AccessTokens, pool: PgPool) -> Self {
        Self { tokens, pool }
    }

    /// The verified user on whose behalf the call is made, if any. A token
    /// that is present but bad is an error, never "anonymous".
    pub fn on_behalf_of<T>(&self, request: &tonic::Request<T>) -> CoreResult<Option<Caller>> {
        let Some(value) = request.metadata().get(ON_BEHALF_OF_METADATA) else {
            return Ok(None);
        };
        let token = value.to_str().map_err(|_| CoreError::CallerTokenInvalid)?;
        match self.tokens.verify(token) {
            Ok(claims) => Ok(Some(Caller {
                user_id: claims.sub,
                user_type: claims.user_type,
                session_id: claims.session_id,
            })),
            Err(TokenError::Expired) => Err(CoreError::CallerTokenExpired),
            Err(TokenError::Invalid) => Err(CoreError::CallerTokenInvalid),
        }
    }

    /// Like [`Self::on_behalf_of`], for calls that only make sense for a user.
    pub fn required<T>(&self, request: &tonic::Request<T>) -> CoreResult<Caller> {
        self.on_behalf_of(request)?
            .ok_or(CoreError::CallerTokenMissing)
    }

    /// Refuses a token whose session was logged out, revoked or has expired:
    /// a signature alone outlives a logout by up to the access TTL.
    pub async fn require_live_session(&self, caller: &Caller) -> CoreResult<()> {
        let live: Option<bool> = sqlx::query_scalar(
            "SELECT revoked_at IS NULL AND expires_at > now() FROM auth.sessions
             WHERE id = $1 AND user_id = $2",
        )
        .bind(caller.session_id)
        .bind(caller.user_id)
        .fetch_optional(&self.pool)
        .await?;
        match live {
            Some(true) => Ok(()),
            _ => Err(CoreError::SessionRevoked),
        }
    }

    /// A CC action: a `cc_user` token, its session live, the operator not
    /// disabled; with `admin`, the operator must also be an admin.
    pub async fn operator<T>(
        &self,
        request: &tonic::Request<T>,
        admin: bool,
    ) -> CoreResult<ActingOperator> {
        let caller = self.required(request)?;
        if caller.user_type != UserType::CcUser {
            return Err(CoreError::WrongUserType);
        }
        self.require_live_session(&caller).await?;
        let row: Option<(String, bool)> =
            sqlx::query_as("SELECT role, disabled_at IS NULL FROM auth.cc_users WHERE id = $1")
                .bind(caller.user_id)
                .fetch_optional(&self.pool)
                .await?;
        let (role, active) = row.ok_or(CoreError::CallerTokenInvalid)?;
        if !active {
            return Err(CoreError::AccountDisabled);
        }
        let is_admin = role == "admin";
        if admin && !is_admin {
            return Err(CoreError::AdminOnly);
        }
        Ok(ActingOperator {
            id: caller.user_id,
            is_admin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_surface_serves_its_own_calls_and_the_shared_ones() {
        let cc_login = "/halo.core.v1.AuthService/CcLogin";
        let anonymous = "/halo.core.v1.AuthService/SignInAnonymous";
        let refresh = "/halo.core.v1.AuthService/Refresh";
        assert!(!Surface::Public.serves(cc_login));
        assert!(Surface::Public.serves(anonymous));
        assert!(Surface::Internal.serves(cc_login));
        assert!(!Surface::Internal.serves(anonymous));
        for surface in [Surface::Public, Surface::Internal, Surface::All] {
            assert!(surface.serves(refresh));
        }
        assert!(!Surface::Public.serves("/halo.core.v1.AuthService/SomethingNew"));
    }

    #[test]
    fn the_credential_is_compared_exactly() {
        let guard = Guard {
            secret: SecretString::from("s".repeat(32)),
            surface: Surface::All,
        };
        let path = "/halo.core.v1.AuthService/Refresh";
        let with = |value: &str| {
            let mut headers = http::HeaderMap::new();
            headers.insert(SERVICE_CREDENTIAL_METADATA, value.parse().unwrap());
            headers
        };
        assert!(guard.check(path, &with(&"s".repeat(32))).is_ok());
        for wrong in ["", "s", &"s".repeat(31), &"s".repeat(33), &"t".repeat(32)] {
            let status = guard.check(path, &with(wrong)).unwrap_err();
            assert_eq!(status.code(), tonic::Code::Unauthenticated, "{wrong:?}");
        }
        let status = guard.check(path, &http::HeaderMap::new()).unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert!(
            guard
                .check("/grpc.health.v1.Health/Check", &http::HeaderMap::new())
                .is_ok()
        );
    }
}
