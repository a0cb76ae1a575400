//! What arrived but could not be used as given. Only what identifies a conversion (the key, the
//! click id, the campaign, a status present but unfilled) may refuse a click, a postback or an
//! import row; any other field that is malformed is dropped (or cleaned) and reported here, so
//! the caller's bug surfaces in the answer, the admin views and the metrics instead of costing
//! the conversion.

use serde::{Deserialize, Serialize};

use super::caps::{DROP_FIELD_MAX, DROP_REASON_MAX};
use super::ParseError;

/// One field that was dropped or changed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Dropped {
    /// The parameter as the caller named it (`em`, `fbclid`, `payout`, ...).
    pub field: String,
    /// What was wrong and what was done instead, for the integrator who sent it.
    pub reason: String,
}

/// The fields of one click, postback or import row that were dropped or changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DropReport(Vec<Dropped>);

/// At most this many entries are kept: a hostile caller cannot grow a stored report.
pub const DROP_REPORT_MAX: usize = 40;

impl DropReport {
    /// The value, or `None` with the field reported.
    pub fn keep<T>(&mut self, field: &str, parsed: Result<T, ParseError>) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(field, e.0);
                None
            }
        }
    }

    /// Reasons are cut at [`DROP_REASON_MAX`] bytes (one may quote what was sent), field names
    /// (ours) at [`DROP_FIELD_MAX`]: a stored report stays small.
    pub fn push(&mut self, field: &str, reason: impl Into<String>) {
        let field = cut(field, DROP_FIELD_MAX);
        if self.0.len() < DROP_REPORT_MAX && !self.0.iter().any(|d| d.field == field) {
            let mut reason = reason.into();
            reason.truncate(cut(&reason, DROP_REASON_MAX).len());
            self.0.push(Dropped {
                field: field.to_owned(),
                reason,
            });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Dropped> {
        self.0.iter()
    }

    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|d| d.field.as_str())
    }

    pub fn into_vec(self) -> Vec<Dropped> {
        self.0
    }

    /// A report read back from our own database (`None` for rows stored before reports).
    pub fn from_stored(v: Option<Vec<Dropped>>) -> Self {
        DropReport(v.unwrap_or_default())
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// An opaque identifier (`fbclid`, `ttclid`, the `_fbc`/`_fbp`/`_ttp` cookies) as the platforms'
/// own server-side parameter builders keep it: surrounding white space and control characters
/// removed, everything else byte for byte (no re-casing, no encoding). `changed` says whether
/// anything was removed, so the caller can report it.
pub struct Sanitised {
    pub value: String,
    pub changed: bool,
}

pub fn sanitise_opaque(raw: &str) -> Sanitised {
    let trimmed = raw.trim();
    let value: String = if trimmed.chars().any(char::is_control) {
        trimmed.chars().filter(|c| !c.is_control()).collect()
    } else {
        trimmed.to_owned()
    };
    let value = value.trim().to_owned();
    Sanitised {
        changed: value.len() != raw.len(),
        value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitising_keeps_everything_but_control_characters_and_outer_space() {
        for (raw, want, changed) in [
            ("IwAR1abc", "IwAR1abc", false),
            ("IwAR abc", "IwAR abc", false),
            ("IwAR✓ü", "IwAR✓ü", false),
            ("  IwAR1abc\n", "IwAR1abc", true),
            ("IwAR\u{0}1\u{1b}abc", "IwAR1abc", true),
            ("IwAR;abc%20", "IwAR;abc%20", false),
            ("\t", "", true),
        ] {
            let s = sanitise_opaque(raw);
            assert_eq!((s.value.as_str(), s.changed), (want, changed), "{raw:?}");
        }
    }

    #[test]
    fn a_report_names_each_field_once_and_is_bounded() {
        let mut r = DropReport::default();
        assert_eq!(r.keep("em", Ok::<_, ParseError>(1)), Some(1));
        assert_eq!(
            r.keep::<i32>("em", Err(ParseError::new("is not an email address"))),
            None
        );
        r.push("em", "again");
        assert_eq!(r.fields().collect::<Vec<_>>(), ["em"]);
        for i in 0..100 {
            r.push(&format!("f{i}"), "x");
        }
        assert_eq!(r.iter().count(), DROP_REPORT_MAX);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json[0]["reason"], "is not an email address");
    }

    /// A reason may quote what was sent (an event name of any length): it is cut, on a
    /// character boundary, so a stored report stays small.
    #[test]
    fn long_reasons_and_field_names_are_cut() {
        let mut r = DropReport::default();
        r.push(
            "event_ids",
            format!("event name {:?} is bad", "é".repeat(5000)),
        );
        r.push(&"f".repeat(100), "x");
        let stored: Vec<_> = r.iter().collect();
        assert!(stored[0].reason.len() <= DROP_REASON_MAX);
        assert!(
            stored[0].reason.len() >= DROP_REASON_MAX - 1,
            "cut, not emptied"
        );
        assert!(stored[0].reason.starts_with("event name \"é"));
        assert_eq!(stored[1].field.len(), DROP_FIELD_MAX);
    }
}
