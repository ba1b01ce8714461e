//! The device registry: which FCM tokens reach a user, and the session
//! that registered each (its logout removes it).

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Android,
    Ios,
}

impl Platform {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Android => "android",
            Self::Ios => "ios",
        }
    }

    pub(crate) fn parse(platform: &str) -> Self {
        if platform == "ios" {
            Self::Ios
        } else {
            Self::Android
        }
    }
}

/// Registers (or moves) a token to this user and session: a phone signed
/// into another account now pushes to that one only.
pub async fn register(
    db: &PgPool,
    user: Uuid,
    session: Uuid,
    token: &str,
    platform: Platform,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO push_devices (token, user_id, session_id, platform) VALUES ($1, $2, $3, $4)
         ON CONFLICT (token) DO UPDATE SET user_id = EXCLUDED.user_id, session_id = EXCLUDED.session_id,
                                           platform = EXCLUDED.platform, updated_at = now()",
    )
    .bind(token)
    .bind(user)
    .bind(session)
    .bind(platform.as_str())
    .execute(db)
    .await?;
    Ok(())
}

/// Removes one of the user's tokens; false when they have no such token.
pub async fn unregister(db: &PgPool, user: Uuid, token: &str) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM push_devices WHERE token = $1 AND user_id = $2")
            .bind(token)
            .bind(user)
            .execute(db)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Removes the tokens a session registered (at its logout).
pub async fn forget_session(db: &PgPool, session: Uuid) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM push_devices WHERE session_id = $1")
            .bind(session)
            .execute(db)
            .await?
            .rows_affected(),
    )
}

/// A user's tokens.
pub(crate) async fn tokens_of(
    db: &PgPool,
    user: Uuid,
) -> Result<Vec<(String, Platform)>, sqlx::Error> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT token, platform FROM push_devices WHERE user_id = $1")
            .bind(user)
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(token, platform)| (token, Platform::parse(&platform)))
        .collect())
}

/// Forgets a token FCM called dead.
pub(crate) async fn prune(db: &PgPool, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM push_devices WHERE token = $1")
        .bind(token)
        .execute(db)
        .await?;
    Ok(())
}
