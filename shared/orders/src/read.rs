//! A customer's own orders: one by id, or a page of them, newest first.

use sqlx::PgPool;
use uuid::Uuid;

use crate::model::{ORDER_COLUMNS, Order, OrderId, OrderRow};

/// Orders the apps may see: not the one being created, not a failed attempt.
const VISIBLE: &str = "status NOT IN ('creating', 'failed')";

/// The customer's order, or `None` when it is not theirs (so another
/// customer's order is indistinguishable from no order).
pub async fn get(
    db: &PgPool,
    customer_id: Uuid,
    id: OrderId,
) -> Result<Option<Order>, sqlx::Error> {
    let row: Option<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1 AND customer_id = $2 AND {VISIBLE}"
    )))
    .bind(id.0)
    .bind(customer_id)
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(OrderRow::into_order))
}

/// One page of a customer's orders.
#[derive(Debug)]
pub struct Page {
    pub orders: Vec<Order>,
    /// Pass back as `after` for the next page; `None` on the last one.
    pub next: Option<OrderId>,
}

/// Up to `limit` orders, newest first, after the order `after` (the last
/// one of the previous page). An `after` that is not the customer's ends
/// the list: it reveals nothing about other customers' orders.
pub async fn list(
    db: &PgPool,
    customer_id: Uuid,
    after: Option<OrderId>,
    limit: u32,
) -> Result<Page, sqlx::Error> {
    // Keyset pagination on (created_at, id): stable while new orders arrive.
    let rows: Vec<OrderRow> = match after {
        None => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE customer_id = $1 AND {VISIBLE}
                 ORDER BY created_at DESC, id DESC LIMIT $2"
            )))
            .bind(customer_id)
            .bind(i64::from(limit) + 1)
            .fetch_all(db)
            .await?
        }
        Some(after) => {
            let cursor: Option<(chrono::DateTime<chrono::Utc>,)> =
                sqlx::query_as("SELECT created_at FROM orders WHERE id = $1 AND customer_id = $2")
                    .bind(after.0)
                    .bind(customer_id)
                    .fetch_optional(db)
                    .await?;
            let Some((created_at,)) = cursor else {
                return Ok(Page {
                    orders: Vec::new(),
                    next: None,
                });
            };
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE customer_id = $1 AND {VISIBLE}
                   AND (created_at, id) < ($2, $3)
                 ORDER BY created_at DESC, id DESC LIMIT $4"
            )))
            .bind(customer_id)
            .bind(created_at)
            .bind(after.0)
            .bind(i64::from(limit) + 1)
            .fetch_all(db)
            .await?
        }
    };
    let more = rows.len() > limit as usize;
    let orders: Vec<Order> = rows
        .into_iter()
        .take(limit as usize)
        .filter_map(OrderRow::into_order)
        .collect();
    let next = if more {
        orders.last().map(|o| o.id)
    } else {
        None
    };
    Ok(Page { orders, next })
}
