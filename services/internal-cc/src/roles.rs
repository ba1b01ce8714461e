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
use halo_web::{ClientIp, EdgeState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::services::operators::{self, OperatorProfile};

/// A CC user's role. Named `CcRole` in the document: a chat's `Role`
/// (customer or mitra) is another schema there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = CcRole)]
pub enum Role {
    /// Everything, including CC users, settings changes and refunds.
    Admin,
    /// Day-to-day operations.
    Operator,
}

/// For reading the `role` column (its CHECK allows no other value).
impl TryFrom<String> for Role {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value).ok_or(value)
    }
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Operator => "operator",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "admin" => Some(Self::Admin),
            "operator" => Some(Self::Operator),
            _ => None,
        }
    }
}

/// An active CC user of any role, with the verified token to act with and
/// what their audit entries record about the request.
#[derive(Debug, Clone)]
pub struct Operator {
    pub auth: Auth,
    pub profile: OperatorProfile,
    request_id: Option<String>,
    client_ip: ClientIp,
}

impl Operator {
    /// Who acts, for an audit entry written here.
    pub fn actor(&self) -> halo_audit::Actor {
        halo_audit::Actor {
            operator_id: self.profile.id,
            request_id: self.request_id.clone(),
            client_ip: Some(self.client_ip.to_string()),
        }
    }

    /// The operator's address, for an action the core audits.
    pub fn client_ip(&self) -> String {
        self.client_ip.to_string()
    }
}

impl FromRequestParts<EdgeState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &EdgeState) -> Result<Self, ApiError> {
        let auth = Auth::from_request_parts(parts, state).await?;
        let profile = operators::active(&state.db, auth.user_id).await?;
        let Ok(client_ip) = ClientIp::from_request_parts(parts, state).await;
        // Set (or replaced when unusable) by the edge's request-id layer.
        let request_id = parts
            .headers
            .get(halo_proto::REQUEST_ID_METADATA)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Self {
            auth,
            profile,
            request_id,
            client_ip,
        })
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
