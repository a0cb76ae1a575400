//! What a click costs on disk: counted for each registration, so that the public click budgets
//! (src/http/click_budget.rs) limit bytes stored rather than requests, and summed over the field
//! caps into the most one click can take ([`CLICK_MAX_BYTES`], printed in docs/api.md).
//!
//! Counts are upper bounds of PostgreSQL's own (`pg_column_size` of the row plus its index
//! entries; a test compares them): a text value is its bytes plus a 4-byte header, a JSON map
//! entry its key and value plus 16 bytes of entry headers and alignment.

use std::collections::BTreeMap;

use crate::domain::caps::{
    CLICK_ID_MAX, COOKIE_MAX, DROP_FIELD_MAX, DROP_REASON_MAX, EVENT_NAME_MAX, FBCLID_MAX,
    IP_TEXT_MAX, PIXEL_EVENT_IDS_MAX, PIXEL_EVENT_ID_MAX, TIKTOK_ID_MAX, URL_MAX, USER_AGENT_MAX,
};
use crate::domain::{Click, EventIds, DROP_REPORT_MAX};

use super::clicks::NewClick;

/// A text value's header (and alignment).
const TEXT: usize = 4;
/// A JSON map's header; each entry's headers; a stored time (a numeric of 13 digits).
const MAP: usize = 8;
const ENTRY: usize = 16;
const TIME: usize = 16;
/// One `{"field", "reason"}` object of a drop report, without the two values.
const DROPPED: usize = 48;
/// A SHA-256 digest as stored (64 hex digits); 11 customer fields and TikTok's two.
const DIGEST: usize = 64;
const DIGESTS: usize = 13;
/// A row's fixed part (tuple header, id, campaign, two times, consent, the update token's
/// 32-byte hash) and the entries of its four indexes without the click id (primary key,
/// campaign, first seen; the click id's own index, which holds the campaign too, is counted
/// with the click id and the 8 bytes of the campaign).
pub const ROW_BYTES: usize = 208;

/// The most one click stores, table and indexes, whatever its registrations send: every field
/// at its cap, every map full, a full drop report.
pub const CLICK_MAX_BYTES: usize = ROW_BYTES
    + 2 * (CLICK_ID_MAX + TEXT)
    + FBCLID_MAX
    + 2 * COOKIE_MAX
    + 2 * TIKTOK_ID_MAX
    + 2 * URL_MAX
    + USER_AGENT_MAX
    + IP_TEXT_MAX
    + 9 * TEXT
    + DIGESTS * (DIGEST + TEXT)
    + 2 * (MAP + PIXEL_EVENT_IDS_MAX * (ENTRY + EVENT_NAME_MAX + PIXEL_EVENT_ID_MAX))
    + MAP
    + PIXEL_EVENT_IDS_MAX * (ENTRY + EVENT_NAME_MAX + TIME)
    + MAP
    + DROP_REPORT_MAX * (DROPPED + DROP_FIELD_MAX + DROP_REASON_MAX);

impl NewClick {
    /// What this registration's values take: the most a merge into a stored click may add (a
    /// merge only fills what is missing).
    pub fn payload_bytes(&self) -> usize {
        self.bytes(None)
    }

    /// What merging this registration into `stored` adds: its values `stored` lacks, and its
    /// drop report (which replaces the stored one). Zero for a consent answer alone.
    pub fn merge_bytes(&self, stored: &Click) -> usize {
        self.bytes(Some(stored))
    }

    /// What this registration takes as a new click: its values, its row and index entries.
    pub fn row_bytes(&self) -> usize {
        ROW_BYTES + 2 * (self.click_id.as_str().len() + TEXT) + self.payload_bytes()
    }

    fn bytes(&self, stored: Option<&Click>) -> usize {
        // A value counts unless the stored click has one already.
        let text = |v: Option<&str>, had: fn(&Click) -> Option<&str>| match v {
            Some(s) if stored.and_then(had).is_none() => s.len() + TEXT,
            _ => 0,
        };
        let map = |entries: usize, keys_and_values: usize| match entries {
            0 => 0,
            n => MAP + n * ENTRY + keys_and_values,
        };
        let ids = |m: &BTreeMap<String, String>, had: fn(&Click) -> &EventIds| {
            let new: Vec<_> = m
                .iter()
                .filter(|(k, _)| stored.is_none_or(|c| had(c).get(k).is_none()))
                .collect();
            map(new.len(), new.iter().map(|(k, v)| k.len() + v.len()).sum())
        };
        let fired: Vec<_> = self
            .pixel_fired_at
            .as_map()
            .keys()
            .filter(|k| stored.is_none_or(|c| c.pixel_fired_at.get(k).is_none()))
            .collect();
        let dropped = match self.dropped.is_empty() {
            true => 0,
            false => {
                MAP + self
                    .dropped
                    .iter()
                    .map(|d| DROPPED + d.field.len() + d.reason.len())
                    .sum::<usize>()
            }
        };
        let had_customer = stored.map(|c| c.customer.to_columns());
        let customer = self
            .customer
            .to_columns()
            .iter()
            .enumerate()
            .filter(|(i, v)| {
                v.is_some() && had_customer.as_ref().is_none_or(|had| had[*i].is_none())
            })
            .count()
            + usize::from(
                self.customer.tiktok_ph().is_some()
                    && stored.is_none_or(|c| c.customer.tiktok_ph().is_none()),
            )
            + usize::from(
                self.customer.tiktok_external_id().is_some()
                    && stored.is_none_or(|c| c.customer.tiktok_external_id().is_none()),
            );
        let ip = self.client_ip_address.map(|ip| ip.to_string());
        text(self.fbclid.as_ref().map(|v| v.as_str()), |c| {
            c.fbclid.as_deref()
        }) + text(self.fbc.as_ref().map(|v| v.as_str()), |c| c.fbc.as_deref())
            + text(self.fbp.as_ref().map(|v| v.as_str()), |c| c.fbp.as_deref())
            + text(self.ttclid.as_ref().map(|v| v.as_str()), |c| {
                c.ttclid.as_deref()
            })
            + text(self.ttp.as_ref().map(|v| v.as_str()), |c| c.ttp.as_deref())
            + text(self.event_source_url.as_ref().map(|v| v.as_str()), |c| {
                c.event_source_url.as_deref()
            })
            + text(self.referrer_url.as_ref().map(|v| v.as_str()), |c| {
                c.referrer_url.as_deref()
            })
            + text(self.client_user_agent.as_ref().map(|v| v.as_str()), |c| {
                c.client_user_agent.as_deref()
            })
            + text(ip.as_deref(), |c| c.client_ip_address.as_deref())
            + customer * (DIGEST + TEXT)
            + ids(self.event_ids.as_map(), |c| &c.event_ids)
            + ids(self.tiktok_event_ids.as_map(), |c| &c.tiktok_event_ids)
            + map(fired.len(), fired.iter().map(|k| k.len() + TIME).sum())
            + dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/api.md states the maximum; the number there is this one.
    #[test]
    fn docs_state_the_most_one_click_stores() {
        let docs = include_str!("../../docs/api.md");
        let line = format!("at most {CLICK_MAX_BYTES} bytes");
        assert!(docs.contains(&line), "docs/api.md lacks {line:?}");
    }
}
