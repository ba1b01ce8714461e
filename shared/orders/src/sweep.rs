//! The durable timers of orders, swept by every gateway instance: local
//! expiry at `expires_at` (some payment methods never send EXPIRED),
//! abandoned creations, and reconciliation (asking Xendit about orders
//! whose callback is overdue, so a lost callback never loses a payment).
//! Each claims its rows with `FOR UPDATE SKIP LOCKED`, so instances never
//! handle one order twice at once.

use std::time::Duration;

use halo_xendit::{InvoiceStatus, PaymentProvider};
use sqlx::PgPool;
use uuid::Uuid;

use crate::payment::{InvoiceReport, Outcome, record_reconciliation};

/// Rows one sweep handles per kind; the next tick takes the rest.
const BATCH: i64 = 100;
/// Xendit calls one reconciliation sweep makes at most.
const RECONCILE_BATCH: i64 = 20;
/// A callback normally follows a payment within seconds; an open invoice
/// with none after this long is asked about.
const RECONCILE_FIRST: Duration = Duration::from_secs(300);
/// Later questions back off, doubling, up to this.
const RECONCILE_MAX: Duration = Duration::from_secs(3600);

/// When to first ask Xendit about a new invoice: within its window.
pub(crate) fn first_reconcile_after(payment_window_seconds: i64) -> Duration {
    RECONCILE_FIRST.min(Duration::from_secs(
        u64::try_from(payment_window_seconds / 2)
            .unwrap_or(1)
            .max(1),
    ))
}

/// Expires the open orders whose window has passed, releasing their slot
/// holds, and schedules one question to Xendit for each at once: a PAID
/// whose callback was lost still turns the order paid.
pub async fn expire_due(db: &PgPool) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE orders SET status = 'expired', reconcile_at = now(), updated_at = now()
         WHERE id IN (SELECT id FROM orders
                      WHERE status = 'pending_payment' AND expires_at <= now()
                      ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)",
    )
    .bind(BATCH)
    .execute(db)
    .await?
    .rows_affected())
}

/// Fails orders stuck in `creating` for longer than `older_than` (their
/// request died while asking Xendit), so they hold no slot and their key
/// can be used again.
pub async fn abandon_stale(db: &PgPool, older_than: Duration) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE orders SET status = 'failed', updated_at = now()
         WHERE id IN (SELECT id FROM orders
                      WHERE status = 'creating' AND created_at <= now() - make_interval(secs => $1)
                      LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind(older_than.as_secs_f64())
    .bind(BATCH)
    .execute(db)
    .await?
    .rows_affected())
}

/// Asks Xendit about the orders whose callback is overdue and applies what
/// it says. Returns how many orders became paid.
pub async fn reconcile_due(
    db: &PgPool,
    provider: &dyn PaymentProvider,
) -> Result<u64, sqlx::Error> {
    // Claiming moves each row's next question forward (backing off), so the
    // Xendit call happens outside any transaction and no other instance
    // asks about the same order meanwhile. An order expired a day ago is
    // settled: nothing more is asked.
    let claimed: Vec<(Uuid, String)> = sqlx::query_as(
        "UPDATE orders SET reconcile_count = reconcile_count + 1,
                reconcile_at = CASE
                    WHEN status = 'expired' AND expires_at < now() - interval '1 day' THEN NULL
                    ELSE now() + make_interval(secs => least($2 * power(2, reconcile_count), $3))
                END
         WHERE id IN (SELECT id FROM orders
                      WHERE reconcile_at <= now() AND status IN ('pending_payment', 'expired')
                        AND invoice_id IS NOT NULL
                      ORDER BY reconcile_at LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING id, invoice_id",
    )
    .bind(RECONCILE_BATCH)
    .bind(RECONCILE_FIRST.as_secs_f64())
    .bind(RECONCILE_MAX.as_secs_f64())
    .fetch_all(db)
    .await?;
    let mut paid = 0;
    for (order_id, invoice_id) in claimed {
        let invoice = match provider.get_invoice(&invoice_id).await {
            Ok(invoice) => invoice,
            Err(err) => {
                tracing::warn!(%order_id, error = %err, "reconciliation: Xendit did not answer");
                continue;
            }
        };
        let report = InvoiceReport::from(&invoice);
        // PENDING says nothing new; only a final state is worth a row.
        if report.status == InvoiceStatus::Pending {
            continue;
        }
        if record_reconciliation(db, &report).await? == Outcome::Paid {
            tracing::info!(%order_id, "reconciliation found a payment whose callback was lost");
            paid += 1;
        }
    }
    Ok(paid)
}
