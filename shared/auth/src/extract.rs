//! The axum side: [`Auth`] from a Bearer token, and the layer that makes a
//! whole router require one user type.

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use halo_proto::ApiError;
use std::sync::Arc;
use uuid::Uuid;

use crate::{AccessTokens, TokenError, UserType};

/// The verified caller (the seed's `request.auth`).
#[derive(Clone, PartialEq, Eq)]
pub struct Auth {
    pub user_type: UserType,
    pub user_id: Uuid,
    pub session_id: Uuid,
    /// The verified access token itself, forwarded to the core on calls
    /// made for this user (the core verifies it again; it trusts no caller).
    pub token: Arc<str>,
}

/// Never prints the token: `Auth` ends up in spans and error messages.
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("user_type", &self.user_type)
            .field("user_id", &self.user_id)
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

impl AccessTokens {
    /// Verifies the `Authorization: Bearer` header. `Ok(None)` when absent.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Option<Auth>, ApiError> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Ok(None);
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthenticated(
                    "invalid_token",
                    "the Authorization header must be `Bearer <access token>`",
                )
            })?;
        match self.verify(token) {
            Ok(claims) => Ok(Some(Auth {
                user_type: claims.user_type,
                user_id: claims.sub,
                session_id: claims.session_id,
                token: Arc::from(token),
            })),
            Err(TokenError::Expired) => Err(ApiError::unauthenticated(
                "token_expired",
                "the access token has expired; refresh it",
            )),
            Err(TokenError::Invalid) => Err(ApiError::unauthenticated(
                "invalid_token",
                "the access token is invalid",
            )),
        }
    }
}

/// The 401 for a route called without an access token.
pub fn missing_token() -> ApiError {
    ApiError::unauthenticated("missing_token", "this route needs an access token")
}

impl<S> FromRequestParts<S> for Auth
where
    AccessTokens: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Some(auth) = parts.extensions.get::<Auth>() {
            return Ok(auth.clone());
        }
        AccessTokens::from_ref(state)
            .authenticate(&parts.headers)?
            .ok_or_else(missing_token)
    }
}

/// For public routes that behave differently for a signed-in caller: absent
/// is `None`, but a present and bad token is still a 401.
impl<S> OptionalFromRequestParts<S> for Auth
where
    AccessTokens: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, ApiError> {
        AccessTokens::from_ref(state).authenticate(&parts.headers)
    }
}

/// The future of the guard's middleware.
type GuardFuture = std::pin::Pin<Box<dyn Future<Output = Response> + Send>>;

/// A layer making every route of a router require a token of `user_type`:
/// no or bad token → 401, another user type → 403. Handlers then take
/// [`Auth`] from the request without verifying twice.
pub fn require_user_type(
    tokens: AccessTokens,
    user_type: UserType,
) -> axum::middleware::FromFnLayer<impl Fn(Request, Next) -> GuardFuture + Clone, (), (Request,)> {
    middleware::from_fn(move |mut request: Request, next: Next| {
        let tokens = tokens.clone();
        Box::pin(async move {
            let auth = match tokens.authenticate(request.headers()) {
                Ok(Some(auth)) => auth,
                Ok(None) => return missing_token().into_response(),
                Err(err) => return err.into_response(),
            };
            if auth.user_type != user_type {
                return ApiError::forbidden(
                    "wrong_user_type",
                    "this account type may not use this part of the API",
                )
                .into_response();
            }
            request.extensions_mut().insert(auth);
            next.run(request).await
        }) as GuardFuture
    })
}
