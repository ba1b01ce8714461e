//! `paid → refund_required`: the chats feature gave up on serving the
//! order (nobody accepted it in time).

use sqlx::PgConnection;
use uuid::Uuid;

/// Flags a paid order as owed a refund, inside the caller's transaction
/// (the chat's state change). False when the order was not `paid`.
pub async fn mark_refund_required(
    tx: &mut PgConnection,
    order_id: Uuid,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE orders SET status = 'refund_required', reconcile_at = NULL, updated_at = now()
         WHERE id = $1 AND status = 'paid'",
    )
    .bind(order_id)
    .execute(tx)
    .await?
    .rows_affected()
        == 1)
}
