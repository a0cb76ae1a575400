//! The campaigns list's numbers per campaign: conversions today and in 7 days, the week's
//! events sent / failed / pending per platform, and the value sent per currency.

use maud::{html, Markup};

use crate::domain::{Campaign, EventState, PlatformKind};
use crate::storage::campaign_stats::CampaignStats;

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
    pub fn shape(stats: &CampaignStats, campaign: &Campaign) -> Row {
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
        let value_sent = stats
            .value_sent
            .iter()
            .filter(|v| v.campaign_id == id)
            .map(|v| format!("{:.2} {}", v.value, v.currency))
            .collect();
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
        th.num { "Conversions today" } th.num { "7 days" }
        th { "Events, 7 days (sent / failed / pending)" } th { "Value sent, 7 days" }
    }
}

pub fn cells(row: &Row) -> Markup {
    html! {
        td.num.conversions-today { (row.today) }
        td.num.conversions-week { (row.week) }
        td.events {
            @for (platform, sent, failed, pending) in &row.platforms {
                div data-platform=(platform.as_str()) {
                    (platform.name()) " " (sent) " / " (failed) " / " (pending)
                }
            }
        }
        td.value-sent {
            @if row.value_sent.is_empty() { "—" } @else { (row.value_sent.join(", ")) }
        }
    }
}
