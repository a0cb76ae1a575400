//! The pixel twin of a server event: the browser event the landing tag fired for the same
//! click. Meta deduplicates the two only when they arrive within 48 hours of each other, so a
//! server event sent later than that is counted a second time.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{EventName, ParseError, PIXEL_EVENT_IDS_MAX};

/// How long after the pixel event Meta still deduplicates its server twin.
pub const PIXEL_DEDUP_WINDOW: Duration = Duration::hours(48);

/// How far ahead of the server a browser's clock may be before its times are refused.
const CLOCK_SKEW_MAX: Duration = Duration::minutes(10);
/// The oldest firing time taken: Meta takes no event older than its longest window anyway.
const FIRED_AGE_MAX: Duration = Duration::days(62);

/// Meta event name -> when the pixel fired it on this click.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PixelFiredAt(BTreeMap<String, DateTime<Utc>>);

impl PixelFiredAt {
    /// `raw` maps event names to unix milliseconds, as the tag sends them; `now` bounds them.
    pub fn parse(
        raw: &BTreeMap<String, serde_json::Value>,
        now: DateTime<Utc>,
    ) -> Result<Self, ParseError> {
        if raw.len() > PIXEL_EVENT_IDS_MAX {
            return Err(ParseError::new(format!(
                "at most {PIXEL_EVENT_IDS_MAX} events"
            )));
        }
        let mut out = BTreeMap::new();
        for (name, ms) in raw {
            let name = EventName::parse(name)?;
            let at = ms
                .as_i64()
                .or_else(|| ms.as_str().and_then(|s| s.trim().parse().ok()))
                .and_then(DateTime::from_timestamp_millis)
                .filter(|t| *t <= now + CLOCK_SKEW_MAX && *t >= now - FIRED_AGE_MAX)
                .ok_or_else(|| {
                    ParseError::new(format!(
                        "time for {} must be unix milliseconds within the last {} days",
                        name.as_str(),
                        FIRED_AGE_MAX.num_days()
                    ))
                })?;
            out.insert(name.as_str().to_owned(), at);
        }
        Ok(PixelFiredAt(out))
    }

    /// Unix milliseconds read back from the database, which only holds parsed values.
    pub fn from_stored(ms: BTreeMap<String, i64>) -> Self {
        PixelFiredAt(
            ms.into_iter()
                .filter_map(|(n, ms)| Some((n, DateTime::from_timestamp_millis(ms)?)))
                .collect(),
        )
    }

    /// The stored form: unix milliseconds by event name.
    pub fn to_millis(&self) -> BTreeMap<String, i64> {
        self.0
            .iter()
            .map(|(n, t)| (n.clone(), t.timestamp_millis()))
            .collect()
    }

    pub fn get(&self, event_name: &str) -> Option<DateTime<Utc>> {
        self.0.get(event_name).copied()
    }

    pub fn as_map(&self) -> &BTreeMap<String, DateTime<Utc>> {
        &self.0
    }
}

/// A campaign's choice for server events that would reach Meta after the dedup window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatePixelTwin {
    /// Send anyway: Meta may count the conversion twice (the quality report counts them).
    #[default]
    Send,
    /// Do not send: under-count rather than double-count.
    Skip,
}

impl LatePixelTwin {
    pub const ALL: [LatePixelTwin; 2] = [LatePixelTwin::Send, LatePixelTwin::Skip];

    pub const fn as_str(self) -> &'static str {
        match self {
            LatePixelTwin::Send => "send",
            LatePixelTwin::Skip => "skip",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| ParseError::new("must be \"send\" or \"skip\""))
    }
}

/// What to do with a server event about to be sent at `now` whose pixel twin fired at `fired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwinCheck {
    /// No pixel twin, or within the window: Meta deduplicates them.
    InTime,
    /// Past the window, sent anyway.
    SendLate,
    /// Past the window, not sent.
    Skip,
}

pub fn twin_check(
    policy: LatePixelTwin,
    fired: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> TwinCheck {
    match fired {
        Some(at) if now - at > PIXEL_DEDUP_WINDOW => match policy {
            LatePixelTwin::Send => TwinCheck::SendLate,
            LatePixelTwin::Skip => TwinCheck::Skip,
        },
        _ => TwinCheck::InTime,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn late_twin_rule() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let h = Duration::hours;
        let cases = [
            (LatePixelTwin::Send, None, TwinCheck::InTime),
            (LatePixelTwin::Skip, None, TwinCheck::InTime),
            (LatePixelTwin::Skip, Some(now - h(1)), TwinCheck::InTime),
            (LatePixelTwin::Skip, Some(now - h(48)), TwinCheck::InTime),
            (
                LatePixelTwin::Skip,
                Some(now - h(48) - Duration::seconds(1)),
                TwinCheck::Skip,
            ),
            (LatePixelTwin::Send, Some(now - h(49)), TwinCheck::SendLate),
            (LatePixelTwin::Skip, Some(now - h(24 * 6)), TwinCheck::Skip),
            // A pixel that fired after the send (a fast postback): nothing to deduplicate late.
            (LatePixelTwin::Skip, Some(now + h(1)), TwinCheck::InTime),
        ];
        for (policy, fired, expected) in cases {
            assert_eq!(
                twin_check(policy, fired, now),
                expected,
                "{policy:?} {fired:?}"
            );
        }
    }

    #[test]
    fn firing_times_are_bounded_and_named_by_event() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let ms = now.timestamp_millis();
        let ok = |v: serde_json::Value| {
            let raw: BTreeMap<String, serde_json::Value> = serde_json::from_value(v).unwrap();
            PixelFiredAt::parse(&raw, now)
        };
        let parsed = ok(json!({"Lead": ms - 1000, "Purchase": (ms - 5000).to_string()})).unwrap();
        assert_eq!(
            parsed.get("Lead"),
            DateTime::from_timestamp_millis(ms - 1000)
        );
        assert_eq!(
            parsed.get("Purchase"),
            DateTime::from_timestamp_millis(ms - 5000)
        );
        assert_eq!(PixelFiredAt::from_stored(parsed.to_millis()), parsed);
        let ten_minutes = 10 * 60 * 1000;
        assert!(ok(json!({"Lead": ms + ten_minutes})).is_ok());
        let day = 86_400_000_i64;
        assert!(ok(json!({"Lead": ms - 62 * day})).is_ok());
        for bad in [
            json!({"Lead": ms + ten_minutes + 1}),
            json!({"Lead": ms - 62 * day - 1}),
            json!({"Lead": 1.5}),
            json!({"Lead": "soon"}),
            json!({"Lead": null}),
            json!({"Lead!": ms}),
            json!({"": ms}),
        ] {
            assert!(ok(bad.clone()).is_err(), "{bad} accepted");
        }
        let many: serde_json::Map<String, serde_json::Value> =
            (0..21).map(|i| (format!("E{i}"), json!(ms))).collect();
        assert!(ok(serde_json::Value::Object(many)).is_err());
    }

    #[test]
    fn policy_words() {
        assert_eq!(LatePixelTwin::default(), LatePixelTwin::Send);
        for p in LatePixelTwin::ALL {
            assert_eq!(LatePixelTwin::parse(p.as_str()), Ok(p));
        }
        assert!(LatePixelTwin::parse("drop").is_err());
    }
}
