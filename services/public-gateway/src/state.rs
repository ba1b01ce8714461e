//! The one `Clone` state; handlers take the piece they need via `FromRef`.

use axum::extract::FromRef;
use halo_auth::AccessTokens;
use halo_web::{CoreChannel, Readiness};
use sqlx::PgPool;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub tokens: AccessTokens,
    pub db: PgPool,
    pub core: CoreChannel,
}

impl FromRef<AppState> for Readiness {
    fn from_ref(state: &AppState) -> Self {
        Readiness {
            db: state.db.clone(),
            core: state.core.clone(),
        }
    }
}
