//! Money in view and days in the display zone (issue 22, items 6 and 7): one value per
//! conversion in the list, whichever platform's payload carried it; totals of value sent per
//! currency by day, campaign and event name, each conversion once and test-mode events left
//! out; the date presets (`range=`) as calendar days of `UI_TIME_ZONE`.

use chrono::{DateTime, Datelike, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::ui::row_of;
use crate::helpers::ui::{get_page, sign_in};
use crate::helpers::ui::{listed, text_of};
use crate::helpers::*;

/// Registers `click_id` on `campaign` and posts it back in Keitaro's dialect; the conversion id.
async fn convert(app: &TestApp, campaign: &str, click_id: &str, rest: &str) -> i64 {
    let resp = app
        .register_click(json!({"campaign": campaign, "click_id": click_id}))
        .await;
    assert_eq!(resp.status(), 201, "click {click_id}");
    let query = format!("subid={click_id}&tid=tx-{click_id}&{rest}");
    let resp = app.postback("keitaro", &query).await;
    assert_eq!(resp.status(), 200, "postback {click_id}");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "accepted", "{body}");
    body["conversion_id"].as_i64().unwrap()
}

/// The text of each cell of each body row of `<table id="{id}">`, tags removed.
fn rows(page: &str, id: &str) -> Vec<Vec<String>> {
    let start = page
        .find(&format!(r#"<table id="{id}">"#))
        .unwrap_or_else(|| panic!("no table {id} in {page}"));
    let table = &page[start..start + page[start..].find("</table>").unwrap()];
    let body = &table[table.find("<tbody>").unwrap()..];
    body.split("<tr")
        .skip(1)
        .map(|row| {
            row.split("<t")
                .skip(1)
                .filter(|cell| cell.starts_with('d') || cell.starts_with('h'))
                .map(|cell| strip_tags(&cell[cell.find('>').unwrap() + 1..]))
                .collect()
        })
        .collect()
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_owned()
}

fn line(label: &str, n: i64, value: &str) -> Vec<String> {
    vec![label.to_owned(), n.to_string(), value.to_owned()]
}

#[tokio::test]
async fn value_is_listed_once_per_conversion_and_totalled_per_currency_without_test_events() {
    let app = spawn_app().await;
    // On Meta and TikTok; TikTok only; Meta only in euros; Meta in test mode.
    app.create_campaign_with_tiktok("both", json!({})).await;
    app.create_campaign_with_tiktok("tt", json!({"pixel_id": null, "access_token": null}))
        .await;
    app.create_campaign("eur", json!({})).await;
    app.create_campaign("testing", json!({"test_event_code": "TEST4242"}))
        .await;
    convert(&app, "both", "b-1", "status=sale&revenue=30&currency=USD").await;
    convert(&app, "both", "b-2", "status=lead&payout=5&currency=USD").await;
    convert(&app, "tt", "t-1", "status=sale&revenue=12.5&currency=USD").await;
    convert(&app, "eur", "e-1", "status=sale&revenue=10&currency=EUR").await;
    convert(
        &app,
        "testing",
        "x-1",
        "status=sale&revenue=99&currency=USD",
    )
    .await;
    app.deliver().await;
    // Both platforms got the two-platform conversions: the totals must still count them once.
    assert_eq!(app.tiktok_events().await.len(), 3);

    let cookie = sign_in(&app).await;
    let (status, list) = text_of(&app, "/ui/conversions", &cookie).await;
    assert_eq!(status, 200);
    for (click_id, value) in [
        ("b-1", "30.00 USD"),
        ("b-2", "5.00 USD"),
        // Read from TikTok's `properties.value`: the campaign has no Meta event.
        ("t-1", "12.50 USD"),
        ("e-1", "10.00 EUR"),
        ("x-1", "99.00 USD"),
    ] {
        let row = row_of(&list, click_id);
        assert!(row.contains(value), "{click_id}: {row}");
    }

    let today = Utc::now().date_naive().to_string();
    let (status, overview) = text_of(&app, "/ui/?range=today", &cookie).await;
    assert_eq!(status, 200);
    assert!(overview.contains("Value sent · Today"), "{overview}");
    assert_eq!(
        rows(&overview, "value-totals"),
        vec![line("", 1, "10.00 EUR"), line("", 3, "47.50 USD")],
        "each conversion once, test mode left out, currencies apart"
    );
    assert_eq!(
        rows(&overview, "value-by-day"),
        vec![line(&today, 1, "10.00 EUR"), line(&today, 3, "47.50 USD")]
    );
    assert_eq!(
        rows(&overview, "value-by-campaign"),
        vec![
            line("both", 2, "35.00 USD"),
            line("eur", 1, "10.00 EUR"),
            line("tt", 1, "12.50 USD"),
        ]
    );
    let by_event = rows(&overview, "value-by-event");
    assert!(
        by_event.contains(&line("Lead", 1, "5.00 USD")),
        "{by_event:?}"
    );
    assert!(
        by_event.contains(&line("Purchase", 1, "10.00 EUR")),
        "{by_event:?}"
    );
    // TikTok names its purchase event its own way; the Meta one of "both" is a Purchase.
    let usd_purchases: i64 = by_event
        .iter()
        .filter(|l| l[0] != "Lead" && l[2].ends_with("USD"))
        .map(|l| l[1].parse::<i64>().unwrap())
        .sum();
    assert_eq!(usd_purchases, 2, "{by_event:?}");

    let (status, page) = text_of(&app, "/ui/campaigns/both?range=today", &cookie).await;
    assert_eq!(status, 200);
    assert_eq!(rows(&page, "value-totals"), vec![line("", 2, "35.00 USD")]);
    assert_eq!(
        rows(&page, "value-by-event"),
        vec![
            line("Lead", 1, "5.00 USD"),
            line("Purchase", 1, "30.00 USD")
        ]
    );
    assert!(
        !page.contains("value-by-campaign"),
        "one campaign: no per-campaign table"
    );
    let (_, testing) = text_of(&app, "/ui/campaigns/testing?range=today", &cookie).await;
    assert!(
        testing.contains(r#"id="value-none""#),
        "test mode only: {testing}"
    );
    // Yesterday had nothing.
    let (_, yesterday) = text_of(&app, "/ui/?range=yesterday", &cookie).await;
    assert!(yesterday.contains(r#"id="value-none""#), "{yesterday}");

    // The value outlives the payload (retention and erasure set it to NULL).
    sqlx::query("UPDATE events SET payload = NULL")
        .execute(&app.pool)
        .await
        .unwrap();
    let (_, overview) = text_of(&app, "/ui/?range=today", &cookie).await;
    assert_eq!(
        rows(&overview, "value-totals"),
        vec![line("", 1, "10.00 EUR"), line("", 3, "47.50 USD")]
    );
}

async fn set_received(app: &TestApp, id: i64, at: DateTime<Utc>) {
    sqlx::query("UPDATE conversions SET received_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn presets_are_calendar_days_of_the_display_zone() {
    let app = spawn_app_with(&["--ui-time-zone", "Asia/Tokyo"]).await;
    let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
    app.create_campaign("jp", json!({})).await;
    let local_today = Utc::now().with_timezone(&tokyo).date_naive();
    let midnight = |d: chrono::NaiveDate| {
        tokyo
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
            .unwrap()
            .with_timezone(&Utc)
    };
    let today = midnight(local_today);
    let month = midnight(local_today.with_day(1).unwrap());
    let minute = TimeDelta::minutes(1);
    // Each a minute inside or outside a Tokyo day's edge (9 hours off UTC's).
    let at = [
        ("today", today + minute),
        ("yesterday", today - minute),
        ("day-7", today - TimeDelta::days(6) + minute),
        ("day-8", today - TimeDelta::days(6) - minute),
        ("month-in", month + minute),
        ("month-out", month - minute),
    ];
    for (click_id, when) in at {
        let id = convert(&app, "jp", click_id, "status=sale&revenue=2&currency=JPY").await;
        set_received(&app, id, when).await;
    }
    app.deliver().await;
    let cookie = sign_in(&app).await;
    let within = |range: &str| -> Vec<&str> {
        at.iter()
            .filter(|(_, t)| {
                let (first, last) = match range {
                    "today" => (today, today + TimeDelta::days(1)),
                    "yesterday" => (today - TimeDelta::days(1), today),
                    "last7" => (today - TimeDelta::days(6), today + TimeDelta::days(1)),
                    _ => (month, today + TimeDelta::days(1)),
                };
                (first..last).contains(t)
            })
            .map(|(c, _)| *c)
            .collect()
    };
    for range in ["today", "yesterday", "last7", "this_month"] {
        let (status, page) =
            text_of(&app, &format!("/ui/conversions?range={range}"), &cookie).await;
        assert_eq!(status, 200, "{range}");
        let mut got = listed(&page);
        got.sort();
        let mut want = within(range);
        want.sort();
        assert_eq!(got, want, "range={range}");
    }
    let (_, page) = text_of(&app, "/ui/conversions?range=today", &cookie).await;
    let got = listed(&page);
    assert!(
        got.contains(&"today".to_owned()) && !got.contains(&"yesterday".to_owned()),
        "{got:?}"
    );
    assert!(page.contains("Received (Asia/Tokyo)"), "{page}");
    let shown = format!("{local_today} 00:01:");
    assert!(
        row_of(&page, "today").contains(&shown),
        "shown in Tokyo time: {page}"
    );
    assert!(page.contains(r#"aria-current="page">Today<"#), "{page}");
    // A day filter is a Tokyo day too: the form's inclusive day becomes `since`/`until`
    // at Tokyo midnights.
    let path = format!("/ui/conversions?from={local_today}&to={local_today}");
    let resp = get_page(&app, &path, &cookie).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let next = midnight(local_today.succ_opt().unwrap());
    assert!(
        location.contains(&next.format("%Y-%m-%dT%H").to_string()),
        "until is the next Tokyo midnight: {location}"
    );
    let (_, by_days) = text_of(&app, &location, &cookie).await;
    assert_eq!(listed(&by_days), got);

    // The overview's totals count Tokyo days, and its chart says whose hours it draws.
    let (_, overview) = text_of(&app, "/ui/?range=last7", &cookie).await;
    let days: Vec<String> = rows(&overview, "value-by-day")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let yesterday = local_today.pred_opt().unwrap().to_string();
    assert!(
        days.contains(&local_today.to_string()) && days.contains(&yesterday),
        "{days:?}"
    );
    assert!(overview.contains("Day (Asia/Tokyo)"), "{overview}");
    assert!(overview.contains("hours in Asia/Tokyo"), "{overview}");
}

#[tokio::test]
async fn an_unknown_range_word_is_refused_on_the_list_and_explained_on_the_totals() {
    let app = spawn_app().await;
    app.create_campaign("r", json!({})).await;
    let cookie = sign_in(&app).await;
    let (status, page) = text_of(&app, "/ui/conversions?range=week", &cookie).await;
    assert_eq!(status, 400);
    assert!(
        page.contains("Unknown range &quot;week&quot;: it must be one of today, yesterday, last7, this_month."),
        "{page}"
    );
    let (status, page) =
        text_of(&app, "/ui/conversions?range=today&from=2026-12-01", &cookie).await;
    assert_eq!(status, 400);
    assert!(page.contains("either a range"), "{page}");
    for path in ["/ui/?range=week", "/ui/campaigns/r?range=week"] {
        let (status, page) = text_of(&app, path, &cookie).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            page.contains("Unknown range &quot;week&quot;"),
            "{path}: {page}"
        );
        assert!(page.contains("Value sent · Last 7 days"), "{path}: {page}");
    }
}

#[test]
fn an_unknown_time_zone_refuses_to_start() {
    let help = binary().arg("--help").output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(
        help.contains("UI_TIME_ZONE") && help.contains("[default: UTC]"),
        "{help}"
    );
    let out = binary()
        .env("UI_TIME_ZONE", "Mars/Olympus")
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("UI_TIME_ZONE"), "{err}");
    assert!(
        err.contains("\"Mars/Olympus\" is not an IANA time zone name"),
        "{err}"
    );
}
