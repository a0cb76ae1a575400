//! What a fetch of Meta's Dataset Quality API came to, and what the user should do about it;
//! and Meta's names of match keys in ours.

use serde::Serialize;
use serde_json::Value;

/// One event name's figures as Meta gave them; any may be missing (too little traffic, a
/// pixel-only event, or a figure Meta has not computed yet).
#[derive(Debug, Clone, PartialEq)]
pub struct EventQuality {
    pub event_name: String,
    pub emq: Option<f64>,
    /// Meta's identifier (`email`, `ip_address`...) and the share of events carrying it.
    pub match_keys: Vec<(String, Option<f64>)>,
    /// Meta's diagnostics texts: name, then solution.
    pub diagnostics: Vec<(String, Option<String>)>,
    pub event_coverage: Option<f64>,
    pub acr: Option<f64>,
    /// `dedupe_key_feedback` for `event_id`: browser and server events carrying it.
    pub dedupe_browser: Option<f64>,
    pub dedupe_server: Option<f64>,
    pub upload_frequency: Option<String>,
    /// The element as Meta sent it.
    pub raw: Value,
}

/// A fetch's outcome (`meta_quality_fetches.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum FetchOutcome {
    /// At least one event has an EMQ score.
    Scored,
    /// Meta answered, but with no score yet (too few events so far).
    NoScoreYet,
    /// Meta error 190: the token is expired, revoked or mistyped.
    TokenInvalid,
    /// The token works but may not read this pixel's quality.
    MissingRights,
    /// Any other Graph API error.
    GraphError,
    /// No answer from Meta (timeout, connection, redirect, a foreign body).
    Unreachable,
    /// No enabled campaign on the pixel has a token this server can open.
    NoReadableToken,
}

impl FetchOutcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            FetchOutcome::Scored => "scored",
            FetchOutcome::NoScoreYet => "no_score_yet",
            FetchOutcome::TokenInvalid => "token_invalid",
            FetchOutcome::MissingRights => "missing_rights",
            FetchOutcome::GraphError => "graph_error",
            FetchOutcome::Unreachable => "unreachable",
            FetchOutcome::NoReadableToken => "no_readable_token",
        }
    }

    /// The token's fault: another campaign's token on the same pixel may do better.
    pub fn tries_next_token(self) -> bool {
        matches!(
            self,
            FetchOutcome::TokenInvalid | FetchOutcome::MissingRights
        )
    }

    /// What it means and what to do, for the dashboard and the API. `detail` is Meta's own text
    /// (or the transport failure), added where it helps.
    pub fn advice(self, detail: Option<&str>) -> String {
        let said = detail
            .map(|d| format!(" Meta said: {d}"))
            .unwrap_or_default();
        match self {
            FetchOutcome::Scored => "Meta scored this pixel's events.".to_owned(),
            FetchOutcome::NoScoreYet => "Meta has no Event Match Quality score for this pixel \
                yet: it scores an event once enough of it arrives through the Conversions API. \
                Keep sending; the next fetch asks again."
                .to_owned(),
            FetchOutcome::TokenInvalid => format!(
                "Meta refused the access token (error 190): it expired, was revoked or is \
                 mistyped. Generate a new token (Events Manager > Settings, or the system user \
                 in Business settings) and set it on the campaign.{said}"
            ),
            FetchOutcome::MissingRights => format!(
                "The access token may send events but not read this pixel's quality. In \
                 Business settings give the system user the pixel with \"Manage Pixel\" ticked; \
                 a token generated in Events Manager before July 2025 needs the one-time \
                 Dataset Quality opt-in there. A token a client made in their own Business for \
                 a partner cannot read quality at all.{said}"
            ),
            FetchOutcome::GraphError => {
                format!("Meta's Graph API answered with an error; the next fetch asks again.{said}")
            }
            FetchOutcome::Unreachable => format!(
                "Meta did not answer; the next fetch asks again (check META_GRAPH_URL if it \
                 persists).{}",
                detail.map(|d| format!(" {d}")).unwrap_or_default()
            ),
            FetchOutcome::NoReadableToken => "No enabled campaign on this pixel has an access \
                token this server can open (SECRETS_KEY changed?): set the token again."
                .to_owned(),
        }
    }
}

/// A Graph API error code (and subcode) as an outcome: 190 is the token; 10, 200-299 and 100/33
/// (object missing or not visible to the token) are rights.
pub fn outcome_of_error(code: Option<i64>, subcode: Option<i64>) -> FetchOutcome {
    match (code, subcode) {
        (Some(190), _) => FetchOutcome::TokenInvalid,
        (Some(10), _) | (Some(200..=299), _) | (Some(100), Some(33)) => FetchOutcome::MissingRights,
        _ => FetchOutcome::GraphError,
    }
}

/// Meta's `match_key_feedback` identifier as the `user_data` key we send; an identifier not
/// known here is shown as Meta names it.
pub fn match_key_name(identifier: &str) -> &str {
    match identifier {
        "email" => "em",
        "phone" => "ph",
        "ip_address" => "client_ip_address",
        "user_agent" => "client_user_agent",
        "first_name" => "fn",
        "last_name" => "ln",
        "gender" => "ge",
        "date_of_birth" => "db",
        "city" => "ct",
        "state" => "st",
        "zip" | "zip_code" => "zp",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_errors_map_to_what_the_user_can_do() {
        let cases = [
            ((Some(190), Some(460)), FetchOutcome::TokenInvalid, true),
            ((Some(10), None), FetchOutcome::MissingRights, true),
            ((Some(200), None), FetchOutcome::MissingRights, true),
            ((Some(100), Some(33)), FetchOutcome::MissingRights, true),
            ((Some(100), None), FetchOutcome::GraphError, false),
            ((Some(4), None), FetchOutcome::GraphError, false),
            ((None, None), FetchOutcome::GraphError, false),
        ];
        for ((code, sub), outcome, next) in cases {
            assert_eq!(outcome_of_error(code, sub), outcome, "{code:?}/{sub:?}");
            assert_eq!(outcome.tries_next_token(), next, "{outcome:?}");
        }
    }

    #[test]
    fn advice_names_the_fix() {
        assert!(FetchOutcome::TokenInvalid.advice(None).contains("190"));
        assert!(FetchOutcome::MissingRights
            .advice(None)
            .contains("Manage Pixel"));
        assert!(FetchOutcome::MissingRights
            .advice(None)
            .contains("July 2025"));
        assert!(FetchOutcome::GraphError
            .advice(Some("Unsupported get request"))
            .ends_with("Meta said: Unsupported get request"));
    }

    #[test]
    fn match_keys_read_as_ours() {
        let cases = [
            ("email", "em"),
            ("phone", "ph"),
            ("ip_address", "client_ip_address"),
            ("user_agent", "client_user_agent"),
            ("external_id", "external_id"),
            ("fbc", "fbc"),
            ("something_new", "something_new"),
        ];
        for (meta, ours) in cases {
            assert_eq!(match_key_name(meta), ours);
        }
    }
}
