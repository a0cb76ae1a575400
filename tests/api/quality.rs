//! `GET /admin/v1/campaigns/{key}/quality`: the match-quality report, from events delivered
//! through the fake Graph API.

use reqwest::Method;
use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::Mock;

use crate::helpers::{assert_problem, graph_error, spawn_app_with, TestApp};

const KEYS: [&str; 15] = [
    "fbc",
    "fbp",
    "em",
    "ph",
    "external_id",
    "client_ip_address",
    "client_user_agent",
    "fn",
    "ln",
    "ct",
    "st",
    "zp",
    "country",
    "db",
    "ge",
];

async fn postback(app: &TestApp, query: &str) {
    let resp = app.postback("keitaro", query).await;
    assert!(resp.status().is_success(), "{query}: {}", resp.status());
}

fn event<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

#[tokio::test]
async fn report_counts_keys_id_sources_times_and_failures_of_sent_events() {
    let app = spawn_app_with(&["--unmatched-grace", "0s"]).await;
    app.create_campaign("q", json!({})).await;
    // A lander with the tag: cookies, an email, the pixel's eventID.
    let resp = app
        .register_click(json!({
            "campaign": "q", "click_id": "q-1",
            "fbc": "fb.1.1700000000000.AbCdEf", "fbp": "fb.1.1700000000000.1234567890",
            "em": "John_Smith@gmail.com", "event_ids": {"Lead": "pix-q-1"},
        }))
        .await;
    assert_eq!(resp.status(), 201);
    // A lander with only the pixel's cookie.
    let resp = app
        .register_click(json!({
            "campaign": "q", "click_id": "q-2", "fbp": "fb.1.1700000000000.1234567891",
        }))
        .await;
    assert_eq!(resp.status(), 201);
    postback(&app, "subid=q-1&status=lead").await;
    postback(&app, "subid=q-2&status=lead").await;
    // A click the lander never registered.
    let resp = app
        .postback(
            "generic",
            "click_id=q-3&event=lead&campaign=q&ua=Mozilla%2F5.0",
        )
        .await;
    assert_eq!(resp.status(), 202);
    assert_eq!(app.deliver().await.delivered, 3);
    let sent: Vec<Value> = received_events(&app, "Lead").await;
    assert_eq!(sent.len(), 3);

    // Meta refuses the sale.
    app.graph.reset().await;
    Mock::given(method("POST"))
        .respond_with(graph_error(400, 100, None, false, "Invalid currency"))
        .mount(&app.graph)
        .await;
    postback(&app, "subid=q-1&status=sale&payout=10&tid=s1").await;
    app.deliver().await;

    let report = app.admin_get("/admin/v1/campaigns/q/quality?days=7").await;
    assert_eq!(report["campaign"], "q");
    assert_eq!(report["days"], 7);
    let lead = event(&report, "Lead");
    assert_eq!(
        (
            &lead["sent"],
            &lead["failed"],
            &lead["pending"],
            &lead["expired"]
        ),
        (&json!(3), &json!(0), &json!(0), &json!(0)),
        "{lead}"
    );
    // Each key's share is what the fake Graph API actually received.
    for key in KEYS {
        let n = sent
            .iter()
            .filter(|e| e["user_data"].get(key).is_some())
            .count();
        assert_eq!(lead["keys"][key]["count"], n, "{key}: {lead}");
        let share = lead["keys"][key]["share"].as_f64().unwrap();
        assert!((share - n as f64 / 3.0).abs() < 0.0001, "{key}: {lead}");
    }
    assert_eq!(lead["keys"]["fbc"]["count"], 1);
    assert_eq!(lead["keys"]["fbp"]["count"], 2);
    assert_eq!(lead["keys"]["em"]["count"], 1);
    assert_eq!(lead["keys"]["ph"], json!({"count": 0, "share": 0.0}));
    assert_eq!(lead["keys"]["client_user_agent"]["share"], 1.0);
    for source in ["pixel", "template", "no_click"] {
        assert_eq!(
            lead["event_ids"][source],
            json!({"count": 1, "share": 0.3333}),
            "{source}: {lead}"
        );
    }
    let click_to_conversion = lead["median_seconds"]["click_to_conversion"]
        .as_f64()
        .unwrap();
    assert!((-5.0..60.0).contains(&click_to_conversion), "{lead}");
    let to_accepted = lead["median_seconds"]["conversion_to_accepted"]
        .as_f64()
        .unwrap();
    assert!((0.0..60.0).contains(&to_accepted), "{lead}");
    assert_eq!(lead["top_failure_reasons"], json!([]));

    let purchase = event(&report, "Purchase");
    assert_eq!(
        (&purchase["sent"], &purchase["failed"]),
        (&json!(0), &json!(1))
    );
    assert_eq!(purchase["keys"]["fbc"], json!({"count": 0, "share": 0.0}));
    assert_eq!(purchase["event_ids"]["pixel"]["share"], 0.0);
    assert_eq!(
        purchase["median_seconds"]["click_to_conversion"],
        Value::Null
    );
    let reasons = purchase["top_failure_reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 1, "{purchase}");
    assert_eq!(reasons[0]["state"], "failed");
    assert_eq!(reasons[0]["count"], 1);
    assert!(
        reasons[0]["reason"]
            .as_str()
            .unwrap()
            .contains("Invalid currency"),
        "{purchase}"
    );

    // The window: an event created ten days ago counts in 30 days, not in 7.
    sqlx::query(
        "UPDATE events SET created_at = now() - interval '10 days' WHERE event_id = 'pix-q-1'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let week = app.admin_get("/admin/v1/campaigns/q/quality").await;
    assert_eq!(week["days"], 7, "the default window");
    assert_eq!(event(&week, "Lead")["sent"], 2);
    assert_eq!(event(&week, "Lead")["event_ids"]["pixel"]["count"], 0);
    let month = app.admin_get("/admin/v1/campaigns/q/quality?days=30").await;
    assert_eq!(event(&month, "Lead")["sent"], 3);
}

async fn received_events(app: &TestApp, name: &str) -> Vec<Value> {
    crate::helpers::received(&app.graph)
        .await
        .into_iter()
        .flat_map(|(_, body)| body["data"].as_array().cloned().unwrap_or_default())
        .filter(|e| e["event_name"] == name)
        .collect()
}

#[tokio::test]
async fn an_idle_campaign_shows_zeros_and_bad_requests_are_problems() {
    let app = spawn_app_with(&[]).await;
    app.create_campaign("idle", json!({})).await;
    let report = app.admin_get("/admin/v1/campaigns/idle/quality").await;
    let names: Vec<&str> = report["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Lead", "Purchase"],
        "every mapped event, even unsent"
    );
    let lead = event(&report, "Lead");
    assert_eq!(lead["sent"], 0);
    assert_eq!(lead["keys"].as_object().unwrap().len(), KEYS.len());
    for key in KEYS {
        assert_eq!(
            lead["keys"][key],
            json!({"count": 0, "share": 0.0}),
            "{key}"
        );
    }
    assert_eq!(
        lead["event_ids"]["no_click"],
        json!({"count": 0, "share": 0.0})
    );

    for bad in ["days=0", "days=91", "days=abc", "days=-1", "days=7.5"] {
        let resp = app
            .admin(
                Method::GET,
                &format!("/admin/v1/campaigns/idle/quality?{bad}"),
                None,
            )
            .await;
        let detail = assert_problem(resp, 400, "invalid_parameter").await;
        assert!(detail.contains("1-90"), "{bad}: {detail}");
    }
    let resp = app
        .admin(Method::GET, "/admin/v1/campaigns/idle/quality?day=7", None)
        .await;
    assert_problem(resp, 400, "unknown_parameter").await;
    let resp = app
        .admin(Method::GET, "/admin/v1/campaigns/nope/quality", None)
        .await;
    assert_problem(resp, 404, "campaign_not_found").await;
    let resp = app
        .client
        .get(app.url("/admin/v1/campaigns/idle/quality"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 401, "unauthorized").await;
}

#[tokio::test]
async fn an_event_id_registered_is_not_counted_as_a_pixel_that_fired() {
    let app = spawn_app_with(&[]).await;
    app.create_campaign("pf", json!({})).await;
    let fired_ms = chrono::Utc::now().timestamp_millis() - 60_000;
    // The tag registered the pixel's eventID on both clicks; only on the first did the pixel run.
    let clicks = [
        json!({"campaign": "pf", "click_id": "pf-1", "event_ids": {"Lead": "pix-pf-1"},
               "pixel_fired_at": {"Lead": fired_ms}}),
        json!({"campaign": "pf", "click_id": "pf-2", "event_ids": {"Lead": "pix-pf-2"}}),
    ];
    for click in clicks {
        assert_eq!(app.register_click(click).await.status(), 201);
    }
    postback(&app, "subid=pf-1&status=lead").await;
    postback(&app, "subid=pf-2&status=lead").await;
    assert_eq!(app.deliver().await.delivered, 2);

    let report = app.admin_get("/admin/v1/campaigns/pf/quality").await;
    let lead = event(&report, "Lead");
    assert_eq!(
        lead["event_ids"]["pixel"],
        json!({"count": 2, "share": 1.0}),
        "{lead}"
    );
    assert_eq!(
        lead["event_ids"]["pixel_fired"],
        json!({"count": 1, "share": 0.5}),
        "{lead}"
    );
}
