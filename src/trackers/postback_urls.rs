//! The postback URL to paste into each tracker: its own macros under our parameter names. One
//! table for the dashboard's campaign page and the docs (a test checks docs/trackers.md quotes
//! every line of it).

/// One tracker's postback URL, without the bridge's address and key.
pub struct PostbackUrl {
    /// The campaign page's `#postback-{id}`.
    pub id: &'static str,
    pub label: &'static str,
    /// The dialect in the path (`/v1/postback/{dialect}`).
    pub dialect: &'static str,
    /// Everything after `key=...&`. `REPLACE` / `OPTIONAL` mark the values the tracker leaves
    /// to you (its macro for a status or click id): unfilled, they count as absent, and an
    /// unfilled status is refused, never taken for a sale.
    pub query: &'static str,
}

pub const POSTBACK_URLS: &[PostbackUrl] = &[
    PostbackUrl {
        id: "keitaro",
        label: "Keitaro",
        dialect: "keitaro",
        query: "subid={subid}&status={status}&revenue={revenue}&tid={tid}&currency={currency}",
    },
    PostbackUrl {
        id: "orbitra",
        label: "Orbitra.link",
        dialect: "keitaro",
        query: "subid={subid}&status={status}&payout={payout}&tid={tid}&currency={currency}",
    },
    PostbackUrl {
        id: "binom",
        label: "Binom",
        dialect: "binom",
        query:
            "cnv_id={clickid}&cnv_status={cnv_status}&payout={payout}&cnv_currency={cnv_currency}",
    },
    PostbackUrl {
        id: "bemob",
        label: "BeMob",
        dialect: "bemob",
        query: "cid={externalId}&status={status}",
    },
    PostbackUrl {
        id: "voluum",
        label: "Voluum",
        dialect: "voluum",
        query: "cid={externalid}&et=REPLACE&payout={payout}&txid={transaction.id}",
    },
    PostbackUrl {
        id: "redtrack",
        label: "RedTrack",
        dialect: "redtrack",
        query: "clickid=REPLACE&type=REPLACE&sum=OPTIONAL&txid=OPTIONAL",
    },
    PostbackUrl {
        id: "clickflare",
        label: "ClickFlare",
        dialect: "clickflare",
        query: "cid={externalid}&status=REPLACE&payout={payout}&txid={transaction.id}",
    },
    PostbackUrl {
        id: "generic",
        label: "Generic (a network posting directly)",
        dialect: "generic",
        query: "click_id=REPLACE&status=REPLACE&value=OPTIONAL&currency=OPTIONAL&txid=OPTIONAL",
    },
];

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

    #[test]
    fn urls_carry_the_base_the_key_and_the_macros() {
        let keitaro = &POSTBACK_URLS[0];
        let cases = [
            ("https://b.test", "k3y", "https://b.test/v1/postback/keitaro?key=k3y&subid={subid}&status={status}&revenue={revenue}&tid={tid}&currency={currency}"),
            ("http://127.0.0.1:8080", "a&b#c d", "http://127.0.0.1:8080/v1/postback/keitaro?key=a%26b%23c%20d&subid={subid}&status={status}&revenue={revenue}&tid={tid}&currency={currency}"),
        ];
        for (base, key, want) in cases {
            assert_eq!(keitaro.url(base, key), want);
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
