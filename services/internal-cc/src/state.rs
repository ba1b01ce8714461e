//! The one `Clone` state; handlers take the piece they need via `FromRef`.

use std::sync::Arc;

use axum::extract::FromRef;
use halo_auth::AccessTokens;
use halo_web::{CoreChannel, Readiness};
use sqlx::PgPool;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub tokens: AccessTokens,
    pub db: PgPool,
    pub core: CoreChannel,
    pub origins: AllowedOrigins,
}

/// The SPA origins allowed to use the refresh cookie.
#[derive(Clone, Debug)]
pub struct AllowedOrigins(pub Arc<Vec<String>>);

impl FromRef<AppState> for Readiness {
    fn from_ref(state: &AppState) -> Self {
        Readiness {
            db: state.db.clone(),
            core: state.core.clone(),
        }
    }
}
