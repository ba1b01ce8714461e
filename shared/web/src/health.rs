//! `/healthz` (the process is alive) and `/readyz` (Postgres answers and the
//! core answers its gRPC health check).

use std::time::Duration;

use axum::extract::{FromRef, State};
use axum::response::IntoResponse;
use halo_proto::{ApiError, ErrorKind, FieldError};
use serde::Serialize;
use sqlx::PgPool;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{CoreClient, Json, KnobCache};

const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Serialize, ToSchema)]
pub struct Status {
    #[schema(example = "ok")]
    status: &'static str,
}

/// The health routes, documented in the edge's OpenAPI.
pub fn health_routes<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    PgPool: FromRef<S>,
    CoreClient: FromRef<S>,
    KnobCache: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// The process is up; no dependency is checked (Cloud Run liveness).
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "alive", body = Status)))]
async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// Ready for traffic: Postgres and the core both answer, and the DB knobs
/// are loaded.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "ready", body = Status),
    (status = 503, description = "a dependency is down; `details` names it", body = crate::ErrorBody)))]
async fn readyz(
    State(db): State<PgPool>,
    State(core): State<CoreClient>,
    State(knobs): State<KnobCache>,
) -> axum::response::Response {
    let (db, core) = tokio::join!(check_db(&db), check_core(&core));
    let knobs = if knobs.is_loaded() {
        Ok(())
    } else {
        Err("the DB knobs are not loaded yet".to_owned())
    };
    let failures: Vec<FieldError> = [("postgres", db), ("core", core), ("knobs", knobs)]
        .into_iter()
        .filter_map(|(field, result)| {
            result.err().map(|message| FieldError {
                field: field.to_owned(),
                code: "unavailable".to_owned(),
                message,
            })
        })
        .collect();
    if failures.is_empty() {
        return Json(Status { status: "ok" }).into_response();
    }
    ApiError {
        details: failures,
        ..ApiError::new(
            ErrorKind::Unavailable,
            "not_ready",
            "a dependency is unavailable",
        )
    }
    .into_response()
}

async fn check_db(db: &PgPool) -> Result<(), String> {
    match tokio::time::timeout(CHECK_TIMEOUT, sqlx::query("SELECT 1").execute(db)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(_)) => Err("postgres is unreachable".to_owned()),
        Err(_) => Err("postgres did not answer within 1 s".to_owned()),
    }
}

async fn check_core(core: &CoreClient) -> Result<(), String> {
    let mut client = core.health();
    let check = client.check(HealthCheckRequest {
        service: String::new(),
    });
    match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(Ok(response)) if response.get_ref().status() == ServingStatus::Serving => Ok(()),
        Ok(Ok(_)) => Err("the core reports not serving".to_owned()),
        Ok(Err(_)) => Err("the core is unreachable".to_owned()),
        Err(_) => Err("the core did not answer within 1 s".to_owned()),
    }
}
