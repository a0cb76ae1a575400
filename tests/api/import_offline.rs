//! Offline conversions whose click was never registered (a CRM export, a call centre): their
//! `action_source`, the import's default for them, rows that cannot be sent reported at upload,
//! the import's counts following the rows' fates, and a failed row replaced by its re-upload.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::imports::{finished, multipart, BOUNDARY};
use crate::helpers::ui::{get_page, sign_in};
use crate::helpers::*;

async fn started(resp: reqwest::Response) -> i64 {
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// Uploads `file` as text/csv with `query` and waits for the import to finish.
pub async fn import(app: &TestApp, query: &str, file: &str) -> Value {
    let resp = app
        .client
        .post(app.url(&format!("/admin/v1/imports{query}")))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/csv")
        .body(file.to_owned())
        .send()
        .await
        .unwrap();
    let id = started(resp).await;
    finished(app, id).await
}

/// The Meta event with this event id, among everything the fake Graph API received.
async fn meta_event(app: &TestApp, event_id: &str) -> Value {
    let events = app.graph_events().await;
    events
        .into_iter()
        .find(|e| e["event_id"] == event_id)
        .unwrap_or_else(|| panic!("no Meta event {event_id}"))
}

async fn conversion_states(app: &TestApp, click_id: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT state FROM conversions WHERE click_id = $1 ORDER BY id")
        .bind(click_id)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn click_less_phone_call_rows_and_postbacks_reach_meta_without_a_user_agent() {
    let app = spawn_app_with(&["--unmatched-grace", "0s"]).await;
    app.create_campaign("crm", json!({})).await;
    let v = import(
        &app,
        "",
        "click_id,status,campaign,action_source,em\n\
         call-1,lead,crm,phone_call,buyer@example.com\n\
         shop-1,lead,crm,physical_store,\n",
    )
    .await;
    assert_eq!(v["counts"]["unmatched"], 2, "{v}");
    assert_eq!(v["errors"], json!([]), "{v}");
    assert_eq!(v["dropped"], json!([]), "{v}");
    // A postback may say the same.
    let resp = app
        .postback(
            "generic",
            "click_id=call-2&status=lead&campaign=crm&action_source=phone_call",
        )
        .await;
    assert_eq!(resp.status(), 202);

    let report = app.deliver().await;
    assert_eq!(report.delivered, 3, "{report:?}");
    for (id, source) in [
        ("Lead-call-1", "phone_call"),
        ("Lead-shop-1", "physical_store"),
        ("Lead-call-2", "phone_call"),
    ] {
        let e = meta_event(&app, id).await;
        assert_eq!(e["action_source"], source, "{e}");
        assert!(e["user_data"].get("client_user_agent").is_none(), "{e}");
    }
    assert!(meta_event(&app, "Lead-call-1").await["user_data"]["em"].is_array());
}

#[tokio::test]
async fn the_imports_default_action_source_applies_to_click_less_rows_only() {
    let app = spawn_app_with(&["--unmatched-grace", "0s"]).await;
    app.create_campaign("crm", json!({})).await;
    let resp = app
        .register_click(json!({"campaign": "crm", "click_id": "reg-1"}))
        .await;
    assert_eq!(resp.status(), 201);

    // From the query parameter, for text/csv.
    let v = import(
        &app,
        "?action_source=physical_store",
        "click_id,status,campaign,action_source\n\
         crm-1,lead,crm,\n\
         crm-2,lead,crm,email\n\
         reg-1,lead,,\n",
    )
    .await;
    assert_eq!(v["counts"]["unmatched"], 2, "{v}");
    assert_eq!(v["counts"]["accepted"], 1, "{v}");
    assert_eq!(v["errors"], json!([]), "{v}");
    assert_eq!(v["default_action_source"], "physical_store", "{v}");

    // From a form field before the file, for multipart.
    let resp = app
        .client
        .post(app.url("/admin/v1/imports"))
        .bearer_auth(ADMIN_TOKEN)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(
            &[("action_source", "phone_call")],
            "click_id,status,campaign\ncrm-3,lead,crm\n",
        ))
        .send()
        .await
        .unwrap();
    let id = started(resp).await;
    let v = finished(&app, id).await;
    assert_eq!(v["errors"], json!([]), "{v}");
    assert_eq!(v["default_action_source"], "phone_call", "{v}");
    // The import's page says what its click-less rows were sent as.
    let cookie = sign_in(&app).await;
    let page = get_page(&app, &format!("/ui/imports/{id}"), &cookie).await;
    let page = page.text().await.unwrap();
    assert!(
        page.contains("without a registered click: sent as <code>phone_call</code>"),
        "{page}"
    );

    app.deliver().await;
    for (id, source) in [
        ("Lead-crm-1", "physical_store"),
        ("Lead-crm-2", "email"),
        ("Lead-crm-3", "phone_call"),
        // A registered click is a web visit: the campaign's source applies.
        ("Lead-reg-1", "website"),
    ] {
        assert_eq!(meta_event(&app, id).await["action_source"], source, "{id}");
    }

    // A default that is not Meta's refuses the upload at once, before a row is read.
    let resp = app
        .client
        .post(app.url("/admin/v1/imports?action_source=telepathy"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/csv")
        .body("click_id,status\nx,lead\n")
        .send()
        .await
        .unwrap();
    let detail = assert_problem(resp, 422, "invalid_action_source").await;
    assert!(detail.contains("phone_call"), "{detail}");
    assert!(conversion_states(&app, "x").await.is_empty());
}

#[tokio::test]
async fn an_invalid_action_source_in_a_row_is_dropped_and_reported_never_the_row() {
    let app = spawn_app().await;
    app.create_campaign("crm", json!({})).await;
    let v = import(
        &app,
        "",
        "click_id,status,campaign,action_source,ua\n\
         bad-1,lead,crm,telepathy,Mozilla/5.0 (X11)\n",
    )
    .await;
    assert_eq!(v["counts"]["unmatched"], 1, "{v}");
    assert_eq!(v["counts"]["invalid"], 0, "{v}");
    assert_eq!(v["dropped"][0]["line"], 2, "{v}");
    assert_eq!(v["dropped"][0]["field"], "action_source", "{v}");
    assert!(v["dropped"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("phone_call"));
    // The campaign's source applies, and the row has what a website event needs.
    assert_eq!(v["errors"], json!([]), "{v}");
    assert_eq!(conversion_states(&app, "bad-1").await, ["unmatched"]);
}

#[tokio::test]
async fn a_click_less_website_row_without_a_user_agent_is_reported_at_upload() {
    // The default grace (15 minutes): nothing is decided before the answer is read.
    let app = spawn_app().await;
    app.create_campaign("crm", json!({})).await;
    let v = import(
        &app,
        "",
        "click_id,status,campaign,ua\n\
         web-1,lead,crm,\n\
         web-2,lead,crm,Mozilla/5.0 (X11)\n\
         web-3,lead,nowhere,Mozilla/5.0 (X11)\n",
    )
    .await;
    assert_eq!(v["counts"]["unmatched"], 3, "{v}");
    let errors = v["errors"].as_array().unwrap();
    let lines: Vec<i64> = errors.iter().map(|e| e["line"].as_i64().unwrap()).collect();
    assert_eq!(lines, [2, 4], "{v}");
    let first = errors[0]["error"].as_str().unwrap();
    assert!(first.starts_with("cannot be sent to Meta: "), "{first}");
    assert!(first.contains("client_user_agent"), "{first}");
    assert!(first.contains("action_source"), "{first}");
    let third = errors[1]["error"].as_str().unwrap();
    assert!(third.contains("\"nowhere\" is no campaign"), "{third}");
    // Recorded all the same: a click registered within the grace still joins them.
    assert_eq!(conversion_states(&app, "web-1").await, ["unmatched"]);
}

#[tokio::test]
async fn the_import_counts_follow_the_rows_fates() {
    let app = spawn_app_with(&["--unmatched-grace", "0s"]).await;
    app.create_campaign("crm", json!({})).await;
    let resp = app
        .register_click(json!({"campaign": "crm", "click_id": "reg-1"}))
        .await;
    assert_eq!(resp.status(), 201);
    let v = import(
        &app,
        "",
        "click_id,status,campaign,action_source\n\
         ok-1,lead,crm,phone_call\n\
         no-ua-1,lead,crm,\n\
         reg-1,sale,,\n\
         rej-1,rejected,crm,phone_call\n",
    )
    .await;
    let id = v["id"].as_i64().unwrap();
    assert_eq!(
        v["fates"],
        json!({"sent": 0, "pending": 1, "failed": 0, "expired": 0, "unmatched": 3, "skipped": 0}),
        "{v}"
    );

    app.deliver().await;
    let v = app.admin_get(&format!("/admin/v1/imports/{id}")).await;
    // The upload's answer stays as it was; the fates move on.
    assert_eq!(v["counts"]["unmatched"], 3, "{v}");
    assert_eq!(
        v["fates"],
        json!({"sent": 2, "pending": 0, "failed": 1, "expired": 0, "unmatched": 0, "skipped": 1}),
        "{v}"
    );

    let cookie = sign_in(&app).await;
    let page = get_page(&app, &format!("/ui/imports/{id}"), &cookie).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    let fates = &page[page.find(r#"id="import-fates""#).expect("a fates table")..];
    for row in [
        r#"<th scope="row">sent</th><td class="num">2</td>"#,
        r#"<th scope="row">failed (retry, or upload the corrected rows)</th><td class="num">1</td>"#,
    ] {
        assert!(fates.contains(row), "{row} in {fates}");
    }
}

#[tokio::test]
async fn a_re_upload_of_a_failed_row_replaces_it_and_other_states_stay_duplicates() {
    let app = spawn_app_with(&["--unmatched-grace", "0s"]).await;
    app.create_campaign("crm", json!({})).await;
    let v = import(&app, "", "click_id,status,campaign\nfix-1,lead,crm\n").await;
    assert_eq!(v["counts"]["unmatched"], 1, "{v}");
    app.deliver().await;
    assert_eq!(conversion_states(&app, "fix-1").await, ["failed"]);
    assert!(app.graph_events().await.is_empty());

    // The corrected file: recorded anew, not a duplicate.
    let corrected = "click_id,status,campaign,ua\nfix-1,lead,crm,Mozilla/5.0 (X11)\n";
    let v = import(&app, "", corrected).await;
    assert_eq!(v["counts"]["duplicate"], 0, "{v}");
    assert_eq!(v["counts"]["unmatched"], 1, "{v}");
    assert_eq!(conversion_states(&app, "fix-1").await, ["unmatched"]);
    // The worker sweeps once per poll interval: the first pass above just did.
    assert_eq!(app.worker.sweep_unmatched().await.unwrap(), 1);
    let report = app.deliver().await;
    assert_eq!(report.delivered, 1, "{report:?}");
    let e = meta_event(&app, "Lead-fix-1").await;
    assert_eq!(e["user_data"]["client_user_agent"], "Mozilla/5.0 (X11)");
    assert_eq!(conversion_states(&app, "fix-1").await, ["queued"]);

    // Sent now: the same file again is a duplicate, as before.
    let v = import(&app, "", corrected).await;
    assert_eq!(v["counts"]["duplicate"], 1, "{v}");
    assert_eq!(conversion_states(&app, "fix-1").await, ["queued"]);
}

#[tokio::test]
async fn a_physical_store_import_takes_rows_up_to_62_days_old_and_others_7() {
    let app = spawn_app().await;
    app.create_campaign("crm", json!({})).await;
    let month_ago = (chrono::Utc::now() - chrono::Duration::days(30)).timestamp();
    let file = format!(
        "click_id,status,campaign,event_time,action_source\n\
         store-1,sale,crm,{month_ago},\n\
         call-1,sale,crm,{month_ago},phone_call\n"
    );
    let v = import(&app, "?action_source=physical_store", &file).await;
    assert_eq!(v["counts"]["unmatched"], 1, "{v}");
    assert_eq!(v["counts"]["invalid"], 1, "{v}");
    assert_eq!(v["errors"][0]["line"], 3, "{v}");
    let e = v["errors"][0]["error"].as_str().unwrap();
    assert!(e.contains("phone_call events (7 days)"), "{e}");
    assert_eq!(conversion_states(&app, "store-1").await, ["unmatched"]);
}
