//! The audit log (issue 12): who did what to what, when, from where. Sole
//! writer of `audit_log`. An entry is written with [`record`] on the
//! connection of the transaction that performs the action, so an action
//! that rolls back leaves no entry and one that commits always has one.
//! Both internal-cc (domain writes, transcript reads) and halo-core (user
//! status, CC users, settings) write through here.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgConnection, PgPool, QueryBuilder};
use utoipa::ToSchema;
use uuid::Uuid;

/// The operator acting, and where the request came from.
#[derive(Debug, Clone)]
pub struct Actor {
    pub operator_id: Uuid,
    /// The edge's `x-request-id`, to find the request's logs and trace.
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
}

/// What happened to what. `before` and `after` hold the fields the action
/// changed; a read (a transcript) has neither.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// `<target_type>.<verb>`, e.g. `mitra.suspend`.
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl<'a> Entry<'a> {
    pub fn new(action: &'a str, target_type: &'a str, target_id: impl ToString) -> Self {
        Self {
            action,
            target_type,
            target_id: target_id.to_string(),
            before: None,
            after: None,
        }
    }

    pub fn change(mut self, before: Value, after: Value) -> Self {
        self.before = Some(before);
        self.after = Some(after);
        self
    }

    pub fn after(mut self, after: Value) -> Self {
        self.after = Some(after);
        self
    }
}

/// Writes the entry on `conn`, which must be the action's transaction.
pub async fn record(
    conn: &mut PgConnection,
    actor: &Actor,
    entry: Entry<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (actor_id, action, target_type, target_id, before, after, request_id, client_ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(actor.operator_id)
    .bind(entry.action)
    .bind(entry.target_type)
    .bind(entry.target_id)
    .bind(entry.before)
    .bind(entry.after)
    .bind(actor.request_id.as_deref())
    .bind(actor.client_ip.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

/// One entry as the CC shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
#[schema(example = json!({"id": 4211, "at": "2026-11-26T08:15:02Z", "actor_id": "019ab8e0-1111-7c41-9a7e-3f5b2c1d0e9f",
    "actor_email": "ops@halobestie.id", "action": "mitra.suspend", "target_type": "mitra",
    "target_id": "019ab8f0-6d2e-7c41-9a7e-3f5b2c1d0e9f", "before": {"status": "active"},
    "after": {"status": "suspended", "sessions_revoked": 2}, "request_id": "3f0c9a2e-5b1d-4c7e-9f00-1a2b3c4d5e6f",
    "client_ip": "10.8.0.12"}))]
pub struct AuditRecord {
    /// Also the list's cursor: entries are numbered in the order written.
    #[schema(example = 4211)]
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Uuid,
    #[schema(example = "ops@halobestie.id")]
    pub actor_email: String,
    #[schema(example = "mitra.suspend")]
    pub action: String,
    #[schema(example = "mitra")]
    pub target_type: String,
    #[schema(example = "019ab8f0-6d2e-7c41-9a7e-3f5b2c1d0e9f")]
    pub target_id: String,
    #[schema(value_type = Option<Object>, example = json!({"status": "active"}))]
    pub before: Option<Value>,
    #[schema(value_type = Option<Object>, example = json!({"status": "suspended"}))]
    pub after: Option<Value>,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
}

/// Which entries to list; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor_id: Option<Uuid>,
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only entries older than this id (the previous page's cursor).
    pub before_id: Option<i64>,
}

/// Entries matching `filter`, newest first, at most `limit`. Only the
/// filters given reach the SQL, so each shape of query gets a plan that uses
/// its index.
pub async fn list(
    db: &PgPool,
    filter: &Filter,
    limit: i64,
) -> Result<Vec<AuditRecord>, sqlx::Error> {
    let mut sql = QueryBuilder::new(
        "SELECT a.id, a.at, a.actor_id, u.email AS actor_email, a.action, a.target_type,
                a.target_id, a.before, a.after, a.request_id, a.client_ip
         FROM audit_log a JOIN auth.cc_users u ON u.id = a.actor_id WHERE true",
    );
    if let Some(actor) = filter.actor_id {
        sql.push(" AND a.actor_id = ").push_bind(actor);
    }
    if let Some(action) = &filter.action {
        sql.push(" AND a.action = ").push_bind(action);
    }
    if let Some(target_type) = &filter.target_type {
        sql.push(" AND a.target_type = ").push_bind(target_type);
    }
    if let Some(target_id) = &filter.target_id {
        sql.push(" AND a.target_id = ").push_bind(target_id);
    }
    if let Some(from) = filter.from {
        sql.push(" AND a.at >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        sql.push(" AND a.at < ").push_bind(to);
    }
    if let Some(before) = filter.before_id {
        sql.push(" AND a.id < ").push_bind(before);
    }
    sql.push(" ORDER BY a.id DESC LIMIT ").push_bind(limit);
    sql.build_query_as().fetch_all(db).await
}
