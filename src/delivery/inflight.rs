//! Requests in flight, counted per target (one campaign on one platform) and per platform, and
//! what the next claim may take so that everything it claims can be sent at once: pure, so a
//! slow target's limits are rows in a table test.

use std::collections::HashMap;

use crate::domain::PlatformKind;
use crate::storage::events::CampaignPlatform;

/// How many requests may be in flight at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Per platform: a hung platform uses up its own budget, never another's.
    pub per_platform: usize,
    /// Per campaign and platform: a hung pixel leaves the rest of its platform's budget to the
    /// other campaigns. At most `per_platform`.
    pub per_target: usize,
}

/// The requests this process has in flight.
#[derive(Debug, Clone)]
pub struct InFlight {
    caps: Caps,
    targets: HashMap<CampaignPlatform, usize>,
    platforms: HashMap<PlatformKind, usize>,
}

/// What the next claim may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// Free requests per platform; a platform with none is left out of the claim entirely.
    pub platforms: Vec<(PlatformKind, usize)>,
    /// Targets with requests in flight and their free requests (0: not claimed at all).
    pub busy: Vec<(CampaignPlatform, usize)>,
    /// Free requests of a target with none in flight.
    pub per_target: usize,
}

impl Room {
    pub fn is_empty(&self) -> bool {
        self.platforms.iter().all(|(_, free)| *free == 0)
    }

    /// Targets that may not get a single event, and platforms with no free request: the claim
    /// skips their events in the database, so they never hide other targets' events.
    pub fn excluded(&self) -> (Vec<CampaignPlatform>, Vec<PlatformKind>) {
        let targets = self.busy.iter().filter(|(_, f)| *f == 0).map(|(k, _)| *k);
        let platforms = self
            .platforms
            .iter()
            .filter(|(_, f)| *f == 0)
            .map(|(p, _)| *p);
        (targets.collect(), platforms.collect())
    }

    fn platform_free(&self, p: PlatformKind) -> usize {
        self.platforms
            .iter()
            .find(|(q, _)| *q == p)
            .map_or(0, |(_, f)| *f)
    }

    fn is_busy(&self, key: CampaignPlatform) -> bool {
        self.busy.iter().any(|(k, _)| *k == key)
    }

    fn target_free(&self, key: CampaignPlatform) -> usize {
        self.busy
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(self.per_target, |(_, f)| *f)
    }
}

impl InFlight {
    pub fn new(caps: Caps) -> Self {
        let caps = Caps {
            per_platform: caps.per_platform.max(1),
            per_target: caps.per_target.clamp(1, caps.per_platform.max(1)),
        };
        InFlight {
            caps,
            targets: HashMap::new(),
            platforms: HashMap::new(),
        }
    }

    pub fn room(&self) -> Room {
        let platforms = PlatformKind::ALL
            .iter()
            .map(|p| (*p, self.caps.per_platform - self.of_platform(*p)))
            .collect();
        let mut busy: Vec<_> = self
            .targets
            .iter()
            .map(|(k, n)| (*k, self.caps.per_target - n))
            .collect();
        busy.sort_unstable();
        Room {
            platforms,
            busy,
            per_target: self.caps.per_target,
        }
    }

    /// Takes a slot for a request to `platform` carrying events of `targets`, if its platform
    /// and each of its targets have one.
    pub fn admit(&mut self, platform: PlatformKind, targets: &[CampaignPlatform]) -> bool {
        let target_full = |k: &CampaignPlatform| {
            self.targets.get(k).copied().unwrap_or(0) >= self.caps.per_target
        };
        if self.of_platform(platform) >= self.caps.per_platform || targets.iter().any(target_full) {
            return false;
        }
        *self.platforms.entry(platform).or_default() += 1;
        for k in targets {
            *self.targets.entry(*k).or_default() += 1;
        }
        true
    }

    /// Frees the slots [`InFlight::admit`] took.
    pub fn finish(&mut self, platform: PlatformKind, targets: &[CampaignPlatform]) {
        if let Some(n) = self.platforms.get_mut(&platform) {
            *n = n.saturating_sub(1);
        }
        for k in targets {
            if let Some(n) = self.targets.get_mut(k) {
                *n -= 1;
                if *n == 0 {
                    self.targets.remove(k);
                }
            }
        }
    }

    fn of_platform(&self, p: PlatformKind) -> usize {
        self.platforms.get(&p).copied().unwrap_or(0)
    }
}

/// Of the due events `candidates` (id, campaign, platform; oldest first), those one claim
/// takes: per target at most its free requests' worth (`request_size` events a request on its
/// platform; only full requests beside one in flight, so batches stay as large as when the
/// worker waited for each pass), per platform at most as many requests as it has free. Leaving
/// the rest unclaimed
/// keeps them free for another process, instead of leased behind a request still in flight.
pub fn pick(
    candidates: &[(i64, CampaignPlatform)],
    room: &Room,
    request_size: &dyn Fn(PlatformKind) -> usize,
) -> Vec<i64> {
    let mut due: HashMap<CampaignPlatform, usize> = HashMap::new();
    for (_, key) in candidates {
        *due.entry(*key).or_default() += 1;
    }
    // Per target: events taken; per platform: requests opened.
    let mut taken: HashMap<CampaignPlatform, usize> = HashMap::new();
    let mut opened: HashMap<PlatformKind, usize> = HashMap::new();
    let mut ids = Vec::new();
    for &(id, key) in candidates {
        let platform = key.1;
        let size = request_size(platform).max(1);
        let n = taken.get(&key).copied().unwrap_or(0);
        if n % size == 0 {
            // The first event of a new request: it needs a free request of its target and
            // of its platform.
            let requests = opened.get(&platform).copied().unwrap_or(0);
            if n / size >= room.target_free(key) || requests >= room.platform_free(platform) {
                continue;
            }
            // A target with a request in flight gets another only for a full one: a few
            // events wait for the next request instead of going in a small one beside it.
            if room.is_busy(key) && due[&key] - n < size {
                continue;
            }
            opened.insert(platform, requests + 1);
        }
        taken.insert(key, n + 1);
        ids.push(id);
    }
    ids
}

#[cfg(test)]
#[path = "inflight_tests.rs"]
mod tests;
