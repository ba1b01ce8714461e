//! What the routes call: each function forwards to the core or to a domain
//! crate, writes its audit entry in the action's transaction, and shapes
//! the answer for the control center.

pub mod audit_log;
pub mod cc_users;
pub mod chats;
pub mod customers;
pub mod dashboard;
pub mod mitras;
pub mod operators;
pub mod orders;
pub mod reports;
pub mod session;
pub mod settings;

use halo_proto::ApiError;

/// The core's `user_not_found` in the words of the route's resource.
fn not_found_as(err: ApiError, not_found: fn() -> ApiError) -> ApiError {
    if err.code == "user_not_found" {
        not_found()
    } else {
        err
    }
}

fn query_failed(err: sqlx::Error) -> ApiError {
    halo_web::db_error("a control center query failed", err)
}
