//! Extensions: more time in a running chat. The customer asks for a tier;
//! the mitra accepts within `extension_timeout_seconds` (or the request
//! expires); on accept an extension order and its invoice are made, and
//! its payment moves `ends_at` forward by the tier's duration. While an
//! accepted extension is being paid, a chat whose time is up is held open
//! `extension_payment_grace_seconds` (see [`crate::end_due`]).
//!
//! Locks are taken chat first, then extension, everywhere, so the timers
//! and the answers never deadlock.

use chrono::{DateTime, Utc};
use halo_knobs::Knobs;
use halo_orders::{Created, InvoiceOptions, NewOrder, Payment, Purpose};
use halo_xendit::PaymentProvider;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{FromRow, PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::matching::emit;
use crate::{ChatError, ChatId};

/// Extensions of one chat a list shows, newest first.
const LISTED: i64 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct ExtensionId(pub Uuid);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionStatus {
    /// Waiting for the mitra until `respond_by`.
    Requested,
    /// The mitra accepted; the customer pays the invoice. If the chat's
    /// time runs out meanwhile, it is held open
    /// `extension_payment_grace_seconds` for the payment.
    Accepted,
    /// Paid: the chat's `ends_at` moved forward.
    Paid,
    Declined,
    /// Unanswered by `respond_by`, unpaid before its invoice or the chat
    /// ended, or the chat ended first.
    Expired,
}

impl ExtensionStatus {
    fn parse(status: &str) -> Self {
        match status {
            "requested" => Self::Requested,
            "accepted" => Self::Accepted,
            "paid" => Self::Paid,
            "declined" => Self::Declined,
            _ => Self::Expired,
        }
    }
}

/// An extension as the customer sees it: with its price and, once
/// accepted, its order and how to pay it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "019ab8f3-1a2b-7c41-9a7e-3f5b2c1d0e9f", "chat_id": "019ab8f1-0c3d-7e21-8a7e-3f5b2c1d0e9f",
    "status": "accepted", "tier_id": "chat_15", "tier_label": "15 menit", "duration_minutes": 15, "amount_idr": 15000,
    "respond_by": "2026-11-26T08:31:00Z", "order_id": "019ab8f3-2b3c-7c41-9a7e-3f5b2c1d0e9f",
    "payment": {"invoice_url": "https://checkout.xendit.co/web/6745f0a1b2c3d4e5f6a7b8ca", "expires_at": "2026-11-26T09:00:30Z"},
    "requested_at": "2026-11-26T08:30:00Z", "answered_at": "2026-11-26T08:30:20Z", "paid_at": null}))]
pub struct CustomerExtension {
    #[schema(value_type = Uuid)]
    pub id: ExtensionId,
    #[schema(value_type = Uuid)]
    pub chat_id: ChatId,
    pub status: ExtensionStatus,
    pub tier_id: String,
    pub tier_label: String,
    pub duration_minutes: i32,
    /// Whole rupiah, the tier's price when asked.
    pub amount_idr: i64,
    /// When an unanswered request expires.
    pub respond_by: DateTime<Utc>,
    /// The extension order, once the mitra accepted (it is also in
    /// `GET /api/client/orders`).
    pub order_id: Option<Uuid>,
    /// How to pay, while the order's invoice is open.
    pub payment: Option<Payment>,
    pub requested_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
}

/// An extension as the mitra sees it: no price, no order, nothing of the
/// customer's.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "019ab8f3-1a2b-7c41-9a7e-3f5b2c1d0e9f", "chat_id": "019ab8f1-0c3d-7e21-8a7e-3f5b2c1d0e9f",
    "status": "requested", "duration_minutes": 15, "respond_by": "2026-11-26T08:31:00Z",
    "requested_at": "2026-11-26T08:30:00Z", "answered_at": null, "paid_at": null}))]
pub struct MitraExtension {
    #[schema(value_type = Uuid)]
    pub id: ExtensionId,
    #[schema(value_type = Uuid)]
    pub chat_id: ChatId,
    pub status: ExtensionStatus,
    pub duration_minutes: i32,
    pub respond_by: DateTime<Utc>,
    pub requested_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
}

const EXTENSION: &str = "
    SELECT e.id, e.chat_id, e.status, e.tier_id, e.tier_label, e.duration_minutes, e.amount_idr,
           e.respond_by, e.order_id, o.status AS order_status, o.invoice_url,
           o.expires_at AS invoice_expires_at, e.requested_at, e.answered_at, e.paid_at
    FROM chat_extensions e
    JOIN chats c ON c.id = e.chat_id
    LEFT JOIN orders o ON o.id = e.order_id";

#[derive(FromRow)]
struct ExtensionRow {
    id: Uuid,
    chat_id: Uuid,
    status: String,
    tier_id: String,
    tier_label: String,
    duration_minutes: i32,
    amount_idr: i64,
    respond_by: DateTime<Utc>,
    order_id: Option<Uuid>,
    order_status: Option<String>,
    invoice_url: Option<String>,
    invoice_expires_at: Option<DateTime<Utc>>,
    requested_at: DateTime<Utc>,
    answered_at: Option<DateTime<Utc>>,
    paid_at: Option<DateTime<Utc>>,
}

impl From<ExtensionRow> for CustomerExtension {
    fn from(row: ExtensionRow) -> Self {
        let status = ExtensionStatus::parse(&row.status);
        let payment = match (
            status,
            row.order_status.as_deref(),
            row.invoice_url,
            row.invoice_expires_at,
        ) {
            (
                ExtensionStatus::Accepted,
                Some("pending_payment"),
                Some(invoice_url),
                Some(expires_at),
            ) => Some(Payment {
                invoice_url,
                expires_at,
            }),
            _ => None,
        };
        Self {
            id: ExtensionId(row.id),
            chat_id: ChatId(row.chat_id),
            status,
            tier_id: row.tier_id,
            tier_label: row.tier_label,
            duration_minutes: row.duration_minutes,
            amount_idr: row.amount_idr,
            respond_by: row.respond_by,
            order_id: row.order_id,
            payment,
            requested_at: row.requested_at,
            answered_at: row.answered_at,
            paid_at: row.paid_at,
        }
    }
}

impl From<ExtensionRow> for MitraExtension {
    fn from(row: ExtensionRow) -> Self {
        Self {
            id: ExtensionId(row.id),
            chat_id: ChatId(row.chat_id),
            status: ExtensionStatus::parse(&row.status),
            duration_minutes: row.duration_minutes,
            respond_by: row.respond_by,
            requested_at: row.requested_at,
            answered_at: row.answered_at,
            paid_at: row.paid_at,
        }
    }
}

/// The customer asks for `tier_id` more in their active chat. One request
/// may be pending (requested or accepted) at a time.
pub async fn request(
    db: &PgPool,
    knobs: &Knobs,
    customer: Uuid,
    chat: ChatId,
    tier_id: &str,
) -> Result<CustomerExtension, ChatError> {
    let tier = knobs
        .pricing_tiers
        .iter()
        .find(|t| t.id == tier_id)
        .ok_or(ChatError::UnknownTier)?;
    let mut tx = db.begin().await?;
    // FOR SHARE: the chat cannot end under the request (the timers skip
    // it this tick); a chat ending first is seen here as not running.
    let found: Option<(String, bool, Option<Uuid>)> = sqlx::query_as(
        "SELECT status, ends_at > now(), mitra_id FROM chats WHERE id = $1 AND customer_id = $2 FOR SHARE",
    )
    .bind(chat.0)
    .bind(customer)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((status, running, mitra)) = found else {
        return Err(ChatError::NotFound);
    };
    if status != "active" || !running {
        return Err(ChatError::NotActive);
    }
    let id = Uuid::now_v7();
    let inserted = sqlx::query(
        "INSERT INTO chat_extensions (id, chat_id, tier_id, tier_label, duration_minutes, amount_idr,
                                      status, respond_by)
         VALUES ($1, $2, $3, $4, $5, $6, 'requested', now() + make_interval(secs => $7))
         ON CONFLICT (chat_id) WHERE status IN ('requested', 'accepted') DO NOTHING",
    )
    .bind(id)
    .bind(chat.0)
    .bind(&tier.id)
    .bind(&tier.label)
    .bind(i32::try_from(tier.duration_minutes).unwrap_or(i32::MAX))
    .bind(tier.price_idr)
    .bind(knobs.extension_timeout_seconds as f64)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(ChatError::ExtensionPending);
    }
    emit(
        &mut tx,
        "extension.requested",
        chat.0,
        json!({"chat_id": chat.0, "mitra_id": mitra, "extension_id": id,
               "duration_minutes": tier.duration_minutes}),
    )
    .await?;
    let view = customer_extension(&mut tx, customer, chat, ExtensionId(id))
        .await?
        .ok_or(ChatError::NotFound)?;
    tx.commit().await?;
    Ok(view)
}

async fn customer_extension(
    tx: &mut PgConnection,
    customer: Uuid,
    chat: ChatId,
    extension: ExtensionId,
) -> Result<Option<CustomerExtension>, sqlx::Error> {
    let row: Option<ExtensionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{EXTENSION} WHERE e.id = $1 AND e.chat_id = $2 AND c.customer_id = $3"
    )))
    .bind(extension.0)
    .bind(chat.0)
    .bind(customer)
    .fetch_optional(tx)
    .await?;
    Ok(row.map(Into::into))
}

async fn mitra_extension(
    tx: &mut PgConnection,
    mitra: Uuid,
    chat: ChatId,
    extension: ExtensionId,
) -> Result<Option<MitraExtension>, sqlx::Error> {
    let row: Option<ExtensionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{EXTENSION} WHERE e.id = $1 AND e.chat_id = $2 AND c.mitra_id = $3 AND c.status <> 'offered'"
    )))
    .bind(extension.0)
    .bind(chat.0)
    .bind(mitra)
    .fetch_optional(tx)
    .await?;
    Ok(row.map(Into::into))
}

/// The customer's chat's extensions, newest first; `None` when the chat is
/// not theirs.
pub async fn customer_extensions(
    db: &PgPool,
    customer: Uuid,
    chat: ChatId,
) -> Result<Option<Vec<CustomerExtension>>, sqlx::Error> {
    list(db, "customer_id = $2", customer, chat).await
}

/// The extensions of a chat this mitra serves (or served), newest first;
/// `None` otherwise.
pub async fn mitra_extensions(
    db: &PgPool,
    mitra: Uuid,
    chat: ChatId,
) -> Result<Option<Vec<MitraExtension>>, sqlx::Error> {
    list(db, "mitra_id = $2 AND status <> 'offered'", mitra, chat).await
}

/// A chat's extensions when `participant` (a condition on the chat with
/// `$2`, the caller) holds.
async fn list<T: From<ExtensionRow>>(
    db: &PgPool,
    participant: &'static str,
    caller: Uuid,
    chat: ChatId,
) -> Result<Option<Vec<T>>, sqlx::Error> {
    let taking_part: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT EXISTS (SELECT 1 FROM chats WHERE id = $1 AND {participant})"
    )))
    .bind(chat.0)
    .bind(caller)
    .fetch_one(db)
    .await?;
    if !taking_part {
        return Ok(None);
    }
    let rows: Vec<ExtensionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{EXTENSION} WHERE e.chat_id = $1 ORDER BY e.requested_at DESC, e.id DESC LIMIT $2"
    )))
    .bind(chat.0)
    .bind(LISTED)
    .fetch_all(db)
    .await?;
    Ok(Some(rows.into_iter().map(Into::into).collect()))
}

/// What accepting needs to make the order.
#[derive(FromRow)]
struct Answerable {
    status: String,
    open: bool,
    customer_id: Uuid,
    tier_id: String,
    tier_label: String,
    duration_minutes: i32,
    amount_idr: i64,
}

/// Where the payment of an extension order comes from.
pub struct Checkout<'a> {
    pub provider: &'a dyn PaymentProvider,
    pub options: &'a InvoiceOptions,
}

/// The mitra accepts a request before `respond_by`: the extension order
/// and its invoice are made for the customer (the payments flow, `kind:
/// extension`; idempotent on the extension, so a retry after a lost
/// answer makes no second invoice), and the extension is `accepted`.
pub async fn accept_extension(
    db: &PgPool,
    checkout: Checkout<'_>,
    knobs: &Knobs,
    mitra: Uuid,
    chat: ChatId,
    extension: ExtensionId,
) -> Result<MitraExtension, ChatError> {
    let found: Option<Answerable> = sqlx::query_as(
        "SELECT e.status, e.respond_by > now() AS open, c.customer_id, e.tier_id, e.tier_label,
                e.duration_minutes, e.amount_idr
         FROM chat_extensions e JOIN chats c ON c.id = e.chat_id
         WHERE e.id = $1 AND e.chat_id = $2 AND c.mitra_id = $3 AND c.status <> 'offered'",
    )
    .bind(extension.0)
    .bind(chat.0)
    .bind(mitra)
    .fetch_optional(db)
    .await?;
    let Some(found) = found else {
        return Err(ChatError::NotFound);
    };
    match (found.status.as_str(), found.open) {
        ("accepted" | "paid", _) => return answered(db, mitra, chat, extension).await,
        ("requested", true) => {}
        _ => return Err(ChatError::ExtensionClosed),
    }
    let order = halo_orders::create(
        db,
        checkout.provider,
        knobs,
        checkout.options,
        &NewOrder {
            customer_id: found.customer_id,
            // Customers' keys are visible ASCII: a space keeps this one apart.
            idempotency_key: format!("extension {}", extension.0),
            tier_id: found.tier_id.clone(),
            purpose: Purpose::Extension {
                chat_id: chat.0,
                tier: halo_knobs::PricingTier {
                    id: found.tier_id,
                    label: found.tier_label,
                    duration_minutes: i64::from(found.duration_minutes),
                    price_idr: found.amount_idr,
                },
            },
        },
    )
    .await?;
    let (Created::New(order) | Created::Existing(order)) = order;
    let mut tx = db.begin().await?;
    let active: Option<(Uuid,)> = sqlx::query_as(
        "SELECT id FROM chats WHERE id = $1 AND mitra_id = $2 AND status = 'active' FOR UPDATE",
    )
    .bind(chat.0)
    .bind(mitra)
    .fetch_optional(&mut *tx)
    .await?;
    // The respond_by was checked before the invoice: a slow provider does
    // not cost the mitra their answer. The timers may have closed the
    // request meanwhile (the chat ended); its unpaid invoice then lapses.
    let accepted = active.is_some()
        && sqlx::query(
            "UPDATE chat_extensions SET status = 'accepted', order_id = $2, answered_at = now()
             WHERE id = $1 AND status = 'requested'",
        )
        .bind(extension.0)
        .bind(order.id.0)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
    if !accepted {
        drop(tx);
        return match answered(db, mitra, chat, extension).await {
            Ok(view) if view.status == ExtensionStatus::Accepted => Ok(view),
            Ok(_) => Err(ChatError::ExtensionClosed),
            Err(err) => Err(err),
        };
    }
    emit(
        &mut tx,
        "extension.accepted",
        chat.0,
        json!({"chat_id": chat.0, "mitra_id": mitra, "extension_id": extension.0,
               "duration_minutes": found.duration_minutes}),
    )
    .await?;
    let view = mitra_extension(&mut tx, mitra, chat, extension)
        .await?
        .ok_or(ChatError::NotFound)?;
    tx.commit().await?;
    Ok(view)
}

async fn answered(
    db: &PgPool,
    mitra: Uuid,
    chat: ChatId,
    extension: ExtensionId,
) -> Result<MitraExtension, ChatError> {
    let mut conn = db.acquire().await?;
    mitra_extension(&mut conn, mitra, chat, extension)
        .await?
        .ok_or(ChatError::NotFound)
}

/// The mitra declines a request before `respond_by`; nothing changes for
/// the chat. Declining again is the same as once.
pub async fn decline_extension(
    db: &PgPool,
    mitra: Uuid,
    chat: ChatId,
    extension: ExtensionId,
) -> Result<(), ChatError> {
    let mut tx = db.begin().await?;
    let declined = sqlx::query(
        "UPDATE chat_extensions e SET status = 'declined', answered_at = now(), closed_at = now()
         FROM chats c
         WHERE e.id = $1 AND e.chat_id = $2 AND c.id = e.chat_id AND c.mitra_id = $3
           AND e.status = 'requested' AND e.respond_by > now()",
    )
    .bind(extension.0)
    .bind(chat.0)
    .bind(mitra)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if declined {
        emit(
            &mut tx,
            "extension.declined",
            chat.0,
            json!({"chat_id": chat.0, "mitra_id": mitra, "extension_id": extension.0}),
        )
        .await?;
        tx.commit().await?;
        return Ok(());
    }
    match mitra_extension(&mut tx, mitra, chat, extension).await? {
        None => Err(ChatError::NotFound),
        Some(view) if view.status == ExtensionStatus::Declined => Ok(()),
        Some(_) => Err(ChatError::ExtensionClosed),
    }
}

/// Expires requests unanswered by `respond_by`, and accepted extensions
/// whose invoice closed unpaid (`extension.expired`). Returns how many.
pub async fn expire_extensions(db: &PgPool) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "WITH expired AS (
             UPDATE chat_extensions SET status = 'expired', closed_at = now()
             WHERE id IN (SELECT e.id FROM chat_extensions e
                          WHERE e.status = 'requested' AND e.respond_by <= now()
                          UNION ALL
                          SELECT e.id FROM chat_extensions e JOIN orders o ON o.id = e.order_id
                          WHERE e.status = 'accepted'
                            AND o.status IN ('expired', 'failed', 'payment_mismatch'))
               AND status IN ('requested', 'accepted')
             RETURNING id, chat_id)
         INSERT INTO outbox (topic, aggregate_id, payload)
         SELECT 'extension.expired', x.chat_id,
                jsonb_build_object('chat_id', x.chat_id, 'mitra_id', c.mitra_id, 'extension_id', x.id)
         FROM expired x JOIN chats c ON c.id = x.chat_id",
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Expires the pending extensions of chats that just ended, in the
/// transaction that ended them.
pub(crate) async fn expire_with_chats(
    tx: &mut PgConnection,
    chats: &[Uuid],
) -> Result<(), sqlx::Error> {
    if chats.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "WITH expired AS (
             UPDATE chat_extensions SET status = 'expired', closed_at = now()
             WHERE chat_id = ANY($1) AND status IN ('requested', 'accepted')
             RETURNING id, chat_id)
         INSERT INTO outbox (topic, aggregate_id, payload)
         SELECT 'extension.expired', x.chat_id,
                jsonb_build_object('chat_id', x.chat_id, 'mitra_id', c.mitra_id, 'extension_id', x.id)
         FROM expired x JOIN chats c ON c.id = x.chat_id",
    )
    .bind(chats)
    .execute(tx)
    .await?;
    Ok(())
}

/// Applies the payment of an extension order (its `order.paid` event, in
/// the dispatcher's transaction): the chat's `ends_at` moves forward by
/// the tier's duration and the mitra earns their share. Paid too late (the
/// chat ended, or the extension expired first), the order is owed a refund.
pub(crate) async fn apply_payment(
    tx: &mut PgConnection,
    knobs: &Knobs,
    order: Uuid,
) -> Result<(), sqlx::Error> {
    let chat: Option<(Uuid, String, Option<Uuid>)> = sqlx::query_as(
        "SELECT c.id, c.status, c.mitra_id FROM chats c
         WHERE c.id = (SELECT chat_id FROM orders WHERE id = $1) FOR UPDATE",
    )
    .bind(order)
    .fetch_optional(&mut *tx)
    .await?;
    let paid: Option<(Uuid, i32)> = match &chat {
        Some((_, status, _)) if status == "active" => {
            sqlx::query_as(
                "UPDATE chat_extensions SET status = 'paid', paid_at = now(), closed_at = now()
                 WHERE order_id = $1 AND status = 'accepted'
                 RETURNING id, duration_minutes",
            )
            .bind(order)
            .fetch_optional(&mut *tx)
            .await?
        }
        _ => None,
    };
    let (Some((chat, _, Some(mitra))), Some((extension, minutes))) = (chat, paid) else {
        if halo_orders::mark_refund_required(tx, order).await? {
            tracing::warn!(order_id = %order, "an extension was paid after its chat or request ended; a refund is owed");
        }
        return Ok(());
    };
    let ends_at: DateTime<Utc> = sqlx::query_scalar(
        "UPDATE chats SET ends_at = ends_at + make_interval(mins => $2), warned_at = NULL, updated_at = now()
         WHERE id = $1 RETURNING ends_at",
    )
    .bind(chat)
    .bind(minutes)
    .fetch_one(&mut *tx)
    .await?;
    crate::earnings::record(tx, knobs, order, mitra, chat).await?;
    emit(
        tx,
        "extension.paid",
        chat,
        json!({"chat_id": chat, "mitra_id": mitra, "extension_id": extension,
               "duration_minutes": minutes, "ends_at": ends_at}),
    )
    .await
}
