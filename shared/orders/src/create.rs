//! Ordering: an idempotent `pending_payment` order with a Xendit invoice.
//!
//! The order row is inserted first, as `creating`, under a unique
//! (customer, idempotency key). Only the request whose insert won asks
//! Xendit for the invoice; a concurrent retry with the same key finds the
//! row and waits for it to open, so ten retries make one order and one
//! invoice. When Xendit fails, the row becomes `failed` (not billable, and
//! out of the unique key), so a later retry with the same key starts over.

use std::time::Duration;

use halo_knobs::{Knobs, PricingTier};
use halo_xendit::{CreateInvoice, PaymentProvider};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::OrderError;
use crate::model::{ORDER_COLUMNS, Order, OrderRow};

/// How often a retry looks again at an order another request is creating.
const WAIT_STEP: Duration = Duration::from_millis(50);

/// What the customer asked for.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub customer_id: Uuid,
    pub idempotency_key: String,
    pub tier_id: String,
    pub purpose: Purpose,
}

/// What an order buys.
#[derive(Debug, Clone)]
pub enum Purpose {
    /// A new chat, with the chosen mitra if any (who must be available),
    /// and whether another may serve it. The tier is read from the knobs.
    Chat {
        mitra_id: Option<Uuid>,
        allow_fallback: bool,
    },
    /// More time in a running chat, at the tier as the customer saw it when
    /// asking (a price change since then does not apply). Holds no mitra
    /// slot: the chat already does.
    Extension { chat_id: Uuid, tier: PricingTier },
}

impl NewOrder {
    /// A digest of everything that makes two requests the same request.
    fn request_hash(&self) -> Vec<u8> {
        let canonical = match &self.purpose {
            Purpose::Chat {
                mitra_id,
                allow_fallback,
            } => serde_json::json!({
                "tier_id": self.tier_id,
                "mitra_id": mitra_id,
                "allow_fallback": allow_fallback,
            }),
            Purpose::Extension { chat_id, tier } => serde_json::json!({
                "tier_id": self.tier_id,
                "chat_id": chat_id,
                "price_idr": tier.price_idr,
            }),
        };
        Sha256::digest(canonical.to_string().as_bytes()).to_vec()
    }
}

/// Env-fixed invoice settings.
#[derive(Debug, Clone, Default)]
pub struct InvoiceOptions {
    pub success_redirect_url: Option<String>,
    pub failure_redirect_url: Option<String>,
    /// How long a retry waits for a concurrent request creating the same
    /// order (the provider's timeout and a margin).
    pub wait_for_concurrent: Duration,
}

/// A new order (201) or the one this key already made (200).
#[derive(Debug)]
pub enum Created {
    New(Order),
    Existing(Order),
}

/// Creates the order and its invoice, or returns the order the same key
/// already created.
pub async fn create(
    db: &PgPool,
    provider: &dyn PaymentProvider,
    knobs: &Knobs,
    options: &InvoiceOptions,
    new: &NewOrder,
) -> Result<Created, OrderError> {
    let blocked: Option<bool> =
        sqlx::query_scalar("SELECT status = 'blocked' FROM users WHERE id = $1")
            .bind(new.customer_id)
            .fetch_optional(db)
            .await?;
    if blocked == Some(true) {
        return Err(OrderError::AccountBlocked);
    }
    let hash = new.request_hash();
    let deadline = tokio::time::Instant::now() + options.wait_for_concurrent;
    let (id, amount, label) = loop {
        let mut tx = db.begin().await?;
        if let Some(existing) = existing(&mut tx, new).await? {
            tx.commit().await?;
            if existing.request_hash != hash {
                return Err(OrderError::IdempotencyKeyReused);
            }
            if existing.status != "creating" {
                let order = existing.row.into_order().ok_or(OrderError::NotVisible)?;
                return Ok(Created::Existing(order));
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(OrderError::StillCreating);
            }
            tokio::time::sleep(WAIT_STEP).await;
            continue;
        }
        let (tier, mitra_id, allow_fallback, chat_id) = match &new.purpose {
            Purpose::Chat {
                mitra_id,
                allow_fallback,
            } => {
                let tier = knobs
                    .pricing_tiers
                    .iter()
                    .find(|t| t.id == new.tier_id)
                    .ok_or(OrderError::UnknownTier)?;
                check_mitra(&mut tx, *mitra_id, knobs).await?;
                (tier, *mitra_id, *allow_fallback, None)
            }
            Purpose::Extension { chat_id, tier } => (tier, None, false, Some(*chat_id)),
        };
        let id = Uuid::now_v7();
        let inserted: Option<(Uuid,)> = sqlx::query_as(
            "INSERT INTO orders (id, customer_id, idempotency_key, request_hash, tier_id, tier_label,
                                 duration_minutes, amount_idr, mitra_id, allow_fallback, status,
                                 kind, chat_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'creating',
                     CASE WHEN $11::uuid IS NULL THEN 'chat' ELSE 'extension' END, $11)
             ON CONFLICT (customer_id, idempotency_key) WHERE status <> 'failed' DO NOTHING
             RETURNING id",
        )
        .bind(id)
        .bind(new.customer_id)
        .bind(&new.idempotency_key)
        .bind(&hash)
        .bind(&tier.id)
        .bind(&tier.label)
        .bind(i32::try_from(tier.duration_minutes).unwrap_or(i32::MAX))
        .bind(tier.price_idr)
        .bind(mitra_id)
        .bind(allow_fallback)
        .bind(chat_id)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        if inserted.is_some() {
            break (id, tier.price_idr, tier.label.clone());
        }
        // Lost the race to a concurrent request with the same key: the next
        // round finds its row and waits for it.
    };
    let invoice = provider
        .create_invoice(&CreateInvoice {
            external_id: id.to_string(),
            amount_idr: amount,
            description: format!("Halo Bestie: {label}"),
            invoice_duration_seconds: knobs.payment_window_seconds,
            success_redirect_url: options.success_redirect_url.clone(),
            failure_redirect_url: options.failure_redirect_url.clone(),
        })
        .await;
    let invoice = match invoice {
        Ok(invoice) => invoice,
        Err(err) => {
            tracing::warn!(order_id = %id, error = %err, "the invoice could not be created");
            sqlx::query("UPDATE orders SET status = 'failed', updated_at = now() WHERE id = $1")
                .bind(id)
                .execute(db)
                .await?;
            return Err(OrderError::ProviderUnavailable);
        }
    };
    let row: Option<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE orders SET status = 'pending_payment', invoice_id = $2, invoice_url = $3,
                expires_at = now() + make_interval(secs => $4),
                reconcile_at = now() + make_interval(secs => $5),
                updated_at = now()
         WHERE id = $1 AND status = 'creating'
         RETURNING {ORDER_COLUMNS}"
    )))
    .bind(id)
    .bind(&invoice.id)
    .bind(&invoice.invoice_url)
    .bind(knobs.payment_window_seconds as f64)
    .bind(crate::sweep::first_reconcile_after(knobs.payment_window_seconds).as_secs_f64())
    .fetch_optional(db)
    .await?;
    row.and_then(OrderRow::into_order)
        .map(Created::New)
        .ok_or(OrderError::NotVisible)
}

struct Existing {
    status: String,
    request_hash: Vec<u8>,
    row: OrderRow,
}

async fn existing(
    tx: &mut Transaction<'_, Postgres>,
    new: &NewOrder,
) -> Result<Option<Existing>, sqlx::Error> {
    let found: Option<(String, Vec<u8>, Uuid)> = sqlx::query_as(
        "SELECT status, request_hash, id FROM orders
         WHERE customer_id = $1 AND idempotency_key = $2 AND status <> 'failed'",
    )
    .bind(new.customer_id)
    .bind(&new.idempotency_key)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((status, request_hash, id)) = found else {
        return Ok(None);
    };
    let row: OrderRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"
    )))
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(Some(Existing {
        status,
        request_hash,
        row,
    }))
}

/// The chosen mitra must be available (issue 10's rule, in
/// `halo_mitras`); without a choice, some mitra must be. The chosen
/// mitra's capacity lock serialises everything that adds to their load
/// until this transaction commits, so two orders never take the last slot
/// twice.
async fn check_mitra(
    tx: &mut Transaction<'_, Postgres>,
    mitra_id: Option<Uuid>,
    knobs: &Knobs,
) -> Result<(), OrderError> {
    match mitra_id {
        Some(mitra_id) => {
            if halo_mitras::lock_if_available(&mut *tx, knobs, mitra_id).await? {
                Ok(())
            } else {
                Err(OrderError::MitraUnavailable)
            }
        }
        None => {
            let anyone: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM mitra_ranks($1, $2) WHERE rank = 0)",
            )
            .bind(knobs.mitra_stale_after_seconds as f64)
            .bind(knobs.max_customers_per_mitra)
            .fetch_one(&mut **tx)
            .await?;
            if anyone {
                Ok(())
            } else {
                Err(OrderError::NoMitraAvailable)
            }
        }
    }
}
