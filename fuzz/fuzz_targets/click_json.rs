//! JSON bodies as the click and postback endpoints read them: `Params::from_json_object`, then
//! every domain parser over every value, the generic dialect over the pairs, and the nested
//! `event_ids` / `event_map` shapes into `EventIds::parse` / `EventMap::parse`. Never panics.

#![no_main]

use std::collections::BTreeMap;

use capi_bridge::domain::{
    CampaignKey, ClickId, CookieValue, Currency, CustomerField, EventIdTemplate, EventIds,
    EventMap, HttpUrl, UserAgent,
};
use capi_bridge::http::params::Params;
use capi_bridge::trackers::{self, Tracker};
use libfuzzer_sys::fuzz_target;

fn all_parsers(v: &str) {
    if let Ok(id) = ClickId::parse(v) {
        assert_eq!(id.as_str(), v);
    }
    let _ = CampaignKey::parse(v);
    let _ = CookieValue::parse_fbclid(v);
    if CookieValue::parse_cookie(v).is_ok() {
        assert!(v.starts_with("fb."));
    }
    if let Ok(u) = HttpUrl::parse(v) {
        assert!(u.as_str().len() <= 2048);
    }
    if let Ok(ua) = UserAgent::parse(v) {
        assert_eq!(ua.as_str(), v.trim());
    }
    if let Ok(c) = Currency::parse(v) {
        assert_eq!(c.as_str().len(), 3);
    }
    if let Ok(t) = EventIdTemplate::parse(v) {
        assert!(t.render("Lead", "c1", "t1", "k").contains("c1"));
    }
    for f in CustomerField::ALL {
        let _ = f.hash(v);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(pairs) = Params::from_json_object(data) {
        for (k, v) in &pairs {
            all_parsers(k);
            all_parsers(v);
        }
        let params = Params::from_pairs(pairs);
        let _ = trackers::parse(Tracker::Generic, &params, chrono::Utc::now());
    }
    if let Ok(map) = serde_json::from_slice::<BTreeMap<String, String>>(data) {
        let _ = EventIds::parse(map);
    }
    if let Ok(map) = serde_json::from_slice::<BTreeMap<String, Option<String>>>(data) {
        let _ = EventMap::parse(map);
    }
});
