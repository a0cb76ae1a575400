//! The campaign page's "Meta's view" card: Meta's own figures for the campaign's pixel, per
//! event, with the last fetch's outcome and the advice joined from Meta's figures and ours.

use actix_web::{web, HttpResponse};
use maud::{html, Markup};
use serde_json::Value;

use super::super::{see_other, UiError};
use super::{campaign_url, find};
use crate::domain::Campaign;
use crate::meta_quality::latest;
use crate::quality::QualityReport;
use crate::state::AppState;
use crate::storage::meta_quality as store;

/// Meta's own bands: below 6 limits optimisation, 7 and up is the target.
pub fn emq_band(score: f64) -> &'static str {
    if score < 6.0 {
        "emq-low"
    } else if score < 7.0 {
        "emq-mid"
    } else {
        "emq-good"
    }
}

fn pct(v: &Value) -> String {
    v.as_f64().map_or("—".to_owned(), |p| format!("{p:.0}%"))
}

/// The card, empty for a campaign without a Meta pixel. `ours` is the page's own report.
pub async fn card(
    state: &AppState,
    campaign: &Campaign,
    ours: &QualityReport,
    csrf: &str,
) -> Result<Markup, sqlx::Error> {
    let Some(meta) = &campaign.meta else {
        return Ok(html! {});
    };
    let pixel = meta.pixel_id.as_str();
    let last = store::last_fetch(&state.pool, pixel).await?;
    let events = latest(&store::snapshots(&state.pool, pixel, 30).await?, ours);
    Ok(html! {
        section.card #meta-view {
            h2 { "Meta's view" }
            form method="post" action=(format!("{}/meta-quality/refresh", campaign_url(campaign.key.as_str()))) {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { "Refresh from Meta" }
                " " span.hint { "at most once a minute per pixel; the figures arrive within seconds" }
            }
            @match &last {
                None => p.hint { "Not fetched from Meta yet: figures come within minutes of a campaign's creation, then every META_QUALITY_INTERVAL." }
                Some(f) => p #meta-fetch class=(if f.message.is_some() { "verdict bad" } else { "hint" }) {
                    "Fetched " (f.fetched_at.format("%Y-%m-%d %H:%M UTC")) ": " (f.outcome.as_str())
                    @if let Some(m) = &f.message { ". " (m) }
                }
            }
            @if !events.is_empty() {
                table #meta-events {
                    thead { tr {
                        th { "Event" } th.num { "EMQ" } th.num { "Event coverage" } th.num { "ACR" }
                        th.num { "Browser events with event_id" } th { "Freshness" } th { "Match keys (Meta)" }
                    } }
                    tbody {
                        @for e in &events {
                            tr {
                                th scope="row" { (e["event_name"].as_str().unwrap_or("")) }
                                @match e["emq"].as_f64() {
                                    Some(s) => td class=(format!("num {}", emq_band(s))) { (format!("{s:.1}/10")) },
                                    None => td.num { "no score yet" },
                                }
                                td.num { (pct(&e["event_coverage_percent"])) }
                                td.num { (pct(&e["acr_percent"])) }
                                td.num { (pct(&e["dedupe_key_feedback"]["event_id_browser_percent"])) }
                                td { (e["upload_frequency"].as_str().unwrap_or("—")) }
                                td {
                                    @for k in e["match_keys"].as_array().into_iter().flatten() {
                                        code { (k["key"].as_str().unwrap_or("")) } " " (pct(&k["coverage_percent"])) " "
                                    }
                                }
                            }
                        }
                    }
                }
                @for e in &events {
                    @for a in e["advice"].as_array().into_iter().flatten() {
                        p.advice { strong { (e["event_name"].as_str().unwrap_or("")) ": " } (a["advice"].as_str().unwrap_or("")) " (" (a["rule"].as_str().unwrap_or("")) ": " (a["because"].as_str().unwrap_or("")) ")" }
                    }
                    @for d in e["diagnostics"].as_array().into_iter().flatten() {
                        p.hint { strong { "Meta: " (d["name"].as_str().unwrap_or("")) } " " (d["solution"].as_str().unwrap_or("")) }
                    }
                }
            }
        }
    })
}

/// The card's button: asks for a fetch at the next round (the shared once-a-minute limit
/// applies: a press within it changes nothing) and shows the page again.
pub async fn refresh(
    state: web::Data<AppState>,
    key: web::Path<String>,
) -> Result<HttpResponse, UiError> {
    let campaign = find(&state, &key).await?;
    if let Some(meta) = &campaign.meta {
        store::request_refresh(&state.pool, meta.pixel_id.as_str()).await?;
    }
    Ok(see_other(&format!(
        "{}#meta-view",
        campaign_url(campaign.key.as_str())
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emq_is_coloured_by_metas_bands() {
        let cases = [
            (0.0, "emq-low"),
            (5.9, "emq-low"),
            (6.0, "emq-mid"),
            (6.9, "emq-mid"),
            (7.0, "emq-good"),
            (10.0, "emq-good"),
        ];
        for (score, band) in cases {
            assert_eq!(emq_band(score), band, "{score}");
        }
    }
}
