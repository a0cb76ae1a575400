//! The `fbc` a Meta event carries (`docs/reference/meta-capi.md`, "fbc and fbp"): the `_fbc`
//! cookie byte for byte, else `fb.1.<creation ms>.<fbclid>` built from the click's or the
//! postback's fbclid. Pure.

use chrono::{DateTime, Utc};

use crate::domain::{Click, Conversion};

/// The stored `_fbc` cookie verbatim; else one built from the fbclid (the click's, else the
/// postback's, so a postback whose click was never registered keeps its click id too).
pub fn fbc(click: Option<&Click>, conv: &Conversion) -> Option<String> {
    if let Some(cookie) = click.and_then(|c| c.fbc.as_ref()) {
        return Some(cookie.clone());
    }
    let fbclid = click
        .and_then(|c| c.fbclid.as_ref())
        .or(conv.fbclid.as_ref())?;
    let created = creation_ms(click.map(|c| c.first_seen_at), conv.event_time);
    Some(fbc_from_fbclid(created, fbclid))
}

/// When the ad was clicked, as Meta reads a built fbc: the earliest time known for the click
/// (its first sight, else the conversion's `event_time`), and never later than the `event_time`
/// the event carries, which is whole seconds: Meta refuses an fbc created after its event, and
/// a click and postback in the same second would otherwise be milliseconds after it.
pub fn creation_ms(click_seen: Option<DateTime<Utc>>, event_time: DateTime<Utc>) -> i64 {
    let event_ms = event_time.timestamp() * 1000;
    click_seen.map_or(event_ms, |t| t.timestamp_millis().min(event_ms))
}

/// `fb.1.<creation ms>.<fbclid>`; the fbclid is case-sensitive and kept as given.
pub fn fbc_from_fbclid(creation_ms: i64, fbclid: &str) -> String {
    format!("fb.1.{creation_ms}.{fbclid}")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::fixtures::{bare_click, conversion, CONVERSION_SECS, FIRST_SEEN_MS};

    fn at_ms(ms: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(ms).unwrap()
    }

    #[test]
    fn the_creation_time_is_the_earliest_known_and_never_after_the_event() {
        let event_s = 1_700_000_000;
        let event = |ms_into_second: i64| at_ms(event_s * 1000 + ms_into_second);
        // (click first seen, event time, creation ms)
        let cases = [
            // The click an hour earlier: its own milliseconds.
            (Some(at_ms(1_699_996_400_123)), event(0), 1_699_996_400_123),
            // Click and postback in the same second: the event's second, not the click's ms.
            (
                Some(at_ms(event_s * 1000 + 300)),
                event(700),
                event_s * 1000,
            ),
            (
                Some(at_ms(event_s * 1000 + 999)),
                event(999),
                event_s * 1000,
            ),
            (Some(at_ms(event_s * 1000)), event(0), event_s * 1000),
            // The postback before its click (a tracker's own event_time): the event's time.
            (
                Some(at_ms(event_s * 1000 + 5_500)),
                event(0),
                event_s * 1000,
            ),
            // The click one millisecond before the event's second: kept.
            (
                Some(at_ms(event_s * 1000 - 1)),
                event(400),
                event_s * 1000 - 1,
            ),
            // No click registered: the event's time is the earliest known.
            (None, event(0), event_s * 1000),
            (None, event(850), event_s * 1000),
        ];
        for (click, event_time, expected) in cases {
            let created = creation_ms(click, event_time);
            assert_eq!(created, expected, "click {click:?} event {event_time:?}");
            assert!(created <= event_time.timestamp() * 1000);
        }
    }

    #[test]
    fn the_cookie_else_the_clicks_else_the_postbacks_fbclid() {
        let cookie = "fb.2.1554763741205.AbCdEf_GhIj";
        let click = |fbc: Option<&str>, fbclid: Option<&str>| Click {
            fbc: fbc.map(str::to_owned),
            fbclid: fbclid.map(str::to_owned),
            ..bare_click()
        };
        let conv = |fbclid: Option<&str>, event_ms: i64| Conversion {
            fbclid: fbclid.map(str::to_owned),
            event_time: at_ms(event_ms),
            ..conversion()
        };
        let later = CONVERSION_SECS * 1000;
        let same_second = FIRST_SEEN_MS + 400;
        let second_of_click = FIRST_SEEN_MS / 1000 * 1000;
        // (click, conversion, fbc)
        let cases: Vec<(Option<Click>, Conversion, Option<String>)> = vec![
            // A cookie byte for byte, even one created after the event.
            (
                Some(click(Some(cookie), Some("IwAR_Click"))),
                conv(Some("IwAR_Pb"), later),
                Some(cookie.to_owned()),
            ),
            (
                Some(click(Some("fb.1.9999999999999.x"), None)),
                conv(None, same_second),
                Some("fb.1.9999999999999.x".to_owned()),
            ),
            // The click's fbclid (case kept) with its first-seen milliseconds.
            (
                Some(click(None, Some("IwAR2xYz_MiXeD-Case"))),
                conv(Some("IwAR_Pb"), later),
                Some(format!("fb.1.{FIRST_SEEN_MS}.IwAR2xYz_MiXeD-Case")),
            ),
            // The postback's fbclid with the click's time.
            (
                Some(click(None, None)),
                conv(Some("IwAR_Pb"), later),
                Some(format!("fb.1.{FIRST_SEEN_MS}.IwAR_Pb")),
            ),
            // Same second: the event's whole second.
            (
                Some(click(None, Some("IwAR_Click"))),
                conv(None, same_second),
                Some(format!("fb.1.{second_of_click}.IwAR_Click")),
            ),
            // No click registered: the postback's fbclid at the event's time.
            (
                None,
                conv(Some("IwAR_Pb"), later + 250),
                Some(format!("fb.1.{later}.IwAR_Pb")),
            ),
            // Nothing to build from.
            (Some(click(None, None)), conv(None, later), None),
            (None, conv(None, later), None),
        ];
        for (click, conv, expected) in cases {
            assert_eq!(fbc(click.as_ref(), &conv), expected, "{click:?} {conv:?}");
        }
    }
}
