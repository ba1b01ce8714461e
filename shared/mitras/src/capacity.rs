//! The capacity guard every writer that adds to a mitra's load uses:
//! take the mitra's lock, then check availability in the same transaction.
//! Two transactions adding load to one mitra therefore run one after the
//! other, and the second sees what the first committed.

use halo_knobs::Knobs;
use sqlx::PgConnection;
use uuid::Uuid;

/// Takes the mitra's capacity lock until the transaction ends, waiting for
/// it, and answers whether they are available now (online, beating,
/// active, below `max_customers_per_mitra`).
pub async fn lock_if_available(
    tx: &mut PgConnection,
    knobs: &Knobs,
    mitra_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 9))")
        .bind(mitra_id)
        .execute(&mut *tx)
        .await?;
    available(tx, knobs, mitra_id).await
}

/// Like [`lock_if_available`], but a mitra whose lock another transaction
/// holds counts as unavailable instead of being waited for. A transaction
/// that tries several mitras in turn uses this, so two of them trying the
/// same mitras in different orders never deadlock.
pub async fn try_lock_if_available(
    tx: &mut PgConnection,
    knobs: &Knobs,
    mitra_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtextextended($1::text, 9))")
            .bind(mitra_id)
            .fetch_one(&mut *tx)
            .await?;
    Ok(locked && available(tx, knobs, mitra_id).await?)
}

async fn available(
    tx: &mut PgConnection,
    knobs: &Knobs,
    mitra_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT mitra_rank($1, $2, $3) = 0")
        .bind(mitra_id)
        .bind(knobs.mitra_stale_after_seconds as f64)
        .bind(knobs.max_customers_per_mitra)
        .fetch_one(&mut *tx)
        .await
}
