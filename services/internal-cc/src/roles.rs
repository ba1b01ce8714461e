//! Who may call a CC route, as types: a handler that takes [`Operator`] can
//! only run for an active CC user, one that takes [`Admin`] only for an
//! active admin. A new route states its audience in its signature and
//! cannot forget to check.
//!
//! Both read the operator's row on every request (one primary-key read,
//! ~60 µs), so disabling a CC user takes effect on their next request
//! rather than when their access token expires. The core checks again on
//! every CC action it performs.

use std::ops::Deref;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use halo_auth::Auth;
use halo_proto::ApiError;
use halo_web::EdgeState;
use serde::Serialize;
use utoipa::ToSchema;

use crate::services::operators::{self, OperatorProfile};

/// A CC user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including CC users, settings changes and refunds.
    Admin,
    /// Day-to-day operations.
    Operator,
}

impl Role {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "admin" => Some(Self::Admin),
            "operator" => Some(Self::Operator),
            _ => None,
        }
    }
}

/// An active CC user of any role, with the verified token to act with.
#[derive(Debug, Clone)]
pub struct Operator {
    pub auth: Auth,
    pub profile: OperatorProfile,
}

impl FromRequestParts<EdgeState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &EdgeState) -> Result<Self, ApiError> {
        let auth = Auth::from_request_parts(parts, state).await?;
        let profile = operators::active(&state.db, auth.user_id).await?;
        Ok(Self { auth, profile })
    }
}

/// An active admin.
#[derive(Debug, Clone)]
pub struct Admin(pub Operator);

impl Deref for Admin {
    type Target = Operator;

    fn deref(&self) -> &Operator {
        &self.0
    }
}

impl FromRequestParts<EdgeState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &EdgeState) -> Result<Self, ApiError> {
        let operator = Operator::from_request_parts(parts, state).await?;
        if operator.profile.role != Role::Admin {
            return Err(ApiError::forbidden(
                "admin_only",
                "only an admin may do this",
            ));
        }
        Ok(Self(operator))
    }
}
