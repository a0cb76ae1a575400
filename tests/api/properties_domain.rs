//! Property tests (proptest) of the domain value types: each accepts exactly its\nalphabet and round-trips. No server and no database.

use crate::helpers::properties::*;
use capi_bridge::domain::{
    CampaignKey, ClickId, CookieValue, Currency, EventIdTemplate, EventIds, EventMap, HttpUrl,
    UserAgent,
};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use std::collections::BTreeMap;

fn placeholder_template() -> impl Strategy<Value = String> {
    vec(
        prop_oneof![
            "[A-Za-z0-9:_./}-]{0,12}",
            select(&["{event_name}", "{click_id}", "{txid}", "{campaign}"][..])
                .prop_map(String::from),
        ],
        0..6,
    )
    .prop_flat_map(|parts| {
        let n = parts.len();
        (Just(parts), 0..=n)
    })
    .prop_map(|(mut parts, at)| {
        parts.insert(at, "{click_id}".to_owned());
        parts.concat()
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn click_id_accepts_exactly_its_alphabet(s in prop_oneof![text(140), click_id()]) {
        let shape = (1..=128).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-'));
        match ClickId::parse(&s) {
            Ok(id) => {
                prop_assert!(shape);
                prop_assert_eq!(id.as_str(), s.as_str());
            }
            Err(_) => prop_assert!(!shape),
        }
    }

    #[test]
    fn campaign_key_accepts_exactly_its_alphabet(s in prop_oneof![text(70), "[a-z0-9_-]{1,64}"]) {
        let shape = (1..=64).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        prop_assert_eq!(CampaignKey::parse(&s).is_ok(), shape);
        if let Ok(k) = CampaignKey::parse(&s) {
            prop_assert_eq!(k.as_str(), s.as_str());
        }
    }

    #[test]
    fn fbclid_is_kept_byte_for_byte_but_control_characters(
        s in prop_oneof![text(40), "[!-~]{1,1000}", "[!-~]{1001,1010}", "\\PC{1,30}"],
    ) {
        let kept: String = s.trim().chars().filter(|c| !c.is_control()).collect();
        let kept = kept.trim();
        let fits = !kept.is_empty() && kept.chars().count() <= 1000;
        match CookieValue::parse_fbclid(&s) {
            Ok(v) => {
                prop_assert!(fits);
                prop_assert_eq!(v.value.as_str(), kept);
                prop_assert_eq!(v.changed, kept != s);
            }
            Err(_) => prop_assert!(!fits),
        }
    }

    #[test]
    fn fb_cookies_have_metas_shape(
        s in prop_oneof![
            text(40),
            "fb\\.[0-9]{1,2}\\.[0-9]{1,13}\\.[!-~]{1,60}",
            "fb\\.[0-9a-z]{0,2}\\.[0-9a-z.]{0,13}\\.?[ -~]{0,10}",
        ],
    ) {
        if let Ok(v) = CookieValue::parse_cookie(&s) {
            prop_assert_eq!(v.value.as_str(), s.trim());
            prop_assert!(s.trim().len() <= 1100 && s.trim().bytes().all(|b| b.is_ascii_graphic()));
            let parts: Vec<&str> = s.splitn(4, '.').collect();
            prop_assert_eq!(parts.len(), 4);
            prop_assert_eq!(parts[0], "fb");
            prop_assert!(!parts[1].is_empty() && parts[1].bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(!parts[2].is_empty() && parts[2].bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(!parts[3].is_empty());
        }
    }

    #[test]
    fn valid_fb_cookies_are_accepted(
        index in 0u32..10,
        ms in 1_000_000_000_000u64..2_000_000_000_000,
        // No dot: a dot starts the optional appendix segment Meta's parameter builder adds.
        value in "[!-\\-/-~]{1,60}",
    ) {
        let s = format!("fb.{index}.{ms}.{value}");
        prop_assert!(CookieValue::parse_cookie(&s).is_ok(), "{}", s);
    }

    #[test]
    fn http_urls_are_absolute_http(
        s in prop_oneof![
            text(60),
            "(http|https|HTTP|HtTpS|ftp|javascript)://[!-~]{0,80}",
            "https?://[ -~\u{e9}\u{a0}\u{85}]{0,20}",
            "https://[a-z]{1,10}/[a-z]{2040,2050}",
        ],
    ) {
        match HttpUrl::parse(&s) {
            Ok(u) => {
                // Unchanged but for a fragment or personal data in the query.
                let no_fragment = s.split('#').next().unwrap();
                prop_assert!(no_fragment.starts_with(u.as_str().split('?').next().unwrap()));
                let lower = s.to_ascii_lowercase();
                prop_assert!(lower.starts_with("http://") || lower.starts_with("https://"));
                prop_assert!(s.len() <= 2048);
                prop_assert!(!s.chars().any(|c| c.is_control() || c == ' '));
            }
            Err(_) => {
                let lower = s.to_ascii_lowercase();
                let good = (lower.starts_with("http://") || lower.starts_with("https://"))
                    && s.len() <= 2048
                    && !s.chars().any(|c| c.is_control() || c == ' ');
                prop_assert!(!good, "refused {:?}", s);
            }
        }
    }

    #[test]
    fn user_agents_are_trimmed_and_bounded(
        s in prop_oneof![text(60), "[ -~]{1,1030}", "[ -~\u{e9}\u{7f}\u{85}]{0,20}"],
    ) {
        match UserAgent::parse(&s) {
            Ok(ua) => {
                prop_assert_eq!(ua.as_str(), s.trim());
                prop_assert!((1..=1024).contains(&ua.as_str().len()));
                prop_assert!(!ua.as_str().chars().any(char::is_control));
            }
            Err(_) => {
                let t = s.trim();
                prop_assert!(
                    t.is_empty() || t.len() > 1024 || t.chars().any(char::is_control),
                    "refused {:?}", s
                );
            }
        }
    }

    #[test]
    fn currencies_are_three_upper_case_letters(
        s in prop_oneof![text(6), "[A-Za-z]{3}", select(&["usd", " EUR ", "gBp", "jpy\t"][..]).prop_map(String::from)],
    ) {
        if let Ok(c) = Currency::parse(&s) {
            let code = c.as_str();
            prop_assert!(code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()));
            prop_assert!(code.eq_ignore_ascii_case(s.trim()));
            prop_assert_eq!(Currency::parse(code).unwrap(), c);
            prop_assert_eq!(Currency::parse(&code.to_ascii_lowercase()).unwrap(), c);
        }
    }

    #[test]
    fn event_id_templates_keep_the_click_id(
        s in prop_oneof![text(40), placeholder_template(), "[{}a-z_]{0,30}"],
        click in click_id(),
        event in "[A-Za-z]{1,20}",
        txid in "[A-Za-z0-9]{0,20}",
        campaign in "[a-z0-9_-]{1,20}",
    ) {
        if let Ok(t) = EventIdTemplate::parse(&s) {
            prop_assert_eq!(t.as_str(), s.as_str());
            prop_assert!((1..=200).contains(&s.len()));
            prop_assert!(s.contains("{click_id}"), "{:?}", s);
            let rendered = t.render(&event, &click, &txid, &campaign);
            prop_assert!(rendered.contains(click.as_str()));
            prop_assert!(!rendered.contains('{'), "{:?} left a brace in {:?}", s, rendered);
        }
    }

    #[test]
    fn built_event_id_templates_are_accepted(s in placeholder_template()) {
        prop_assume!(s.len() <= 200);
        // Each placeholder at its longest value: ids over 400 characters are refused.
        let worst = s
            .replace("{event_name}", &"e".repeat(50))
            .replace("{click_id}", &"c".repeat(128))
            .replace("{txid}", &"t".repeat(128))
            .replace("{campaign}", &"k".repeat(64));
        prop_assume!(worst.len() <= 400);
        prop_assert!(EventIdTemplate::parse(&s).is_ok(), "{}", s);
    }

    #[test]
    fn event_maps_are_keyed_by_normalised_words(
        raw in btree_map(
            prop_oneof![text(20), "[A-Za-z]{1,10}", "[ -~]{60,70}"],
            proptest::option::of(prop_oneof![text(20), "[A-Za-z0-9_ -]{1,50}"]),
            0..8,
        ),
    ) {
        if let Ok(map) = EventMap::parse(raw.clone()) {
            for (word, event) in &raw {
                let key = word.trim().to_lowercase();
                prop_assert!(!key.is_empty() && key.len() <= 64);
                prop_assert!(!key.chars().any(char::is_control));
                let got = map.get(&key);
                prop_assert!(got.is_some(), "{:?} missing", key);
                // Without two words colliding after lower-casing, the event is the one given.
                let collisions = raw.keys().filter(|w| w.trim().to_lowercase() == key).count();
                if collisions == 1 {
                    prop_assert_eq!(got.unwrap().map(|e| e.as_str()), event.as_deref());
                }
            }
            for name in map.event_names() {
                let n = name.as_str();
                prop_assert!((1..=50).contains(&n.len()));
                prop_assert!(n.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b' ' | b'-')));
            }
        }
    }

    #[test]
    fn event_ids_are_printable(
        raw in btree_map(
            prop_oneof![text(12), "[A-Za-z]{1,10}"],
            prop_oneof![text(12), "[!-~]{1,256}"],
            0..6,
        ),
    ) {
        if let Ok(ids) = EventIds::parse(raw.clone()) {
            prop_assert_eq!(ids.as_map(), &raw);
            for id in raw.values() {
                prop_assert!((1..=256).contains(&id.len()));
                prop_assert!(id.bytes().all(|b| b.is_ascii_graphic()));
            }
        }
    }
}

/// Keeps `BTreeMap` in use for readers: the admin API's `event_map` is exactly this shape.
#[test]
fn default_event_map_round_trips_through_parse() {
    let raw: BTreeMap<String, Option<String>> = BTreeMap::from([
        ("lead".into(), Some("Lead".into())),
        ("sale".into(), Some("Purchase".into())),
        ("rebill".into(), Some("Purchase".into())),
        ("rejected".into(), None),
    ]);
    assert_eq!(EventMap::parse(raw).unwrap(), EventMap::default());
}
