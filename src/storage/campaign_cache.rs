//! Campaigns cached for a moment: every click and every postback needs its campaign, and reading
//! it from Postgres each time, tens of thousands of times a second, would double the database
//! work. Changes made through this process's admin API take effect at once; those made by
//! another process within `ttl`.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::campaigns;
use crate::domain::{Campaign, CampaignKey, Region};

/// Unknown keys are cached too (a flood of clicks for a deleted campaign must not reach the
/// database); a map is cleared when it grows past this many keys.
const MAX_KEYS: usize = 10_000;

/// When it was read, and the campaign (`None`: no such campaign).
type Entry = (Instant, Option<Arc<Campaign>>);

pub struct CampaignCache {
    pool: PgPool,
    ttl: Duration,
    by_key: RwLock<HashMap<String, Entry>>,
    by_id: RwLock<HashMap<i64, Entry>>,
}

impl CampaignCache {
    pub fn new(pool: PgPool, ttl: Duration) -> Self {
        CampaignCache {
            pool,
            ttl,
            by_key: RwLock::new(HashMap::new()),
            by_id: RwLock::new(HashMap::new()),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<Arc<Campaign>>, sqlx::Error> {
        if let Some(hit) = self.fresh(&self.by_key, key) {
            return Ok(hit);
        }
        let found = campaigns::find_by_key(&self.pool, key).await?.map(Arc::new);
        store(&self.by_key, key.to_owned(), found.clone());
        Ok(found)
    }

    /// The enabled campaign with `key`, as public routes (clicks, the tag) need it: `None` for a
    /// disabled or unknown one, and for a key no campaign can have, which never reaches the
    /// database.
    pub async fn enabled(&self, key: &str) -> Result<Option<Arc<Campaign>>, sqlx::Error> {
        if CampaignKey::parse(key).is_err() {
            return Ok(None);
        }
        Ok(self.get(key).await?.filter(|c| c.enabled))
    }

    /// The region a postback's or import row's customer data is read in: that of the campaign
    /// it names (a national phone number's calling code, a date's order); without a known
    /// campaign, international rules apply.
    pub async fn region_of(&self, key: Option<&str>) -> Result<Region, sqlx::Error> {
        match key {
            Some(key) if CampaignKey::parse(key).is_ok() => {
                Ok(self.get(key).await?.map(|c| c.region()).unwrap_or_default())
            }
            _ => Ok(Region::default()),
        }
    }

    pub async fn get_by_id(&self, id: i64) -> Result<Option<Arc<Campaign>>, sqlx::Error> {
        if let Some(hit) = self.fresh(&self.by_id, &id) {
            return Ok(hit);
        }
        let found = campaigns::find_by_id(&self.pool, id).await?.map(Arc::new);
        store(&self.by_id, id, found.clone());
        Ok(found)
    }

    /// Forgets everything: admin changes are rare, and a campaign is cached under two keys.
    pub fn invalidate(&self) {
        self.by_key.write().expect("cache lock").clear();
        self.by_id.write().expect("cache lock").clear();
    }

    fn fresh<K, Q>(&self, map: &RwLock<HashMap<K, Entry>>, k: &Q) -> Option<Option<Arc<Campaign>>>
    where
        K: Eq + Hash + std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let map = map.read().expect("cache lock");
        let (at, c) = map.get(k)?;
        (at.elapsed() < self.ttl).then(|| c.clone())
    }
}

fn store<K: Eq + Hash>(map: &RwLock<HashMap<K, Entry>>, k: K, v: Option<Arc<Campaign>>) {
    let mut map = map.write().expect("cache lock");
    if map.len() >= MAX_KEYS {
        map.clear();
    }
    map.insert(k, (Instant::now(), v));
}
