//! The list's place and paging: "Showing 51–100 of 1,234" (exact up to the count's cap, then
//! "10,000+"), and Newest / Newer / Older links that keep every filter (keyset paging by id).

use maud::{html, Markup};

use super::filter::Filter;
use crate::storage::conversion_count::{Count, Placement};
use crate::storage::conversion_view::Page;

/// A number with thousands separated by commas: 1,234.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

fn count(c: Count) -> String {
    match c {
        Count::Exact(n) => thousands(n),
        Count::Over(n) => format!("{}+", thousands(n)),
    }
}

/// Which rows of how many the page shows.
pub fn showing(place: &Placement, rows: usize) -> String {
    let rows = i64::try_from(rows).unwrap_or(i64::MAX);
    let total = count(place.total);
    match place.newer {
        _ if rows == 0 => format!("Showing 0 of {total}"),
        Count::Exact(newer) => format!(
            "Showing {}–{} of {total}",
            thousands(newer + 1),
            thousands(newer + rows)
        ),
        Count::Over(n) => format!(
            "Showing {} rows after the newest {} of {total}",
            thousands(rows),
            thousands(n)
        ),
    }
}

/// The count line and the paging links.
pub fn pager(filter: &Filter, page: &Page, place: &Placement) -> Markup {
    html! {
        p #showing role="status" { (showing(place, page.items.len())) }
        nav.pager aria-label="Pages" {
            @if let Some(newer) = place.newer_page {
                a href=(filter.url(None)) { "Newest" }
                a href=(filter.url(newer)) rel="prev" { "Newer" }
            }
            @if let Some(next) = page.next_before {
                a href=(filter.url(Some(next))) rel="next" { "Older" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_take_thousands_separators() {
        for (n, want) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (1234567, "1,234,567"),
            (-12345, "-12,345"),
        ] {
            assert_eq!(thousands(n), want);
        }
    }

    #[test]
    fn says_which_rows_of_how_many() {
        let place = |total, newer| Placement {
            total,
            newer,
            newer_page: None,
        };
        let cases = [
            (
                place(Count::Exact(1234), Count::Exact(0)),
                50,
                "Showing 1–50 of 1,234",
            ),
            (
                place(Count::Exact(1234), Count::Exact(1200)),
                34,
                "Showing 1,201–1,234 of 1,234",
            ),
            (
                place(Count::Over(10_000), Count::Exact(50)),
                50,
                "Showing 51–100 of 10,000+",
            ),
            (
                place(Count::Over(10_000), Count::Over(10_000)),
                50,
                "Showing 50 rows after the newest 10,000 of 10,000+",
            ),
            (place(Count::Exact(0), Count::Exact(0)), 0, "Showing 0 of 0"),
        ];
        for (p, rows, want) in cases {
            assert_eq!(showing(&p, rows), want);
        }
    }
}
