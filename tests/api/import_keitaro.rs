//! Imports of a Keitaro export as it comes (its own column names), rows naming a campaign the
//! bridge does not have, and the import page showing a payout as the file had it.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::imports::{finished, post_csv};
use crate::helpers::ui::{get_page, sign_in};
use crate::helpers::*;

async fn import(app: &TestApp, file: &str) -> Value {
    let resp = post_csv(app, file.to_owned()).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED, "{file}");
    let id = resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    finished(app, id).await
}

async fn clicks(app: &TestApp, campaign: &str, ids: &[&str]) {
    app.create_campaign(campaign, json!({})).await;
    for c in ids {
        let resp = app
            .register_click(json!({"campaign": campaign, "click_id": c}))
            .await;
        assert_eq!(resp.status(), 201, "click {c}");
    }
}

#[tokio::test]
async fn a_keitaro_export_is_read_by_its_own_column_names() {
    let app = spawn_app().await;
    clicks(&app, "kt", &["k1", "k2"]).await;
    let v = import(
        &app,
        "Subid,Status,Revenue,Payout,Currency,Tid\r\n\
         k1,sale,49.90,10,EUR,t1\r\n\
         k2,sale,4O.5,10,EUR,t2\r\n",
    )
    .await;
    assert_eq!(v["state"], "done", "{v}");
    assert_eq!(
        v["counts"],
        json!({"accepted": 2, "duplicate": 0, "skipped": 0, "unmatched": 0, "invalid": 0}),
        "{v}"
    );
    // Revenue is the payout; the Payout column is said to be unread, once, as the header's;
    // an unreadable revenue keeps its raw value beside the reason.
    let dropped = v["dropped"].as_array().unwrap();
    assert_eq!(dropped.len(), 2, "{v}");
    assert_eq!(
        (&dropped[0]["line"], &dropped[0]["field"]),
        (&json!(1), &json!("payout"))
    );
    assert!(
        dropped[0]["reason"]
            .as_str()
            .unwrap()
            .contains("revenue column is read as the payout"),
        "{v}"
    );
    assert_eq!(dropped[0].get("value"), None, "{v}");
    assert_eq!(
        (
            &dropped[1]["line"],
            &dropped[1]["field"],
            &dropped[1]["value"]
        ),
        (&json!(3), &json!("payout"), &json!("4O.5")),
        "{v}"
    );
    let list = app.admin_get("/admin/v1/conversions?click_id=k1").await;
    let row = &list["conversions"][0];
    assert_eq!(
        (&row["value"], &row["txid"]),
        (&json!(49.9), &json!("t1")),
        "{list}"
    );
    assert_eq!(row["currency"], "EUR", "{list}");

    // The import page shows both, the raw payout beside its reading.
    let cookie = sign_in(&app).await;
    let page = get_page(&app, &format!("/ui/imports/{}", v["id"]), &cookie)
        .await
        .text()
        .await
        .unwrap();
    let table = &page[page
        .find(r#"<table id="import-dropped">"#)
        .expect("dropped")..];
    assert!(
        table.contains(
            r#"<td class="num">1</td><td><code>payout</code></td><td></td><td>column not read"#
        ),
        "{table}"
    );
    assert!(
        table.contains(r#"<td class="num">3</td><td><code>payout</code></td><td><code class="raw">4O.5</code></td><td>"#),
        "{table}"
    );

    // Keitaro's click id and ours together may disagree: the file is refused at once.
    let resp = post_csv(&app, "subid,click_id,status\nk1,k1,sale\n".to_owned()).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem = resp.json::<Value>().await.unwrap();
    assert_eq!(problem["code"], "invalid_header", "{problem}");
    assert!(
        problem.to_string().contains("both click_id and subid"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_row_naming_an_unknown_campaign_is_recorded_and_reported_by_name() {
    let app = spawn_app().await;
    clicks(&app, "shop", &["c1"]).await;
    // A postback naming it is recorded and waits, unmatched: the import does the same.
    let resp = app
        .postback("generic", "click_id=c9&status=lead&campaign=nosuch")
        .await;
    assert_eq!(resp.status(), 202);
    let v = import(
        &app,
        "click_id,status,campaign,action_source\n\
         c1,lead,nosuch,phone_call\n\
         c2,lead,nosuch,phone_call\n\
         c1,lead,shop,\n",
    )
    .await;
    assert_eq!(
        v["counts"],
        json!({"accepted": 1, "duplicate": 0, "skipped": 0, "unmatched": 2, "invalid": 0}),
        "{v}"
    );
    let errors = v["errors"].as_array().unwrap();
    let lines: Vec<i64> = errors.iter().map(|e| e["line"].as_i64().unwrap()).collect();
    assert_eq!(lines, [2, 3], "{v}");
    for e in errors {
        let e = e["error"].as_str().unwrap();
        assert!(
            e.starts_with(r#"campaign "nosuch" is no campaign of this bridge"#),
            "{e}"
        );
        assert!(!e.contains("never registered"), "c1 is registered: {e}");
    }
    let cookie = sign_in(&app).await;
    let page = get_page(&app, &format!("/ui/imports/{}", v["id"]), &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("campaign &quot;nosuch&quot; is no campaign of this bridge"),
        "{page}"
    );
}
