//! Pagination of lists: `?limit=` (default 50, at most 500) and an opaque `cursor` from the
//! previous page's `next_cursor`. The host's lists are read newest first, so a cursor is the
//! position after the last item sent; an item added meanwhile shifts later pages by one, and
//! none is skipped that was there when the first page was read only if nothing was removed.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

/// Items per page when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 50;
/// Most items on one page.
pub const MAX_LIMIT: u32 = 500;
/// Furthest a cursor may point: lists are read from their start, so this bounds a read.
const MAX_OFFSET: u64 = 100_000;

/// Which page of a list to answer.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items on the page (default 50, at most 500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`; none for the first page.
    #[param(pattern = "^c[0-9a-f]{1,5}$")]
    pub cursor: Option<String>,
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items, newest first (installations: in installation order).
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Where a page starts and how long it is, read from the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Items before the page.
    pub offset: u64,
    /// Items on the page.
    pub limit: u32,
}

impl Window {
    /// How many items to read from the start of the list to fill this page and know whether
    /// another follows.
    pub fn read(&self) -> u32 {
        u32::try_from(self.offset + u64::from(self.limit) + 1).unwrap_or(u32::MAX)
    }
}

impl PageQuery {
    /// The window this query asks for, or a 400 naming `limit` or `cursor`.
    pub fn window(&self) -> Result<Window, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_field(
                "limit",
                format!("limit must be 1 to {MAX_LIMIT}"),
            ));
        }
        let offset = match self.cursor.as_deref() {
            None => 0,
            Some(cursor) => decode(cursor).ok_or_else(|| {
                ApiError::bad_field("cursor", "not a cursor this API gave; start from the top")
            })?,
        };
        Ok(Window { offset, limit })
    }
}

/// The page `window` selects from `all`, read from the start of the list.
pub fn page<T>(all: Vec<T>, window: Window) -> Page<T> {
    let total = all.len() as u64;
    let end = window.offset + u64::from(window.limit);
    let items: Vec<T> = all
        .into_iter()
        .skip(usize::try_from(window.offset).unwrap_or(usize::MAX))
        .take(window.limit as usize)
        .collect();
    let next_cursor = (total > end && end <= MAX_OFFSET).then(|| encode(end));
    Page { items, next_cursor }
}

fn encode(offset: u64) -> String {
    format!("c{offset:x}")
}

fn decode(cursor: &str) -> Option<u64> {
    let hex = cursor.strip_prefix('c')?;
    if hex.is_empty() || hex.len() > 5 {
        return None;
    }
    let offset = u64::from_str_radix(hex, 16).ok()?;
    Some(offset.min(MAX_OFFSET))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_each_other_and_the_last_has_no_cursor() {
        let all: Vec<u32> = (0..5).collect();
        let q = PageQuery {
            limit: Some(2),
            cursor: None,
        };
        let first = page(all.clone(), q.window().unwrap());
        assert_eq!(first.items, vec![0, 1]);
        let q = PageQuery {
            limit: Some(2),
            cursor: first.next_cursor,
        };
        let second = page(all.clone(), q.window().unwrap());
        assert_eq!(second.items, vec![2, 3]);
        let q = PageQuery {
            limit: Some(2),
            cursor: second.next_cursor,
        };
        let third = page(all, q.window().unwrap());
        assert_eq!((third.items, third.next_cursor), (vec![4], None));
    }

    #[test]
    fn a_bad_limit_or_cursor_names_its_field() {
        for (limit, cursor, field) in [
            (Some(0), None, "limit"),
            (Some(501), None, "limit"),
            (None, Some("zz"), "cursor"),
        ] {
            let q = PageQuery {
                limit,
                cursor: cursor.map(str::to_owned),
            };
            let err = q.window().unwrap_err();
            assert_eq!(err.body.field.as_deref(), Some(field));
        }
    }
}
