use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ParseError;

/// The admin's name for a tracker campaign: 1-64 of `[a-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CampaignKey(String);

impl CampaignKey {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(CampaignKey(s.to_owned()))
        } else {
            Err(ParseError::new("must be 1-64 characters of a-z 0-9 _ -"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Meta pixel (dataset) id: digits only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PixelId(String);

impl PixelId {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(PixelId(s.to_owned()))
        } else {
            Err(ParseError::new("must be 1-32 digits"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A TikTok pixel code (`C4ABCDEF...`): letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TikTokPixelCode(String);

impl TikTokPixelCode {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(TikTokPixelCode(s.to_owned()))
        } else {
            Err(ParseError::new(
                "must be 1-64 letters and digits, like C4ABCDEF0123456789",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Meta's `action_source` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionSource {
    Website,
    App,
    Email,
    PhoneCall,
    Chat,
    PhysicalStore,
    SystemGenerated,
    BusinessMessaging,
    Other,
}

impl ActionSource {
    pub const ALL: [ActionSource; 9] = [
        ActionSource::Website,
        ActionSource::App,
        ActionSource::Email,
        ActionSource::PhoneCall,
        ActionSource::Chat,
        ActionSource::PhysicalStore,
        ActionSource::SystemGenerated,
        ActionSource::BusinessMessaging,
        ActionSource::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionSource::Website => "website",
            ActionSource::App => "app",
            ActionSource::Email => "email",
            ActionSource::PhoneCall => "phone_call",
            ActionSource::Chat => "chat",
            ActionSource::PhysicalStore => "physical_store",
            ActionSource::SystemGenerated => "system_generated",
            ActionSource::BusinessMessaging => "business_messaging",
            ActionSource::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|a| a.as_str()).collect();
                ParseError::new(format!("must be one of {}", names.join(", ")))
            })
    }

    /// How many days in the past Meta still accepts an event.
    pub fn max_age_days(self) -> i64 {
        match self {
            ActionSource::PhysicalStore => 62,
            _ => 7,
        }
    }
}

/// A Meta event name, standard (`Lead`, `Purchase`) or custom.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EventName(String);

impl EventName {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = (1..=super::caps::EVENT_NAME_MAX).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b' ' || b == b'-');
        if ok {
            Ok(EventName(s.to_owned()))
        } else {
            Err(ParseError::new(format!(
                "event name {s:?} must be 1-{} characters of letters, digits, space, _ and -",
                super::caps::EVENT_NAME_MAX
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Tracker status word (lowercase) -> a platform's event, or `None` for "record but never send".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct EventMap(BTreeMap<String, Option<EventName>>);

impl Default for EventMap {
    fn default() -> Self {
        let e = |s: &str| Some(EventName(s.to_owned()));
        EventMap(BTreeMap::from([
            ("lead".to_owned(), e("Lead")),
            ("sale".to_owned(), e("Purchase")),
            ("rebill".to_owned(), e("Purchase")),
            ("rejected".to_owned(), None),
        ]))
    }
}

impl EventMap {
    /// TikTok's standard events for the same statuses. Since May 2025 TikTok names them `Lead`
    /// and `Purchase` (ads.tiktok.com "how to adopt TikTok's updated standard events"); the
    /// older `SubmitForm` and `CompletePayment` are still accepted and converted.
    pub fn tiktok_default() -> Self {
        Self::default()
    }

    pub fn parse(raw: BTreeMap<String, Option<String>>) -> Result<Self, ParseError> {
        if raw.len() > 100 {
            return Err(ParseError::new("at most 100 status words"));
        }
        let mut out = BTreeMap::new();
        for (word, event) in raw {
            let word = word.trim().to_lowercase();
            if word.is_empty() || word.len() > 64 || word.chars().any(char::is_control) {
                return Err(ParseError::new(
                    "status words must be 1-64 characters without control characters",
                ));
            }
            let event = event.as_deref().map(EventName::parse).transpose()?;
            out.insert(word, event);
        }
        Ok(EventMap(out))
    }

    /// Looks up a status word. `Some(None)` is an explicit "do not send".
    pub fn get(&self, status: &str) -> Option<Option<&EventName>> {
        self.0.get(status).map(Option::as_ref)
    }

    /// The status words that send an event, with their event, in status-word order.
    pub fn sending(&self) -> impl Iterator<Item = (&str, &EventName)> {
        self.0
            .iter()
            .filter_map(|(word, event)| event.as_ref().map(|e| (word.as_str(), e)))
    }

    /// The distinct events this map can produce.
    pub fn event_names(&self) -> Vec<&EventName> {
        let mut names: Vec<&EventName> = self.0.values().flatten().collect();
        names.sort();
        names.dedup();
        names
    }
}

/// Where an event's `value` comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueSource {
    Payout,
    None,
    Fixed(f64),
}

impl ValueSource {
    pub fn parse_json(v: &serde_json::Value) -> Result<Self, ParseError> {
        match v {
            serde_json::Value::String(s) if s == "payout" => Ok(ValueSource::Payout),
            serde_json::Value::String(s) if s == "none" => Ok(ValueSource::None),
            serde_json::Value::Number(n) => match n.as_f64() {
                Some(f) if f.is_finite() && f >= 0.0 => Ok(ValueSource::Fixed(f)),
                _ => Err(ParseError::new("a fixed value must be a number >= 0")),
            },
            _ => Err(ParseError::new(
                "must be \"payout\", \"none\" or a fixed number",
            )),
        }
    }

    /// Database form: `payout`, `none` or the number as text.
    pub fn to_db(self) -> String {
        match self {
            ValueSource::Payout => "payout".into(),
            ValueSource::None => "none".into(),
            ValueSource::Fixed(f) => f.to_string(),
        }
    }

    pub fn from_db(s: &str) -> Self {
        match s {
            "payout" => ValueSource::Payout,
            "none" => ValueSource::None,
            n => n
                .parse()
                .map(ValueSource::Fixed)
                .unwrap_or(ValueSource::Payout),
        }
    }

    pub fn to_json(self) -> serde_json::Value {
        match self {
            ValueSource::Payout => "payout".into(),
            ValueSource::None => "none".into(),
            ValueSource::Fixed(f) => f.into(),
        }
    }
}

/// The `event_id` pattern for conversions without a registered pixel eventID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct EventIdTemplate(String);

impl Default for EventIdTemplate {
    fn default() -> Self {
        EventIdTemplate("{event_name}-{click_id}".into())
    }
}

pub const TEMPLATE_PLACEHOLDERS: [&str; 4] = ["event_name", "click_id", "txid", "campaign"];

/// The longest value each placeholder can take (EventName, ClickId, a tracker's txid, CampaignKey).
const PLACEHOLDER_MAX: [usize; 4] = [50, 128, 128, 64];

/// Longest event id a template may render. Meta's reference states no limit; 400 leaves room for
/// the rebill suffix and keeps ids far from any plausible cap.
pub const EVENT_ID_MAX: usize = 400;

impl EventIdTemplate {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        if s.is_empty() || s.len() > 200 {
            return Err(ParseError::new("must be 1-200 characters"));
        }
        // The id goes to Meta and into logs verbatim: no line breaks, tabs or other controls.
        if s.chars().any(char::is_control) {
            return Err(ParseError::new("must not contain control characters"));
        }
        let mut longest = s.len();
        let mut rest = s;
        while let Some(open) = rest.find('{') {
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| ParseError::new("has an unclosed {"))?;
            let name = &rest[open + 1..open + close];
            if !TEMPLATE_PLACEHOLDERS.contains(&name) {
                return Err(ParseError::new(format!(
                    "unknown placeholder {{{name}}}; use {{event_name}}, {{click_id}}, {{txid}}, {{campaign}}"
                )));
            }
            let i = TEMPLATE_PLACEHOLDERS.iter().position(|p| *p == name);
            longest = longest - (name.len() + 2) + i.map_or(0, |i| PLACEHOLDER_MAX[i]);
            rest = &rest[open + close + 1..];
        }
        if longest > EVENT_ID_MAX {
            return Err(ParseError::new(format!(
                "can render event ids of {longest} characters; at most {EVENT_ID_MAX} are allowed"
            )));
        }
        // Without the click id every conversion of the campaign would share one id and Meta
        // would drop all but the first as duplicates.
        if !s.contains("{click_id}") {
            return Err(ParseError::new(
                "must contain {click_id}, or every conversion would share one event id",
            ));
        }
        Ok(EventIdTemplate(s.to_owned()))
    }

    pub fn from_stored(s: String) -> Self {
        EventIdTemplate(s)
    }

    pub fn render(&self, event_name: &str, click_id: &str, txid: &str, campaign: &str) -> String {
        self.0
            .replace("{event_name}", event_name)
            .replace("{click_id}", click_id)
            .replace("{txid}", txid)
            .replace("{campaign}", campaign)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn campaign_key_rules() {
        assert!(CampaignKey::parse("fb-offer_1").is_ok());
        for bad in ["", "Upper", "a b", "é", &"a".repeat(65)] {
            assert!(CampaignKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pixel_id_is_digits() {
        assert!(PixelId::parse("123456789012345").is_ok());
        assert!(PixelId::parse("12a").is_err());
        assert!(PixelId::parse("").is_err());
    }

    #[test]
    fn default_event_map_sends_lead_and_sales_but_never_rejections() {
        let map = EventMap::default();
        assert_eq!(map.get("lead").unwrap().unwrap().as_str(), "Lead");
        assert_eq!(map.get("sale").unwrap().unwrap().as_str(), "Purchase");
        assert_eq!(map.get("rebill").unwrap().unwrap().as_str(), "Purchase");
        assert_eq!(map.get("rejected"), Some(None));
        assert_eq!(map.get("hold"), None);
        let names: Vec<_> = map.event_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(names, ["Lead", "Purchase"]);
    }

    #[test]
    fn event_map_lowercases_words_and_checks_names() {
        let map = EventMap::parse([("Approved".into(), Some("Purchase".into()))].into()).unwrap();
        assert!(map.get("approved").is_some());
        assert!(EventMap::parse([("x".into(), Some("".into()))].into()).is_err());
    }

    #[test]
    fn template_placeholders_are_checked_and_rendered() {
        let t = EventIdTemplate::parse("{campaign}:{event_name}:{click_id}:{txid}").unwrap();
        assert_eq!(t.render("Lead", "c1", "t9", "camp"), "camp:Lead:c1:t9");
        assert!(EventIdTemplate::parse("{event_name}").is_err());
        assert!(EventIdTemplate::parse("{click_id}-{nope}").is_err());
        assert!(EventIdTemplate::parse("{click_id").is_err());
    }

    #[test]
    fn templates_refuse_controls_and_ids_longer_than_meta_takes() {
        assert!(EventIdTemplate::parse("{click_id}\n{event_name}").is_err());
        assert!(EventIdTemplate::parse("{click_id}\u{7f}").is_err());
        // 64 + 50 + 128 + 128 + 3 = 373 characters at most: fine.
        assert!(EventIdTemplate::parse("{campaign}-{event_name}-{click_id}-{txid}").is_ok());
        // Four 128-character values: 512.
        let long = "{click_id}{txid}{txid}{txid}";
        let err = EventIdTemplate::parse(long).unwrap_err().to_string();
        assert!(err.contains("512"), "{err}");
    }

    #[test]
    fn value_source_round_trips() {
        for v in [
            ValueSource::Payout,
            ValueSource::None,
            ValueSource::Fixed(12.5),
        ] {
            assert_eq!(ValueSource::from_db(&v.to_db()), v);
            assert_eq!(ValueSource::parse_json(&v.to_json()).unwrap(), v);
        }
        assert!(ValueSource::parse_json(&serde_json::json!(-1)).is_err());
        assert!(ValueSource::parse_json(&serde_json::json!("all")).is_err());
    }

    #[test]
    fn action_source_names_are_metas() {
        assert_eq!(
            ActionSource::parse("website").unwrap(),
            ActionSource::Website
        );
        assert_eq!(
            ActionSource::parse("physical_store")
                .unwrap()
                .max_age_days(),
            62
        );
        assert!(ActionSource::parse("web").is_err());
    }
}
