//! Customers: search, a customer's orders and chats, block and unblock
//! (through the core, which owns accounts and sessions). Read here from
//! `users`, which every crate may read.

use chrono::{DateTime, Utc};
use halo_auth::Phone;
use halo_chats::{ChatFilter, ChatRecord};
use halo_orders::{OrderFilter, OrderRecord};
use halo_proto::ApiError;
use halo_proto::v1;
use halo_web::EdgeState;
use serde::Serialize;
use sqlx::{FromRow, PgPool, QueryBuilder};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{not_found_as, query_failed};
use crate::roles::Operator;

/// How many orders and chats a customer's page shows; the order and chat
/// lists filter by `customer_id` for the rest.
const RECENT: i64 = 20;

pub fn customer_not_found() -> ApiError {
    ApiError::not_found("customer_not_found", "no such customer")
}

#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
#[schema(example = json!({"id": "019ab8ef-2b3c-7c41-9a7e-3f5b2c1d0e9f", "is_anonymous": false,
    "phone": "+6281234567890", "display_name": "Rina", "status": "active", "created_at": "2026-11-20T11:00:00Z"}))]
pub struct CustomerRecord {
    pub id: Uuid,
    /// Signed in only with a device so far (no phone, Google or Apple).
    pub is_anonymous: bool,
    #[schema(example = "+6281234567890")]
    pub phone: Option<String>,
    #[schema(example = "Rina")]
    pub display_name: Option<String>,
    /// `active` or `blocked`.
    #[schema(example = "active")]
    pub status: String,
    pub created_at: DateTime<Utc>,
}

const CUSTOMER: &str = "SELECT id, is_anonymous, phone, display_name, status, created_at FROM users
     WHERE user_type = 'customer'";

/// Customers matching `q` (an id; a phone, whole or its start, in any form
/// auth accepts; or part of the display name), newest first.
pub async fn search(
    db: &PgPool,
    q: Option<&str>,
    status: Option<&str>,
    before: Option<Uuid>,
    limit: u32,
) -> Result<Vec<CustomerRecord>, ApiError> {
    let mut sql = QueryBuilder::new(CUSTOMER);
    if let Some(q) = q {
        if let Ok(id) = q.parse::<Uuid>() {
            sql.push(" AND id = ").push_bind(id);
        } else if let Ok(phone) = Phone::parse(q) {
            sql.push(" AND phone = ")
                .push_bind(phone.as_str().to_owned());
        } else if let Some(prefix) = phone_prefix(q) {
            sql.push(" AND phone LIKE ").push_bind(format!("{prefix}%"));
        } else {
            let escaped = halo_mitras::escape_like(q);
            sql.push(" AND display_name ILIKE ")
                .push_bind(format!("%{escaped}%"));
        }
    }
    if let Some(status) = status {
        sql.push(" AND status = ").push_bind(status.to_owned());
    }
    if let Some(before) = before {
        sql.push(" AND id < ").push_bind(before);
    }
    sql.push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(limit) + 1);
    sql.build_query_as()
        .fetch_all(db)
        .await
        .map_err(query_failed)
}

/// The start of a phone typed so far (`0812 34`, `62812`, `+62812`) in its
/// E.164 form (`+6281234`); `None` when `q` is not digits.
fn phone_prefix(q: &str) -> Option<String> {
    let digits: String = q.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let (plus, rest) = match digits.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, digits.as_str()),
    };
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(match rest.strip_prefix('0') {
        Some(local) if !plus => format!("+62{local}"),
        _ => format!("+{rest}"),
    })
}

pub async fn get(db: &PgPool, id: Uuid) -> Result<CustomerRecord, ApiError> {
    let mut sql = QueryBuilder::new(CUSTOMER);
    sql.push(" AND id = ").push_bind(id);
    sql.build_query_as()
        .fetch_optional(db)
        .await
        .map_err(query_failed)?
        .ok_or_else(customer_not_found)
}

/// A customer with their latest orders and chats.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerDetail {
    #[serde(flatten)]
    pub customer: CustomerRecord,
    /// The latest 20, newest first; `GET /internal/orders?customer_id=` pages through all.
    pub orders: Vec<OrderRecord>,
    /// The latest 20, newest first; `GET /internal/chats?customer_id=` pages through all.
    pub chats: Vec<ChatRecord>,
}

pub async fn detail(db: &PgPool, id: Uuid) -> Result<CustomerDetail, ApiError> {
    let customer = get(db, id).await?;
    let orders = halo_orders::list_orders(
        db,
        &OrderFilter {
            customer_id: Some(id),
            ..OrderFilter::default()
        },
        RECENT,
    )
    .await
    .map_err(query_failed)?;
    let chats = halo_chats::list_chats(
        db,
        &ChatFilter {
            customer_id: Some(id),
            ..ChatFilter::default()
        },
        RECENT,
    )
    .await
    .map_err(query_failed)?;
    Ok(CustomerDetail {
        customer,
        orders,
        chats,
    })
}

/// What blocking or unblocking did.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusChange {
    pub customer: CustomerRecord,
    /// Sign-ins ended now (blocking); the customer's next refresh fails.
    pub sessions_revoked: i64,
}

pub async fn set_blocked(
    state: &EdgeState,
    operator: &Operator,
    id: Uuid,
    blocked: bool,
) -> Result<StatusChange, ApiError> {
    let status = if blocked {
        v1::AccountStatus::Blocked
    } else {
        v1::AccountStatus::Active
    };
    let change = state
        .core
        .set_user_status(
            &operator.auth,
            id,
            v1::UserType::Customer,
            status,
            operator.client_ip(),
        )
        .await
        .map_err(|e| not_found_as(e, customer_not_found))?;
    Ok(StatusChange {
        customer: get(&state.db, id).await?,
        sessions_revoked: change.sessions_revoked,
    })
}

#[cfg(test)]
mod tests {
    use super::phone_prefix;

    #[test]
    fn a_phone_typed_so_far_is_searched_in_its_e164_form() {
        assert_eq!(phone_prefix("0812 34").as_deref(), Some("+6281234"));
        assert_eq!(phone_prefix("62812").as_deref(), Some("+62812"));
        assert_eq!(phone_prefix("+62-812").as_deref(), Some("+62812"));
        assert_eq!(phone_prefix("rina"), None);
        assert_eq!(phone_prefix("+"), None);
    }
}
