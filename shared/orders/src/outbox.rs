//! Pruning the outbox: an event is done once its consumer has it (the
//! matcher marks `order.paid` delivered; the socket relay marks the rest
//! relayed), and is kept `retention` longer for inspection. An undelivered
//! `order.paid` still counts toward its mitra's load and is never pruned.

use std::time::Duration;

use sqlx::PgPool;

/// Rows one round deletes at most; the next round takes the rest.
const BATCH: i64 = 5_000;

/// Deletes up to one batch of done events older than `retention`. Returns
/// how many.
pub async fn prune_outbox(db: &PgPool, retention: Duration) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM outbox WHERE id IN (
             SELECT id FROM outbox
             WHERE created_at < now() - make_interval(secs => $1)
               AND CASE WHEN topic = 'order.paid' THEN delivered_at IS NOT NULL
                        ELSE relayed_at IS NOT NULL END
             ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind(retention.as_secs_f64())
    .bind(BATCH)
    .execute(db)
    .await?
    .rows_affected())
}
