//! The audit log, newest first.

use halo_audit::{AuditRecord, Filter};
use halo_proto::ApiError;
use sqlx::PgPool;

use super::query_failed;

pub async fn list(db: &PgPool, filter: &Filter, limit: u32) -> Result<Vec<AuditRecord>, ApiError> {
    halo_audit::list(db, filter, i64::from(limit) + 1)
        .await
        .map_err(query_failed)
}
