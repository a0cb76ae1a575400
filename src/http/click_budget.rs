//! What the public click endpoint may store: new click ids and bytes per client address (an
//! IPv4 address, an IPv6 /64), and bytes per campaign. Requests are not what fills the disk: a
//! landing tag registers one click several times per visit and many visitors share a carrier's
//! address, so a re-registration costs only the bytes it may add, and a new click its row.
//!
//! Every budget is a bucket holding one period's amount, refilled evenly. A campaign's bucket
//! may go below empty, down to minus its capacity, and only for light addresses: the further
//! below, the lighter an address must be (bytes it stored over about the last hour), so an
//! attack from a few heavy addresses is shed first and a visitor with no history still gets in.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use super::rate_limit::address_key;

pub use crate::config::limits::{
    parse_bytes, parse_count, BudgetSetting, ClickBudgetSettings, Rate,
};

/// What one registration asks for.
#[derive(Debug, Clone, Copy)]
pub enum Cost {
    /// A new click: one click id and its row; `payload` of it is what a merge would have cost.
    New { row: usize, payload: usize },
    /// A re-registration of a stored click: at most its values.
    Merge { payload: usize },
}

/// Which budget refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    AddressNew,
    AddressBytes,
    Campaign,
}

impl Why {
    pub fn label(self) -> &'static str {
        match self {
            Why::AddressNew => "address_new_clicks",
            Why::AddressBytes => "address_bytes",
            Why::Campaign => "campaign_bytes",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub why: Why,
    pub retry_after_secs: u64,
}

/// The levels one decision reads, refilled to now.
#[derive(Debug, Clone, Copy)]
pub struct Levels {
    /// New click ids and bytes left to the address (`None`: no such limit).
    pub ids: Option<f64>,
    pub bytes: Option<f64>,
    /// Bytes the address stored over about the last hour: how heavy it is.
    pub recent: f64,
    /// The campaign's level and capacity (bytes).
    pub campaign: Option<(f64, f64)>,
    /// What "heavy" is measured against: the address's bytes per period, else the campaign's.
    pub heavy_scale: f64,
}

/// Whether a registration costing `cost` bytes (and a click id when `new`) may be stored.
pub fn decide(l: &Levels, new: bool, cost: f64) -> Result<(), Why> {
    if new && l.ids.is_some_and(|ids| ids < 1.0) {
        return Err(Why::AddressNew);
    }
    if cost <= 0.0 {
        // Nothing to store (a consent answer to a stored click): never refused.
        return Ok(());
    }
    if l.bytes.is_some_and(|b| b < cost) {
        return Err(Why::AddressBytes);
    }
    if let Some((level, cap)) = l.campaign {
        let after = level - cost;
        if after < 0.0 && l.recent + cost > l.heavy_scale * (1.0 + after / cap) {
            return Err(Why::Campaign);
        }
    }
    Ok(())
}

/// A stored-bytes period: how far back "recent" looks.
const RECENT: f64 = 3600.0;
/// Addresses remembered at once; past it the lightest are forgotten (they count as new).
const TRACKED_MAX: usize = 100_000;

struct Address {
    at: Instant,
    ids: f64,
    bytes: f64,
    recent: f64,
}

struct Campaign {
    at: Instant,
    bytes: f64,
}

#[derive(Default)]
struct State {
    addresses: HashMap<IpAddr, Address>,
    campaigns: HashMap<i64, Campaign>,
}

/// What a registration took, given back in part or whole by [`ClickBudget::settle`].
#[derive(Debug)]
pub struct Reservation {
    key: IpAddr,
    campaign: i64,
    ids: f64,
    bytes: f64,
    /// What a new click's reservation gives back when the click turns out to be stored already.
    row_extra: f64,
}

/// What the write did with a reserved registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    Merged,
    Nothing,
}

pub struct ClickBudget {
    settings: ClickBudgetSettings,
    state: Mutex<State>,
}

fn cap(s: BudgetSetting) -> Option<f64> {
    s.0.map(|r| r.amount)
}

fn refill(level: f64, s: BudgetSetting, dt: f64) -> f64 {
    s.0.map_or(level, |r| (level + dt * r.per_sec()).min(r.amount))
}

impl ClickBudget {
    pub fn new(settings: ClickBudgetSettings) -> Self {
        ClickBudget {
            settings,
            state: Mutex::default(),
        }
    }

    fn off(&self) -> bool {
        let s = &self.settings;
        s.new_per_address.0.is_none()
            && s.bytes_per_address.0.is_none()
            && s.bytes_per_campaign.0.is_none()
    }

    pub fn reserve(
        &self,
        peer: Option<IpAddr>,
        campaign: i64,
        cost: Cost,
    ) -> Result<Reservation, Refused> {
        self.reserve_at(peer, campaign, cost, Instant::now())
    }

    pub fn reserve_at(
        &self,
        peer: Option<IpAddr>,
        campaign: i64,
        cost: Cost,
        now: Instant,
    ) -> Result<Reservation, Refused> {
        let key = address_key(peer);
        let (new, bytes, row_extra) = match cost {
            Cost::New { row, payload } => (true, row as f64, row.saturating_sub(payload) as f64),
            Cost::Merge { payload } => (false, payload as f64, 0.0),
        };
        let ids = if new { 1.0 } else { 0.0 };
        let reservation = Reservation {
            key,
            campaign,
            ids,
            bytes,
            row_extra,
        };
        if self.off() {
            return Ok(reservation);
        }
        let s = self.settings;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.addresses.len() >= 2 * TRACKED_MAX {
            forget_lightest(&mut state.addresses);
        }
        let a = state.addresses.entry(key).or_insert_with(|| Address {
            at: now,
            ids: cap(s.new_per_address).unwrap_or(0.0),
            bytes: cap(s.bytes_per_address).unwrap_or(0.0),
            recent: 0.0,
        });
        let dt = now.saturating_duration_since(a.at).as_secs_f64();
        a.at = now.max(a.at);
        a.ids = refill(a.ids, s.new_per_address, dt);
        a.bytes = refill(a.bytes, s.bytes_per_address, dt);
        a.recent *= (-dt / RECENT).exp();
        let (ids_left, bytes_left, recent) = (a.ids, a.bytes, a.recent);
        let c = state.campaigns.entry(campaign).or_insert_with(|| Campaign {
            at: now,
            bytes: cap(s.bytes_per_campaign).unwrap_or(0.0),
        });
        let dt = now.saturating_duration_since(c.at).as_secs_f64();
        c.at = now.max(c.at);
        c.bytes = refill(c.bytes, s.bytes_per_campaign, dt);
        let campaign_cap = cap(s.bytes_per_campaign);
        let levels = Levels {
            ids: s.new_per_address.0.map(|_| ids_left),
            bytes: s.bytes_per_address.0.map(|_| bytes_left),
            recent,
            campaign: campaign_cap.map(|cap| (c.bytes, cap)),
            heavy_scale: cap(s.bytes_per_address)
                .or(campaign_cap)
                .unwrap_or(f64::MAX),
        };
        // A budget smaller than one click would refuse it for ever: a full bucket takes it (and
        // the whole cost is charged below).
        let charged = bytes
            .min(cap(s.bytes_per_address).unwrap_or(f64::MAX))
            .min(campaign_cap.unwrap_or(f64::MAX));
        if let Err(why) = decide(&levels, new, charged) {
            return Err(Refused {
                why,
                retry_after_secs: wait(&levels, &s, why, charged),
            });
        }
        c.bytes -= bytes;
        let a = state.addresses.get_mut(&key).expect("inserted above");
        a.ids -= ids;
        a.bytes -= bytes;
        a.recent += bytes;
        Ok(reservation)
    }

    /// Gives back what the write did not use: a merge took no click id and no row.
    pub fn settle(&self, r: Reservation, stored: Stored) {
        let (ids, bytes) = match stored {
            Stored::New => return,
            Stored::Merged => (r.ids, r.row_extra),
            Stored::Nothing => (r.ids, r.bytes),
        };
        if self.off() || (ids == 0.0 && bytes == 0.0) {
            return;
        }
        let s = self.settings;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(a) = state.addresses.get_mut(&r.key) {
            a.ids = (a.ids + ids).min(cap(s.new_per_address).unwrap_or(0.0));
            a.bytes = (a.bytes + bytes).min(cap(s.bytes_per_address).unwrap_or(0.0));
            a.recent = (a.recent - bytes).max(0.0);
        }
        if let Some(c) = state.campaigns.get_mut(&r.campaign) {
            c.bytes = (c.bytes + bytes).min(cap(s.bytes_per_campaign).unwrap_or(0.0));
        }
    }

    /// Forgets addresses and campaigns back at full budget with little recent use, so memory
    /// follows the active ones.
    pub fn prune(&self) {
        self.prune_at(Instant::now());
    }

    fn prune_at(&self, now: Instant) {
        let s = self.settings;
        let light = cap(s.bytes_per_address).unwrap_or(1e6) / 100.0;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.addresses.retain(|_, a| {
            let dt = now.saturating_duration_since(a.at).as_secs_f64();
            let full = |level: f64, setting: BudgetSetting| {
                setting
                    .0
                    .is_none_or(|r| refill(level, setting, dt) >= r.amount)
            };
            let recent = a.recent * (-dt / RECENT).exp();
            !(full(a.ids, s.new_per_address)
                && full(a.bytes, s.bytes_per_address)
                && recent < light)
        });
        if state.addresses.len() > TRACKED_MAX {
            forget_lightest(&mut state.addresses);
        }
        state.campaigns.retain(|_, c| {
            let dt = now.saturating_duration_since(c.at).as_secs_f64();
            s.bytes_per_campaign
                .0
                .is_some_and(|r| refill(c.bytes, s.bytes_per_campaign, dt) < r.amount)
        });
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.state.lock().unwrap().addresses.len()
    }
}

/// Keeps the heaviest half of [`TRACKED_MAX`]: a flood of fresh addresses cannot grow memory,
/// and what is forgotten is light (it would have passed as a newcomer anyway).
fn forget_lightest(addresses: &mut HashMap<IpAddr, Address>) {
    let keep = TRACKED_MAX / 2;
    if addresses.len() <= keep {
        return;
    }
    let mut by_weight: Vec<(f64, IpAddr)> = addresses.iter().map(|(k, a)| (a.recent, *k)).collect();
    by_weight.select_nth_unstable_by(keep, |a, b| b.0.total_cmp(&a.0));
    for (_, key) in &by_weight[keep..] {
        addresses.remove(key);
    }
}

/// Seconds until the refusing budget would admit the same registration (at least 1).
fn wait(l: &Levels, s: &ClickBudgetSettings, why: Why, cost: f64) -> u64 {
    let (short, rate) = match why {
        Why::AddressNew => (1.0 - l.ids.unwrap_or(1.0), s.new_per_address.0),
        Why::AddressBytes => (cost - l.bytes.unwrap_or(cost), s.bytes_per_address.0),
        Why::Campaign => {
            let (level, cap) = l.campaign.unwrap_or((0.0, 1.0));
            let needed = cost + cap * ((l.recent + cost) / l.heavy_scale - 1.0);
            (needed - level, s.bytes_per_campaign.0)
        }
    };
    let secs = rate.map_or(1.0, |r| short.max(0.0) / r.per_sec());
    let limit = rate.map_or(1.0, |r| r.per.as_secs_f64());
    // Rounded up: a client that waits exactly Retry-After must get through.
    secs.min(limit).ceil().max(1.0) as u64
}

#[cfg(test)]
#[path = "click_budget_tests.rs"]
mod tests;
