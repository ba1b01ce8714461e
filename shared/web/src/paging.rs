//! The one rule for a list's `limit` parameter on both edges.

use halo_proto::ApiError;

/// `limit` as asked, `default` when absent; outside 1..=`max` it is a 400
/// naming the field.
pub fn page_limit(limit: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::invalid_field(
            "limit",
            "out_of_range",
            format!("limit is 1 to {max}"),
        ))
    }
}
