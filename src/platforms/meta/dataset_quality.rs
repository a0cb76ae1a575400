//! `GET {graph}/{version}/dataset_quality`: Meta's own verdict on a pixel's events (Event Match
//! Quality, event coverage, dedup keys, freshness, additional conversions reported), read into
//! plain figures. See docs/reference/meta-dataset-quality.md for what Meta documents.

use std::time::Duration;

use serde_json::Value;

use super::graph::{Endpoint, ErrorEnvelope, GraphError, PARTNER_AGENT};
use crate::domain::meta_quality::EventQuality;
use crate::domain::AccessToken;
use crate::platforms::http::{self, Reply};

/// Every `web` metric, diagnostics included. Naming an object without braces would give only
/// its default sub-fields (no diagnostics, no descriptions). The dedup metric is spelt
/// `dedupe_key_feedback`: the other spelling in Meta's field table is refused as nonexisting.
pub const FIELDS: &str = "web{event_name,\
event_match_quality{composite_score,match_key_feedback{identifier,coverage{percentage},\
potential_aly_acr_increase{percentage,description}},diagnostics{name,description,solution,\
percentage,affected_event_count,total_event_count}},\
event_coverage{percentage,goal_percentage,description,potential_aly_acr_increase{percentage,description}},\
dedupe_key_feedback{dedupe_key,browser_events_with_dedupe_key{percentage,description},\
server_events_with_dedupe_key{percentage,description},\
overall_browser_coverage_from_dedupe_key{percentage,description}},\
data_freshness{upload_frequency,description},acr{percentage,description},\
event_potential_aly_acr_increase{percentage,description}}";

/// Restricts Meta's figures to the events this service sent: `partner_agent` normalised as Meta
/// does (the part before a `_major_minor` suffix, lowercase), which for ours is itself.
pub fn agent_name() -> String {
    PARTNER_AGENT
        .split('_')
        .next()
        .unwrap_or(PARTNER_AGENT)
        .to_lowercase()
}

#[derive(Clone)]
pub struct DatasetQualityClient {
    graph: Endpoint,
}

/// What one request came back with.
#[derive(Debug, Clone, PartialEq)]
pub enum QualityReply {
    Answer(Vec<EventQuality>),
    MetaError {
        http_status: u16,
        error: GraphError,
    },
    /// No answer Meta wrote: connection failure, timeout, redirect, an unreadable body.
    Transport {
        message: String,
    },
}

impl DatasetQualityClient {
    /// The same client rules as delivery (see [`http::client`]): no redirects, bounded answers.
    pub fn new(
        base_url: &str,
        version: &str,
        app_secret: Option<String>,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(DatasetQualityClient {
            graph: Endpoint::new(base_url, version, app_secret, timeout)?,
        })
    }

    /// The token goes in the `Authorization` header: a URL ends up in error messages and logs.
    pub async fn fetch(&self, pixel_id: &str, token: &AccessToken) -> QualityReply {
        let url = self.graph.url("dataset_quality");
        let mut query = vec![
            ("dataset_id", pixel_id.to_owned()),
            ("agent_name", agent_name()),
            ("fields", FIELDS.to_owned()),
        ];
        if let Some(proof) = self.graph.proof(token.expose()) {
            query.push(("appsecret_proof", proof));
        }
        let request = self
            .graph
            .http
            .get(&url)
            .query(&query)
            .bearer_auth(token.expose());
        match http::exchange(request).await {
            Reply::Http { status, body, .. } => read(status, &body),
            Reply::Transport { message, .. } => QualityReply::Transport {
                message: without_query(&message),
            },
        }
    }
}

/// A transport failure's text without the URL's query: the field selection is noise to a
/// user, and `appsecret_proof` belongs in no stored message.
fn without_query(message: &str) -> String {
    match message.split_once('?') {
        Some((head, rest)) => {
            let tail = rest.find([')', ' ']).map_or("", |i| &rest[i..]);
            format!("{head}{tail}")
        }
        None => message.to_owned(),
    }
}

/// Reads Meta's answer: `{"web": [...]}` on success, Graph's error object otherwise.
pub fn read(status: u16, body: &[u8]) -> QualityReply {
    let parsed = serde_json::from_slice::<Value>(body).ok();
    if (200..300).contains(&status) {
        if let Some(web) = parsed.as_ref().and_then(|v| v.get("web")) {
            let events = match web {
                Value::Array(items) => items.iter().filter_map(event).collect(),
                // No web events at all: Meta has nothing to score yet.
                Value::Null => Vec::new(),
                _ => return unreadable(status),
            };
            return QualityReply::Answer(events);
        }
        if parsed
            .as_ref()
            .is_some_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
        {
            return QualityReply::Answer(Vec::new());
        }
    }
    match parsed.and_then(|v| serde_json::from_value::<ErrorEnvelope>(v).ok()) {
        Some(env) => QualityReply::MetaError {
            http_status: status,
            error: env.error,
        },
        None => unreadable(status),
    }
}

/// Meta's error in a line for the user, with its code, within what is kept of an answer.
pub fn said(error: &GraphError) -> String {
    let code = error
        .code
        .map(|c| format!(" (error {c})"))
        .unwrap_or_default();
    http::kept(&format!("{}{code}", error.readable()))
}

fn unreadable(status: u16) -> QualityReply {
    QualityReply::Transport {
        message: format!("HTTP {status} without a Dataset Quality answer or a Graph API error"),
    }
}

fn percentage(v: &Value) -> Option<f64> {
    v.get("percentage").and_then(Value::as_f64)
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(http::kept)
}

/// One `web[]` element; null or absent figures stay `None` (Meta's behaviour is undocumented).
pub fn event(v: &Value) -> Option<EventQuality> {
    let event_name = v.get("event_name")?.as_str()?.to_owned();
    let emq = &v["event_match_quality"];
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let match_keys = list(&emq["match_key_feedback"])
        .iter()
        .filter_map(|k| {
            Some((
                k["identifier"].as_str()?.to_owned(),
                percentage(&k["coverage"]),
            ))
        })
        .collect();
    let diagnostics = list(&emq["diagnostics"])
        .iter()
        .filter_map(|d| Some((text(d, "name")?, text(d, "solution"))))
        .collect();
    let dedupe = list(&v["dedupe_key_feedback"])
        .into_iter()
        .find(|d| d["dedupe_key"] == "event_id");
    Some(EventQuality {
        event_name,
        emq: emq["composite_score"].as_f64(),
        match_keys,
        diagnostics,
        event_coverage: percentage(&v["event_coverage"]),
        acr: percentage(&v["acr"]),
        dedupe_browser: dedupe
            .as_ref()
            .and_then(|d| percentage(&d["browser_events_with_dedupe_key"])),
        dedupe_server: dedupe
            .as_ref()
            .and_then(|d| percentage(&d["server_events_with_dedupe_key"])),
        upload_frequency: text(&v["data_freshness"], "upload_frequency"),
        raw: v.clone(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_every_figure_and_tolerates_missing_ones() {
        let body = json!({"web": [
            {"event_name": "Lead",
             "event_match_quality": {"composite_score": 7.2,
                "match_key_feedback": [{"identifier": "email", "coverage": {"percentage": 100}},
                                       {"identifier": "fbc"}],
                "diagnostics": [{"name": "Mismatched IP", "solution": "Send the visitor's IP"}]},
             "event_coverage": {"percentage": 34.1, "goal_percentage": 75},
             "dedupe_key_feedback": [
                {"dedupe_key": "fbp", "browser_events_with_dedupe_key": {"percentage": 1}},
                {"dedupe_key": "event_id",
                 "browser_events_with_dedupe_key": {"percentage": 90},
                 "server_events_with_dedupe_key": {"percentage": 100}}],
             "data_freshness": {"upload_frequency": "real_time"},
             "acr": {"percentage": 37.9}},
            {"event_name": "PageView", "event_match_quality": null, "acr": null},
            {"no_name": true}
        ]});
        let QualityReply::Answer(events) = read(200, body.to_string().as_bytes()) else {
            panic!()
        };
        assert_eq!(events.len(), 2);
        let lead = &events[0];
        assert_eq!(lead.emq, Some(7.2));
        assert_eq!(
            lead.match_keys,
            vec![("email".into(), Some(100.0)), ("fbc".into(), None)]
        );
        assert_eq!(
            lead.diagnostics[0].1.as_deref(),
            Some("Send the visitor's IP")
        );
        assert_eq!((lead.event_coverage, lead.acr), (Some(34.1), Some(37.9)));
        assert_eq!(
            (lead.dedupe_browser, lead.dedupe_server),
            (Some(90.0), Some(100.0))
        );
        assert_eq!(lead.upload_frequency.as_deref(), Some("real_time"));
        let view = &events[1];
        assert_eq!((view.emq, view.acr, view.match_keys.len()), (None, None, 0));
    }

    #[test]
    fn reads_errors_and_foreign_answers() {
        let err = read(
            400,
            br#"{"error":{"message":"Error validating access token","type":"OAuthException","code":190,"error_subcode":460}}"#,
        );
        let QualityReply::MetaError { http_status, error } = err else {
            panic!("{err:?}")
        };
        assert_eq!(
            (http_status, error.code, error.error_subcode),
            (400, Some(190), Some(460))
        );
        assert!(matches!(
            read(502, b"<html>bad gateway</html>"),
            QualityReply::Transport { .. }
        ));
        assert!(matches!(
            read(200, br#"{"web": 3}"#),
            QualityReply::Transport { .. }
        ));
        assert_eq!(read(200, b"{}"), QualityReply::Answer(Vec::new()));
    }

    #[test]
    fn transport_messages_lose_the_query() {
        let m = "timeout: error sending request for url \
                 (http://127.0.0.1:9/v26.0/dataset_quality?dataset_id=1&appsecret_proof=ab12)";
        assert_eq!(
            without_query(m),
            "timeout: error sending request for url (http://127.0.0.1:9/v26.0/dataset_quality)"
        );
        assert_eq!(without_query("connection failed"), "connection failed");
    }

    #[test]
    fn the_selection_asks_for_every_metric_with_the_spelling_meta_accepts() {
        for field in [
            "composite_score",
            "match_key_feedback",
            "diagnostics",
            "event_coverage",
            "dedupe_key_feedback",
            "data_freshness",
            "acr{",
            "event_potential_aly_acr_increase",
        ] {
            assert!(FIELDS.contains(field), "{field}");
        }
        assert!(!FIELDS.contains("dedup_key"));
        assert_eq!(FIELDS.matches('{').count(), FIELDS.matches('}').count());
        assert_eq!(agent_name(), "capi-bridge");
    }
}
