//! The match-quality report of a campaign: counts from `storage::quality` shaped into the
//! answer, with every event name and key present (a zero is an answer, an absent key is not).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::domain::{Campaign, PlatformKind, PIXEL_DEDUP_WINDOW};
use crate::storage;
use crate::storage::quality::{EventStats, QualityRows};

/// The `user_data` keys Meta matches on, in the order the report lists them.
pub const MATCH_KEYS: [&str; 15] = [
    "fbc",
    "fbp",
    "em",
    "ph",
    "external_id",
    "client_ip_address",
    "client_user_agent",
    "fn",
    "ln",
    "ct",
    "st",
    "zp",
    "country",
    "db",
    "ge",
];

/// The `user` keys TikTok matches on (`platforms/tiktok/event.rs`), in the report's order.
pub const TIKTOK_MATCH_KEYS: [&str; 7] = [
    "ttclid",
    "ttp",
    "email",
    "phone",
    "external_id",
    "ip",
    "user_agent",
];

/// The keys a platform's events are reported on.
pub fn match_keys(platform: PlatformKind) -> &'static [&'static str] {
    match platform {
        PlatformKind::Meta => &MATCH_KEYS,
        PlatformKind::TikTok => &TIKTOK_MATCH_KEYS,
    }
}

/// Failure reasons listed per event name, most frequent first.
pub const TOP_REASONS: usize = 5;

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QualityReport {
    pub campaign: String,
    pub days: u32,
    pub since: DateTime<Utc>,
    /// Meta's events (the report's shape before there were several platforms).
    pub events: Vec<EventQuality>,
    /// Each platform the campaign sends to or has events on, Meta's first.
    pub platforms: Vec<PlatformQuality>,
    /// Field name -> how many postbacks, import rows and clicks in the window had it dropped
    /// (unusable values the campaign's events then lacked).
    pub dropped_fields: BTreeMap<String, i64>,
}

/// One platform's events, each reported on that platform's match keys.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlatformQuality {
    pub platform: PlatformKind,
    pub events: Vec<EventQuality>,
}

/// What one platform's report is made of: the event names its map sends and its rows.
pub struct PlatformRows<'a> {
    pub platform: PlatformKind,
    pub mapped_events: Vec<&'a str>,
    pub rows: QualityRows,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventQuality {
    pub event_name: String,
    pub sent: i64,
    pub pending: i64,
    pub failed: i64,
    pub expired: i64,
    /// Share of the sent events carrying each key.
    pub keys: BTreeMap<&'static str, Share>,
    /// Where the sent events' `event_id` came from.
    pub event_ids: EventIdSources,
    pub median_seconds: Medians,
    pub late_pixel_twins: LateTwins,
    pub top_failure_reasons: Vec<Reason>,
}

/// Events more than 48 hours after their pixel twin, past Meta's dedup window.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LateTwins {
    /// Sent anyway (`late_pixel_twin: send`): Meta may have counted these twice. The share is
    /// of `sent`.
    pub sent: Share,
    /// Not sent (`late_pixel_twin: skip`).
    pub skipped: i64,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Share {
    pub count: i64,
    /// `count / sent`, 0 when nothing was sent; 4 decimals.
    pub share: f64,
}

impl Share {
    fn of(count: i64, total: i64) -> Self {
        let share = if total > 0 {
            (count as f64 / total as f64 * 10_000.0).round() / 10_000.0
        } else {
            0.0
        };
        Share { count, share }
    }
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventIdSources {
    /// "Event id registered": the page registered an eventID for the pixel on the click (a
    /// lead whose pixel never fired still counts).
    pub pixel: Share,
    /// "Pixel fired with this id": of those, the clicks whose page also reported the pixel
    /// firing that event (Meta only; `None` for platforms whose firing is not recorded).
    #[schema(required = true)]
    pub pixel_fired: Option<Share>,
    /// Built from the campaign's template (the click is known, the page registered no id).
    pub template: Share,
    /// The postback's click was never registered.
    pub no_click: Share,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Medians {
    #[schema(required = true)]
    pub click_to_conversion: Option<f64>,
    #[schema(required = true)]
    pub conversion_to_accepted: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    pub state: String,
    pub reason: String,
    pub count: i64,
}

/// The report: per platform the campaign maps events to or that has events, one entry per
/// event name mapped or seen, by name.
pub fn shape(
    campaign: &str,
    days: u32,
    since: DateTime<Utc>,
    mut per_platform: Vec<PlatformRows<'_>>,
) -> QualityReport {
    per_platform.sort_by_key(|p| p.platform);
    let platforms: Vec<PlatformQuality> = per_platform
        .into_iter()
        .filter(|p| !p.mapped_events.is_empty() || !p.rows.is_empty())
        .map(|p| PlatformQuality {
            platform: p.platform,
            events: shape_events(p.platform, &p.mapped_events, p.rows),
        })
        .collect();
    let events = platforms
        .iter()
        .find(|p| p.platform == PlatformKind::Meta)
        .map(|p| p.events.clone())
        .unwrap_or_default();
    QualityReport {
        campaign: campaign.to_owned(),
        days,
        since,
        events,
        platforms,
        dropped_fields: BTreeMap::new(),
    }
}

/// One platform's entries, on its `keys`.
fn shape_events(
    platform: PlatformKind,
    mapped_events: &[&str],
    rows: QualityRows,
) -> Vec<EventQuality> {
    let keys = match_keys(platform);
    let mut stats: BTreeMap<String, EventStats> = mapped_events
        .iter()
        .map(|name| {
            let empty = EventStats {
                event_name: (*name).to_owned(),
                ..EventStats::default()
            };
            ((*name).to_owned(), empty)
        })
        .collect();
    for s in rows.stats {
        stats.insert(s.event_name.clone(), s);
    }
    let mut key_counts: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for k in &rows.keys {
        key_counts.insert((k.event_name.as_str(), k.key.as_str()), k.count);
    }
    let mut reasons: BTreeMap<&str, Vec<Reason>> = BTreeMap::new();
    for r in &rows.reasons {
        stats
            .entry(r.event_name.clone())
            .or_insert_with(|| EventStats {
                event_name: r.event_name.clone(),
                ..EventStats::default()
            });
        reasons
            .entry(r.event_name.as_str())
            .or_default()
            .push(Reason {
                state: r.state.clone(),
                reason: r.reason.clone(),
                count: r.count,
            });
    }

    stats
        .into_values()
        .map(|s| {
            let name = s.event_name.as_str();
            let keys = keys
                .iter()
                .map(|key| {
                    let n = key_counts.get(&(name, *key)).copied().unwrap_or(0);
                    (*key, Share::of(n, s.sent))
                })
                .collect();
            let template = (s.sent - s.pixel_event_id - s.no_click).max(0);
            let mut top = reasons.remove(name).unwrap_or_default();
            top.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
            top.truncate(TOP_REASONS);
            EventQuality {
                event_ids: EventIdSources {
                    pixel: Share::of(s.pixel_event_id, s.sent),
                    pixel_fired: (platform == PlatformKind::Meta)
                        .then(|| Share::of(s.pixel_fired, s.sent)),
                    template: Share::of(template, s.sent),
                    no_click: Share::of(s.no_click, s.sent),
                },
                median_seconds: Medians {
                    click_to_conversion: s.median_click_to_conversion_secs.map(round_secs),
                    conversion_to_accepted: s.median_conversion_to_accepted_secs.map(round_secs),
                },
                late_pixel_twins: LateTwins {
                    sent: Share::of(s.late_twin_sent, s.sent),
                    skipped: s.late_twin_skipped,
                },
                keys,
                top_failure_reasons: top,
                event_name: s.event_name,
                sent: s.sent,
                pending: s.pending,
                failed: s.failed,
                expired: s.expired,
            }
        })
        .collect()
}

fn round_secs(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

/// Longest window: events older than this are rarely still stored with their payloads.
pub const MAX_DAYS: u32 = 90;
pub const DEFAULT_DAYS: u32 = 7;

/// The campaign's report over the last `days`, for the admin API and the dashboard alike.
pub async fn report_for(
    pool: &sqlx::PgPool,
    campaign: &Campaign,
    days: u32,
) -> Result<QualityReport, sqlx::Error> {
    let since = Utc::now() - Duration::days(i64::from(days));
    let window = PIXEL_DEDUP_WINDOW.to_std().expect("a positive window");
    let mut per_platform = Vec::new();
    for &platform in PlatformKind::ALL {
        let rows = storage::quality::rows(pool, campaign.id, platform, since, window).await?;
        per_platform.push(PlatformRows {
            platform,
            mapped_events: mapped_events(campaign, platform),
            rows,
        });
    }
    let mut report = shape(campaign.key.as_str(), days, since, per_platform);
    report.dropped_fields = storage::quality::dropped_counts(pool, campaign.id, since)
        .await?
        .into_iter()
        .collect();
    Ok(report)
}

/// The event names the campaign's map for `platform` sends (none: it does not use it).
fn mapped_events(campaign: &Campaign, platform: PlatformKind) -> Vec<&str> {
    campaign
        .platforms()
        .into_iter()
        .find(|(p, _)| *p == platform)
        .map(|(_, map)| map.event_names().into_iter().map(|n| n.as_str()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "quality_tests.rs"]
mod tests;
