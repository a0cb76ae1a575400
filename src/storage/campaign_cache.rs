//! Campaigns by key, cached for a moment: every click needs its campaign, and reading it from
//! Postgres on each of tens of thousands of clicks a second would double the database work.
//! Changes made through this process's admin API take effect at once; those made by another
//! process within `ttl`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::{campaigns, Campaign};

/// Unknown keys are cached too (a flood of clicks for a deleted campaign must not reach the
/// database); the map is cleared when it grows past this many keys.
const MAX_KEYS: usize = 10_000;

/// When it was read, and the campaign (`None`: no such key).
type Entry = (Instant, Option<Arc<Campaign>>);

pub struct CampaignCache {
    pool: PgPool,
    ttl: Duration,
    entries: RwLock<HashMap<String, Entry>>,
}

impl CampaignCache {
    pub fn new(pool: PgPool, ttl: Duration) -> Self {
        CampaignCache {
            pool,
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<Arc<Campaign>>, sqlx::Error> {
        if let Some((at, c)) = self.entries.read().expect("cache lock").get(key) {
            if at.elapsed() < self.ttl {
                return Ok(c.clone());
            }
        }
        let fresh = campaigns::find_by_key(&self.pool, key).await?.map(Arc::new);
        let mut entries = self.entries.write().expect("cache lock");
        if entries.len() >= MAX_KEYS {
            entries.clear();
        }
        entries.insert(key.to_owned(), (Instant::now(), fresh.clone()));
        Ok(fresh)
    }

    pub fn invalidate(&self, key: &str) {
        self.entries.write().expect("cache lock").remove(key);
    }
}
