//! Where a page of the conversion list sits among the rows its filters match: "showing 51-100
//! of 1,234", bounded so that a count never scans more than [`COUNT_CAP`] rows.

use sqlx::PgPool;

use super::conversion_filter::ListFilter;
use crate::domain::{DeliveryStatus, PlatformKind};

/// Counts are exact up to this many rows, then "10,000+".
pub const COUNT_CAP: i64 = 10_000;

/// A count that stops at [`COUNT_CAP`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Exact(i64),
    /// More than the cap.
    Over(i64),
}

impl Count {
    fn of(rows: usize) -> Count {
        let n = i64::try_from(rows).unwrap_or(i64::MAX);
        if n > COUNT_CAP {
            Count::Over(COUNT_CAP)
        } else {
            Count::Exact(n)
        }
    }
}

/// A page's place in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Rows the filters match.
    pub total: Count,
    /// Rows newer than the page (0 on the first).
    pub newer: Count,
    /// The page before this one (newer): `None` on the first page; `Some(None)` when it is
    /// the first; else `Some(Some(before))`, its cursor.
    pub newer_page: Option<Option<i64>>,
}

/// Where the page `f` asks for (its `before` and `limit`) sits.
pub async fn placement(pool: &PgPool, f: &ListFilter<'_>) -> Result<Placement, sqlx::Error> {
    if f.matches_nothing() {
        return Ok(Placement {
            total: Count::Exact(0),
            newer: Count::Exact(0),
            newer_page: f.before.map(|_| None),
        });
    }
    let unpaged = ListFilter { before: None, ..*f };
    let total = Count::of(ids_from(pool, &unpaged, None).await?.len());
    let Some(before) = f.before else {
        return Ok(Placement {
            total,
            newer: Count::Exact(0),
            newer_page: None,
        });
    };
    // The page is the rows below `before`; the ones at or above it are newer, lowest first,
    // so the one `limit` places up is the cursor of the page just before this one.
    let newer = ids_from(pool, &unpaged, Some(before)).await?;
    let limit = usize::try_from(f.limit).unwrap_or(usize::MAX);
    Ok(Placement {
        total,
        newer: Count::of(newer.len()),
        newer_page: Some(newer.get(limit).copied()),
    })
}

/// The ids, lowest first, of up to [`COUNT_CAP`] + 1 rows `f` matches (its `before` and
/// `limit` aside) at or above `from`.
async fn ids_from(
    pool: &PgPool,
    f: &ListFilter<'_>,
    from: Option<i64>,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT c.id FROM conversions c
         LEFT JOIN LATERAL (SELECT least_advanced_state(x.state, x.failure_class) AS state FROM events x
                            WHERE x.conversion_id = c.id) d ON true
         LEFT JOIN campaigns k ON k.id = c.campaign_id
         WHERE ($1::text IS NULL OR COALESCE(k.key, c.campaign_hint) = $1)
           AND ($2::text IS NULL OR COALESCE(d.state, c.state) = $2)
           AND ($3::bigint IS NULL OR c.id >= $3)
           AND ($5::text IS NULL OR c.click_id = $5)
           AND ($6::timestamptz IS NULL OR c.received_at >= $6)
           AND ($7::timestamptz IS NULL OR c.received_at < $7)
           AND ($8::text IS NULL OR c.tracker = $8)
           AND ($9::text IS NULL OR c.txid = $9)
           AND ($10::text IS NULL OR EXISTS (SELECT 1 FROM events x
                                            WHERE x.conversion_id = c.id AND x.platform = $10))
         ORDER BY c.id LIMIT $4"#,
        f.campaign,
        f.state.map(DeliveryStatus::as_str),
        from,
        COUNT_CAP + 1,
        f.click_id,
        f.since,
        f.until,
        f.tracker,
        f.txid,
        f.platform.map(PlatformKind::as_str),
    )
    .fetch_all(pool)
    .await
}
