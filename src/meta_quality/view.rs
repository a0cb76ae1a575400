//! Meta's figures as the admin API and the dashboard show them: each event's latest snapshot,
//! joined with our own report into advice.

use serde_json::{json, Value};

use crate::domain::meta_quality::match_key_name;
use crate::meta_quality::advice::{advise, Figures};
use crate::platforms::meta::dataset_quality::event;
use crate::quality::QualityReport;
use crate::storage::meta_quality::Snapshot;

/// Each event's latest snapshot, with Meta's match keys named as ours and the advice joined
/// from Meta's figures and `ours`.
pub fn latest(snapshots: &[Snapshot], ours: &QualityReport) -> Vec<Value> {
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
            json!({
                "event_name": s.event_name,
                "fetched_at": s.fetched_at,
                "emq": s.emq,
                "event_coverage_percent": s.event_coverage_percent,
                "acr_percent": s.acr_percent,
                "dedupe_key_feedback": {
                    "event_id_browser_percent": s.dedupe_browser_percent,
                    "event_id_server_percent": s.dedupe_server_percent,
                },
                "upload_frequency": s.upload_frequency,
                "match_keys": keys.iter().map(|(id, pct)| json!({
                    "key": match_key_name(id),
                    "meta_identifier": id,
                    "coverage_percent": pct,
                })).collect::<Vec<_>>(),
                "diagnostics": diagnostics.iter().map(|(name, solution)| json!({
                    "name": name,
                    "solution": solution,
                })).collect::<Vec<_>>(),
                "advice": advise(&figures),
                "raw": s.raw.0,
            })
        })
        .collect()
}
