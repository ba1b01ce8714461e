//! A mitra's rating stats: the count and sum of every rating's stars, kept
//! on the profile so listing a mitra reads no ratings.

use sqlx::PgConnection;
use uuid::Uuid;

/// Adds one rating to the mitra's stats, in the caller's transaction (the
/// rating's own). A mitra without a profile gets one with no name of its
/// own (the list falls back to the name they gave the core).
pub async fn record_rating(
    tx: &mut PgConnection,
    mitra_id: Uuid,
    stars: i16,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO mitra_profiles AS p (mitra_id, rating_count, rating_sum) VALUES ($1, 1, $2)
         ON CONFLICT (mitra_id) DO UPDATE SET rating_count = p.rating_count + 1,
                                              rating_sum = p.rating_sum + EXCLUDED.rating_sum,
                                              updated_at = now()",
    )
    .bind(mitra_id)
    .bind(i64::from(stars))
    .execute(tx)
    .await?;
    Ok(())
}
