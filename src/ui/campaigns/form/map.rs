//! A platform's status -> event map in the campaign form: its rows as shown, as submitted,
//! as the admin API takes them, and the editor.

use std::collections::BTreeMap;

use maud::{html, Markup};

use super::{error_for, label, opt, FormError};
use crate::domain::EventMap;

/// The statuses every campaign's map editor lists, mapped or not.
const BASE_STATUSES: [&str; 4] = ["lead", "sale", "rebill", "rejected"];

/// A map editor's rows as the form shows them: the base statuses first, mapped or not.
pub fn map_rows(map: &EventMap) -> Vec<(String, String)> {
    // The map's public form (status -> event or null), as the admin API shows it.
    let map: BTreeMap<String, Option<String>> = serde_json::to_value(map)
        .ok()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let mut rows: Vec<(String, String)> = BASE_STATUSES
        .iter()
        .map(|s| {
            let event = map.get(*s).cloned().flatten().unwrap_or_default();
            ((*s).to_owned(), event)
        })
        .collect();
    for (status, event) in &map {
        if !BASE_STATUSES.contains(&status.as_str()) {
            rows.push((status.clone(), event.clone().unwrap_or_default()));
        }
    }
    rows
}

/// A map editor's submitted rows (`{prefix}status_N` / `{prefix}event_N`, in order of N), without
/// the blank ones: the editor adds its own blank row, so a refused form shown again gets one
/// blank row, not one more per attempt.
pub fn rows_from_pairs(pairs: &[(String, String)], prefix: &str) -> Vec<(String, String)> {
    let (status_p, event_p) = (format!("{prefix}status_"), format!("{prefix}event_"));
    let mut rows: BTreeMap<u32, (String, String)> = BTreeMap::new();
    for (k, v) in pairs {
        let (slot, i) = if let Some(i) = k.strip_prefix(&status_p) {
            (0, i)
        } else if let Some(i) = k.strip_prefix(&event_p) {
            (1, i)
        } else {
            continue;
        };
        let Ok(i) = i.parse::<u32>() else { continue };
        // More rows than a map may hold would only be refused later.
        if i > 200 {
            continue;
        }
        let row = rows.entry(i).or_default();
        let v = v.trim().to_owned();
        if slot == 0 {
            row.0 = v;
        } else {
            row.1 = v;
        }
    }
    rows.into_values()
        .filter(|(status, event)| !(status.is_empty() && event.is_empty()))
        .collect()
}

/// The map the admin API takes: rows without a status are skipped, an empty event is "never
/// sent".
pub fn rows_to_map(rows: &[(String, String)]) -> BTreeMap<String, Option<String>> {
    rows.iter()
        .filter(|(status, _)| !status.is_empty())
        .map(|(status, event)| (status.clone(), opt(event)))
        .collect()
}

/// One platform's status -> event editor; the ids are `{prefix}status_N` / `{prefix}event_N`,
/// with an empty row to add a status.
pub fn map_editor(
    error: Option<&FormError>,
    (prefix, field): (&str, &str),
    platform: &str,
    rows: &[(String, String)],
    suggestions: &[&str],
) -> Markup {
    let list = format!("{prefix}events-list");
    html! {
        fieldset.field {
            legend { (label(field)) }
            p.hint { "Each tracker status is sent to " (platform) " as this event; leave the event empty to record the status but never send it. Add a status in the empty row." }
            datalist id=(list) { @for e in suggestions { option value=(e) {} } }
            @let blank = (String::new(), String::new());
            @for (i, (status, event)) in rows.iter().chain(std::iter::once(&blank)).enumerate() {
                @let (s_id, e_id) = (format!("{prefix}status_{i}"), format!("{prefix}event_{i}"));
                div.maprow {
                    label for=(s_id) { "Status" }
                    input id=(s_id) type="text" name=(s_id) value=(status) autocomplete="off";
                    label for=(e_id) { (platform) " event" }
                    input id=(e_id) type="text" name=(e_id) value=(event)
                        list=(list) placeholder="not sent" autocomplete="off";
                }
            }
            (error_for(error, field))
        }
    }
}
