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

/// A page from `limit + 1` rows fetched in list order: the first `limit`,
/// and the cursor of the last one kept when more follow (`None` on the
/// last page).
pub fn split_page<T, C>(
    mut rows: Vec<T>,
    limit: u32,
    cursor_of: impl Fn(&T) -> C,
) -> (Vec<T>, Option<C>) {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(cursor_of)
    } else {
        None
    };
    (rows, next)
}

#[cfg(test)]
mod tests {
    use super::split_page;

    #[test]
    fn a_cursor_is_given_only_when_another_page_follows() {
        assert_eq!(split_page(vec![5, 4, 3], 2, |n| *n), (vec![5, 4], Some(4)));
        assert_eq!(split_page(vec![5, 4], 2, |n| *n), (vec![5, 4], None));
        assert_eq!(split_page(Vec::<i32>::new(), 2, |n| *n), (vec![], None));
    }
}
