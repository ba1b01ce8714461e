//! HTTP shape only: extract, call a service function, map the result.

pub mod auth;
pub mod chats;
pub mod config;
pub mod devices;
pub mod earnings;
pub mod extensions;
pub mod feedback;
pub mod me;
pub mod messages;
pub mod mitras;
pub mod orders;
pub mod presence;
pub mod webhooks;

use halo_auth::{Auth, UserType};
use halo_chats::Role;
use halo_proto::ApiError;

/// The app a token is for: the routes only the customer and mitra apps
/// use (the socket, its tickets, devices) refuse a CC token with 403.
pub fn app_role(auth: &Auth) -> Result<Role, ApiError> {
    match auth.user_type {
        UserType::Customer => Ok(Role::Customer),
        UserType::Mitra => Ok(Role::Mitra),
        UserType::CcUser => Err(ApiError::forbidden(
            "wrong_user_type",
            "this is for the customer and mitra apps",
        )),
    }
}

/// A list's `limit` parameter: 1 to 100, default 20.
pub fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    halo_web::page_limit(limit, 20, 100)
}
