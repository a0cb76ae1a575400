//! Meta's figures as the admin API and the dashboard show them: each event's latest snapshot,
//! joined with our own report into advice.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::meta_quality::match_key_name;
use crate::meta_quality::advice::{advise, Advice, Figures};
use crate::platforms::meta::dataset_quality::event;
use crate::quality::QualityReport;
use crate::storage::meta_quality::Snapshot;

/// One event name's latest figures from Meta.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetaEventQuality {
    event_name: String,
    fetched_at: DateTime<Utc>,
    /// Event Match Quality, 0-10 (null: no score yet).
    #[schema(required = true)]
    emq: Option<f64>,
    #[schema(required = true)]
    event_coverage_percent: Option<f64>,
    /// Additional conversions reported thanks to the Conversions API, last 7 days.
    #[schema(required = true)]
    acr_percent: Option<f64>,
    dedupe_key_feedback: MetaDedupeFeedback,
    #[schema(required = true, example = "real_time")]
    upload_frequency: Option<String>,
    match_keys: Vec<MetaMatchKey>,
    diagnostics: Vec<MetaDiagnostic>,
    /// What to do, from Meta's figures and ours (the campaign's last 7 days).
    advice: Vec<Advice>,
    /// Meta's element as received.
    raw: Value,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetaDedupeFeedback {
    /// Share of the pixel's browser events carrying an `event_id`.
    #[schema(required = true)]
    event_id_browser_percent: Option<f64>,
    #[schema(required = true)]
    event_id_server_percent: Option<f64>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetaMatchKey {
    /// The `user_data` key we send (`em`, `client_ip_address`...), or Meta's name when unknown.
    #[schema(example = "em")]
    key: String,
    #[schema(example = "email")]
    meta_identifier: String,
    #[schema(required = true)]
    coverage_percent: Option<f64>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetaDiagnostic {
    name: String,
    #[schema(required = true)]
    solution: Option<String>,
}

/// Each event's latest snapshot, with Meta's match keys named as ours and the advice joined
/// from Meta's figures and `ours`.
pub fn events(snapshots: &[Snapshot], ours: &QualityReport) -> Vec<MetaEventQuality> {
    let mut newest: Vec<&Snapshot> = Vec::new();
    for s in snapshots.iter().rev() {
        if !newest.iter().any(|n| n.event_name == s.event_name) {
            newest.push(s);
        }
    }
    newest.sort_by(|a, b| a.event_name.cmp(&b.event_name));
    newest
        .into_iter()
        .map(|s| {
            let parsed = event(&s.raw.0);
            let keys = parsed.as_ref().map(|e| &e.match_keys[..]).unwrap_or(&[]);
            let diagnostics = parsed.as_ref().map(|e| &e.diagnostics[..]).unwrap_or(&[]);
            let meta_key = |name: &str| {
                keys.iter()
                    .find(|(id, _)| match_key_name(id) == name)
                    .and_then(|(_, pct)| *pct)
            };
            let our = ours.events.iter().find(|e| e.event_name == s.event_name);
            let our_key = |name: &str| our.and_then(|e| e.keys.get(name)).map(|k| k.share);
            let figures = Figures {
                meta_fbc_percent: meta_key("fbc"),
                meta_em_percent: meta_key("em"),
                browser_dedupe_percent: s.dedupe_browser_percent,
                event_coverage_percent: s.event_coverage_percent,
                acr_percent: s.acr_percent,
                our_fbc_share: our_key("fbc"),
                our_em_share: our_key("em"),
            };
            MetaEventQuality {
                event_name: s.event_name.clone(),
                fetched_at: s.fetched_at,
                emq: s.emq,
                event_coverage_percent: s.event_coverage_percent,
                acr_percent: s.acr_percent,
                dedupe_key_feedback: MetaDedupeFeedback {
                    event_id_browser_percent: s.dedupe_browser_percent,
                    event_id_server_percent: s.dedupe_server_percent,
                },
                upload_frequency: s.upload_frequency.clone(),
                match_keys: keys
                    .iter()
                    .map(|(id, pct)| MetaMatchKey {
                        key: match_key_name(id).to_owned(),
                        meta_identifier: id.clone(),
                        coverage_percent: *pct,
                    })
                    .collect(),
                diagnostics: diagnostics
                    .iter()
                    .map(|(name, solution)| MetaDiagnostic {
                        name: name.clone(),
                        solution: solution.clone(),
                    })
                    .collect(),
                advice: advise(&figures),
                raw: s.raw.0.clone(),
            }
        })
        .collect()
}

/// [`events`] as JSON, for the dashboard's card.
pub fn latest(snapshots: &[Snapshot], ours: &QualityReport) -> Vec<Value> {
    events(snapshots, ours)
        .iter()
        .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
        .collect()
}
