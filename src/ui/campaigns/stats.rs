//! The campaigns list's numbers per campaign: conversions today and in 7 days, the week's
//! events sent / failed / pending per platform, and the value sent per currency.

use maud::{html, Markup};

use crate::domain::{Campaign, EventState, PlatformKind};
use crate::storage::campaign_stats::CampaignStats;
use crate::storage::money::ValueRow;

use crate::ui::money::amount;

#[derive(Debug, Default, PartialEq)]
pub struct Row {
    pub today: i64,
    pub week: i64,
    /// (platform, sent, failed, pending), for each platform the campaign has or had events on.
    pub platforms: Vec<(PlatformKind, i64, i64, i64)>,
    /// "12.50 USD", one per currency.
    pub value_sent: Vec<String>,
}

impl Row {
    pub fn shape(stats: &CampaignStats, value_sent: &[ValueRow], campaign: &Campaign) -> Row {
        let id = campaign.id;
        let (today, week) = stats
            .conversions
            .iter()
            .find(|c| c.campaign_id == id)
            .map_or((0, 0), |c| (c.today, c.week));
        let count = |platform, state| {
            stats
                .events
                .iter()
                .filter(|e| e.campaign_id == id && e.platform == platform && e.state == state)
                .map(|e| e.n)
                .sum::<i64>()
        };
        let platforms = PlatformKind::ALL
            .iter()
            .copied()
            .filter(|&p| {
                let has = match p {
                    PlatformKind::Meta => campaign.meta.is_some(),
                    PlatformKind::TikTok => campaign.tiktok.is_some(),
                };
                has || stats
                    .events
                    .iter()
                    .any(|e| e.campaign_id == id && e.platform == p)
            })
            .map(|p| {
                (
                    p,
                    count(p, EventState::Sent),
                    count(p, EventState::Failed),
                    count(p, EventState::Pending),
                )
            })
            .collect();
        // Rows come per day and event: one sum per currency (events without a value left out).
        let mut sums: Vec<(&str, f64)> = Vec::new();
        for v in value_sent
            .iter()
            .filter(|v| v.campaign == campaign.key.as_str())
        {
            let Some(currency) = v.currency.as_deref() else {
                continue;
            };
            match sums.iter_mut().find(|(c, _)| *c == currency) {
                Some((_, sum)) => *sum += v.value,
                None => sums.push((currency, v.value)),
            }
        }
        sums.sort_by(|a, b| a.0.cmp(b.0));
        let value_sent = sums.iter().map(|(c, v)| amount(*v, Some(c))).collect();
        Row {
            today,
            week,
            platforms,
            value_sent,
        }
    }
}

pub fn head() -> Markup {
    html! {
        th.num { "Conv. today" } th.num { "7 days" }
        th title="sent / failed / pending, last 7 days" { "Events 7 d" br; small { "sent / failed / pending" } } th { "Value sent 7 d" }
    }
}

pub fn cells(row: &Row) -> Markup {
    html! {
        td.num.conversions-today data-label="Today" { (row.today) }
        td.num.conversions-week data-label="7 days" { (row.week) }
        td.events data-label="Events, 7 days" {
            @for (platform, sent, failed, pending) in &row.platforms {
                div data-platform=(platform.as_str()) {
                    (platform.name()) " " (sent) " / " (failed) " / " (pending)
                }
            }
        }
        td.c-value.value-sent data-label="Value sent" {
            @if row.value_sent.is_empty() { "—" } @else { (row.value_sent.join(", ")) }
        }
    }
}
