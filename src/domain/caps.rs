//! The most of each field that one click, postback or import row stores: one table for every
//! intake path, printed in docs/api.md ("Field caps"; a test keeps the two equal). A value over
//! its cap is dropped and reported, except where the table says otherwise; sized to real values
//! with room to spare, so a visitor's click stays small whatever a page sends. Caps count bytes
//! (UTF-8): the same as characters for the ASCII values browsers and trackers send.

/// A tracker's click id; a longer one refuses the click (it identifies the conversion).
pub const CLICK_ID_MAX: usize = 128;

/// `fbclid`: Meta's server-side builders keep any length; real ones are under 300 characters.
/// Twice Meta's browser limit (500), so a long one still reaches Meta from the server.
pub const FBCLID_MAX: usize = 1000;
/// `_fbc` / `_fbp`: `fb.1.` + 13 digits + an fbclid + the builder's appendix.
pub const COOKIE_MAX: usize = FBCLID_MAX + 100;
/// `ttclid` / `_ttp` (the columns' CHECK agrees).
pub const TIKTOK_ID_MAX: usize = 512;
/// `event_source_url`, `referrer_url`, a postback's `url`.
pub const URL_MAX: usize = 2048;
/// `client_user_agent`, a postback's `ua`.
pub const USER_AGENT_MAX: usize = 1024;
/// One raw customer value before it is hashed (an email, a name...).
pub const CUSTOMER_VALUE_MAX: usize = 512;
/// A transaction id; a longer one is replaced by its SHA-256 hex (stable, so a repeat still
/// matches) and reported.
pub const TXID_MAX: usize = 128;
/// A status word; a longer one refuses the postback (the status identifies the conversion).
pub const STATUS_MAX: usize = 64;
/// Pixel event ids one click registers, and the longest id (pixel ids are UUID-sized).
pub const PIXEL_EVENT_IDS_MAX: usize = 20;
pub const PIXEL_EVENT_ID_MAX: usize = 100;
/// An event name (the key of `event_ids`, `tiktok_event_ids`, `pixel_fired_at`).
pub const EVENT_NAME_MAX: usize = 50;
/// A visitor address as text (the longest IPv6 form, an IPv4-mapped one).
pub const IP_TEXT_MAX: usize = 45;
/// One reason of a stored drop report; a longer one is cut (a reason may quote what was sent).
pub const DROP_REASON_MAX: usize = 160;
/// A field name in a drop report (ours; the longest is 18).
pub const DROP_FIELD_MAX: usize = 32;

/// (field, cap in characters, what happens over it): what docs/api.md prints.
pub const TABLE: &[(&str, usize, &str)] = &[
    ("click_id", CLICK_ID_MAX, "422 invalid_field"),
    ("fbclid", FBCLID_MAX, "dropped, reported"),
    ("fbc, fbp", COOKIE_MAX, "dropped, reported"),
    ("ttclid, ttp", TIKTOK_ID_MAX, "dropped, reported"),
    (
        "event_source_url, referrer_url, url",
        URL_MAX,
        "dropped, reported",
    ),
    ("client_user_agent, ua", USER_AGENT_MAX, "dropped, reported"),
    ("client_ip_address, ip", IP_TEXT_MAX, "dropped, reported"),
    (
        "em, ph, fn, ln, ge, db, ct, st, zp, country, external_id",
        CUSTOMER_VALUE_MAX,
        "dropped, reported",
    ),
    ("txid", TXID_MAX, "replaced by its SHA-256 hex, reported"),
    ("status", STATUS_MAX, "422 invalid_field"),
    (
        "event_ids, tiktok_event_ids, pixel_fired_at (entries)",
        PIXEL_EVENT_IDS_MAX,
        "dropped, reported; a merge adds no names past it",
    ),
    (
        "event_ids, tiktok_event_ids (one id)",
        PIXEL_EVENT_ID_MAX,
        "dropped, reported",
    ),
    (
        "event names (the keys above)",
        EVENT_NAME_MAX,
        "dropped, reported",
    ),
    ("dropped (one reason)", DROP_REASON_MAX, "cut"),
];

#[cfg(test)]
mod tests {
    #[test]
    fn docs_print_the_table() {
        let docs = include_str!("../../docs/api.md");
        for (field, cap, over) in super::TABLE {
            let row = format!("| {field} | {cap} | {over} |");
            assert!(docs.contains(&row), "docs/api.md lacks the row {row}");
        }
    }
}
