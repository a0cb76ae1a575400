//! The postback URL to paste into each tracker: its own macros under our parameter names. One
//! table for the dashboard's campaign page and the docs (a test checks docs/trackers.md quotes
//! every line of it). Each URL carries the payout, the transaction id and a click id the lander
//! registers, where the tracker has macros for them (checked against each tracker's own
//! documentation; docs/trackers.md says where it has none).

/// One tracker's postback URL, without the bridge's address and key.
pub struct PostbackUrl {
    /// The campaign page's `#postback-{id}`.
    pub id: &'static str,
    pub label: &'static str,
    /// The dialect in the path (`/v1/postback/{dialect}`).
    pub dialect: &'static str,
    /// The parameter that carries the click id (the test URL fills it with a sample).
    pub click_param: &'static str,
    /// Everything after `key=...&`. `REPLACE` / `OPTIONAL` mark the values the tracker leaves
    /// to you (its macro for a status or click id): unfilled, they count as absent, and an
    /// unfilled status is refused, never taken for a sale.
    pub query: &'static str,
}

pub const POSTBACK_URLS: &[PostbackUrl] = &[
    // docs.keitaro.io "S2S postback placeholders": {subid}, {status}, {revenue}, {tid},
    // {currency}, {ip}, {user_agent}; values are URL-encoded by default.
    PostbackUrl {
        id: "keitaro",
        label: "Keitaro",
        dialect: "keitaro",
        click_param: "subid",
        query: "subid={subid}&status={status}&revenue={revenue}&tid={tid}&currency={currency}\
                &ip={ip}&ua={user_agent}",
    },
    PostbackUrl {
        id: "orbitra",
        label: "Orbitra.link",
        dialect: "keitaro",
        click_param: "subid",
        query: "subid={subid}&status={status}&payout={payout}&tid={tid}&currency={currency}",
    },
    // docs.binom.org "Traffic source postback" and its "Tokens for postback URL": {clickid},
    // {cnv_status}, {payout}, {cnv_currency}, {ip}; no transaction id token.
    PostbackUrl {
        id: "binom",
        label: "Binom",
        dialect: "binom",
        click_param: "cnv_id",
        query: "cnv_id={clickid}&cnv_status={cnv_status}&payout={payout}\
                &cnv_currency={cnv_currency}&ip={ip}",
    },
    // Posted by the network with BeMob's click id, in the shape of BeMob's own postback
    // (`cid=REPLACE&payout=OPTIONAL&txid=OPTIONAL&status=OPTIONAL`, docs.bemob.com): the one
    // BeMob URL that matches Facebook traffic, which passes BeMob no external id.
    PostbackUrl {
        id: "bemob",
        label: "BeMob (posted by the network, BeMob's click id)",
        dialect: "bemob",
        click_param: "cid",
        query: "cid=REPLACE&status=REPLACE&payout=OPTIONAL&txid=OPTIONAL",
    },
    // BeMob's traffic-source postback (docs.bemob.com): {externalId}, {payout}, {status};
    // BeMob documents no transaction id token for it.
    PostbackUrl {
        id: "bemob-source",
        label: "BeMob (its traffic-source postback, {externalId})",
        dialect: "bemob",
        click_param: "cid",
        query: "cid={externalId}&status={status}&payout={payout}",
    },
    PostbackUrl {
        id: "voluum",
        label: "Voluum",
        dialect: "voluum",
        click_param: "cid",
        query: "cid={externalid}&et=REPLACE&payout={payout}&txid={transaction.id}",
    },
    PostbackUrl {
        id: "redtrack",
        label: "RedTrack",
        dialect: "redtrack",
        click_param: "clickid",
        query: "clickid=REPLACE&type=REPLACE&sum=OPTIONAL&txid=OPTIONAL",
    },
    // help.clickflare.io "traffic source S2S postback URL": {externalid}, {ip},
    // {transaction.id}, and the payout.
    PostbackUrl {
        id: "clickflare",
        label: "ClickFlare",
        dialect: "clickflare",
        click_param: "cid",
        query: "cid={externalid}&status=REPLACE&payout={payout}&txid={transaction.id}&ip={ip}",
    },
    PostbackUrl {
        id: "generic",
        label: "Generic (a network posting directly)",
        dialect: "generic",
        click_param: "click_id",
        query: "click_id=REPLACE&status=REPLACE&value=OPTIONAL&currency=OPTIONAL&txid=OPTIONAL",
    },
];

/// The click id the campaign page's test URLs carry: never registered, so nothing is sent.
pub const SAMPLE_CLICK_ID: &str = "test-click-1";

impl PostbackUrl {
    /// The full URL on `base` (scheme and host, no trailing slash) with the postback key.
    pub fn url(&self, base: &str, key: &str) -> String {
        format!(
            "{base}/v1/postback/{}?key={}&{}",
            self.dialect,
            encode_component(key),
            self.query
        )
    }

    /// [`Self::url`] for one campaign: with `&campaign=`, so a conversion whose click was never
    /// registered still knows where to go.
    pub fn campaign_url(&self, base: &str, key: &str, campaign: &str) -> String {
        format!(
            "{}&campaign={}",
            self.url(base, key),
            encode_component(campaign)
        )
    }

    /// [`Self::campaign_url`] with a sample click id and every other macro sent as written
    /// (braces percent-encoded, so no client rewrites them): it answers `422 unfilled_status`,
    /// the proof that an unfilled status is never taken for a sale.
    pub fn test_url(&self, base: &str, key: &str, campaign: &str) -> String {
        let url = self.campaign_url(base, key, campaign);
        let (head, query) = url.split_once('?').unwrap_or((&url, ""));
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if name == self.click_param => {
                    format!("{name}={SAMPLE_CLICK_ID}")
                }
                _ => pair.replace('{', "%7B").replace('}', "%7D"),
            })
            .collect();
        format!("{head}?{}", pairs.join("&"))
    }
}

/// Percent-encodes all but RFC 3986's unreserved characters: a key may hold `&` or `#`.
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEITARO: &str = "subid={subid}&status={status}&revenue={revenue}&tid={tid}\
                           &currency={currency}&ip={ip}&ua={user_agent}";

    #[test]
    fn urls_carry_the_base_the_key_and_the_macros() {
        let keitaro = &POSTBACK_URLS[0];
        let cases = [
            (
                "https://b.test",
                "k3y",
                format!("https://b.test/v1/postback/keitaro?key=k3y&{KEITARO}"),
            ),
            (
                "http://127.0.0.1:8080",
                "a&b#c d",
                format!("http://127.0.0.1:8080/v1/postback/keitaro?key=a%26b%23c%20d&{KEITARO}"),
            ),
        ];
        for (base, key, want) in cases {
            assert_eq!(keitaro.url(base, key), want);
        }
    }

    #[test]
    fn campaign_urls_name_the_campaign_and_test_urls_fill_only_a_sample_click_id() {
        let by_id = |id: &str| POSTBACK_URLS.iter().find(|u| u.id == id).unwrap();
        let cases = [
            ("keitaro", "offer1", "https://b.test/v1/postback/keitaro?key=K&subid=test-click-1&status=%7Bstatus%7D&revenue=%7Brevenue%7D&tid=%7Btid%7D&currency=%7Bcurrency%7D&ip=%7Bip%7D&ua=%7Buser_agent%7D&campaign=offer1"),
            ("bemob", "a b", "https://b.test/v1/postback/bemob?key=K&cid=test-click-1&status=REPLACE&payout=OPTIONAL&txid=OPTIONAL&campaign=a%20b"),
            ("binom", "x", "https://b.test/v1/postback/binom?key=K&cnv_id=test-click-1&cnv_status=%7Bcnv_status%7D&payout=%7Bpayout%7D&cnv_currency=%7Bcnv_currency%7D&ip=%7Bip%7D&campaign=x"),
        ];
        for (id, campaign, want) in cases {
            let u = by_id(id);
            assert_eq!(
                u.campaign_url("https://b.test", "K", campaign),
                format!(
                    "{}&campaign={}",
                    u.url("https://b.test", "K"),
                    campaign.replace(' ', "%20")
                )
            );
            assert_eq!(u.test_url("https://b.test", "K", campaign), want);
        }
    }

    /// Each URL names the payout and the click id in its dialect's own parameters, and the
    /// transaction id where the tracker has a macro for it (Orbitra's and Binom's outgoing
    /// tokens carry none, BeMob's traffic-source postback neither: docs/trackers.md says so).
    #[test]
    fn every_url_carries_a_click_id_a_payout_and_a_transaction_id_where_there_is_one() {
        let without_txid = ["binom", "bemob-source"];
        for u in POSTBACK_URLS {
            let names: Vec<&str> = u
                .query
                .split('&')
                .filter_map(|p| p.split_once('=').map(|(n, _)| n))
                .collect();
            assert_eq!(names[0], u.click_param, "{}", u.id);
            assert!(
                ["payout", "revenue", "sum", "value"]
                    .iter()
                    .any(|n| names.contains(n)),
                "{} has no payout",
                u.id
            );
            let txid = names.iter().any(|n| ["tid", "txid"].contains(n));
            assert_eq!(
                txid,
                !without_txid.contains(&u.id),
                "{} transaction id",
                u.id
            );
            let t = crate::domain::params::Params::from_pairs(u.query.split('&').map(|pair| {
                let (n, v) = pair.split_once('=').unwrap();
                (n.to_owned(), v.to_owned())
            }));
            // Every value is the tracker's to fill: unfilled, nothing counts as given.
            for (name, _) in t.iter() {
                assert_eq!(t.get(name), None, "{}: {name}", u.id);
            }
        }
    }

    #[test]
    fn every_dialect_has_a_url_and_ids_are_unique() {
        for dialect in crate::trackers::Tracker::ALL.map(|t| t.as_str()) {
            assert!(
                POSTBACK_URLS
                    .iter()
                    .any(|u| u.id == dialect && u.dialect == dialect),
                "{dialect}"
            );
        }
        let mut ids: Vec<_> = POSTBACK_URLS.iter().map(|u| u.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), POSTBACK_URLS.len());
    }

    /// Every full postback URL quoted in `text` (between backticks).
    fn quoted(text: &str) -> Vec<&str> {
        text.split('`')
            .filter(|s| s.starts_with("https://bridge.example.com/v1/postback/"))
            .filter(|s| !s.contains("..."))
            .collect()
    }

    #[test]
    fn the_docs_and_the_readme_say_what_the_table_says() {
        let docs = include_str!("../../docs/trackers.md");
        let readme = include_str!("../../README.md");
        let table: Vec<String> = POSTBACK_URLS
            .iter()
            .map(|u| u.url("https://bridge.example.com", "KEY"))
            .collect();
        for url in &table {
            assert!(
                quoted(docs).contains(&url.as_str()),
                "docs/trackers.md lacks {url}"
            );
        }
        for (name, text) in [("docs/trackers.md", docs), ("README.md", readme)] {
            let found = quoted(text);
            assert!(!found.is_empty(), "{name} quotes no postback URL");
            for url in found {
                assert!(
                    table.iter().any(|t| t == url),
                    "{name}: {url} is not in the table"
                );
            }
        }
    }
}
