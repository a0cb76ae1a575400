//! An import batch is one transaction: after a transient database error (a serialization
//! failure here) nothing of it was committed, and it is tried again; any other error fails the
//! import at once. The errors come from a trigger on `conversions` that refuses the first
//! inserts; a sequence counts the attempts, as it is not rolled back with them.

use serde_json::json;

use crate::helpers::imports::{finished, post_csv, started};
use crate::helpers::*;

/// The next `failures` statements inserting conversions fail with SQLSTATE `code`.
async fn refuse_inserts(app: &TestApp, failures: i64, code: &str) {
    sqlx::query("CREATE SEQUENCE test_conversion_inserts")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(&format!(
        "CREATE FUNCTION test_refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF nextval('test_conversion_inserts') <= {failures} THEN
                 RAISE EXCEPTION 'injected by the test' USING ERRCODE = '{code}';
             END IF;
             RETURN NULL;
         END $$"
    ))
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "CREATE TRIGGER test_refuse_insert BEFORE INSERT ON conversions \
         FOR EACH STATEMENT EXECUTE FUNCTION test_refuse_insert()",
    )
    .execute(&app.pool)
    .await
    .unwrap();
}

/// How many statements inserting conversions ran (failed ones included).
async fn insert_attempts(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM test_conversion_inserts",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn conversions(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM conversions")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn seeded() -> TestApp {
    let app = spawn_app().await;
    app.create_campaign("shop", json!({})).await;
    for c in ["r1", "r2"] {
        let resp = app
            .register_click(json!({"campaign": "shop", "click_id": c}))
            .await;
        assert_eq!(resp.status(), 201);
    }
    app
}

const FILE: &str = "click_id,status,txid\r\nr1,lead,t1\r\nr2,lead,t2\r\n";

#[tokio::test]
async fn a_batch_refused_by_a_transient_error_is_tried_again_and_recorded_once() {
    let app = seeded().await;
    refuse_inserts(&app, 2, "40001").await;
    let v = finished(&app, started(post_csv(&app, FILE.to_owned()).await).await).await;
    assert_eq!(v["state"], "done", "{v}");
    assert_eq!(v["counts"]["accepted"], 2, "{v}");
    assert_eq!(
        insert_attempts(&app).await,
        3,
        "two refused, the third recorded"
    );
    assert_eq!(conversions(&app).await, 2, "nothing twice");
    assert_eq!(app.deliver().await.delivered, 2);
}

/// The import of [`FILE`] fails after `attempts` tries at its one batch, recording nothing.
async fn fails_after(failures: i64, code: &str, attempts: i64) {
    let app = seeded().await;
    refuse_inserts(&app, failures, code).await;
    let v = finished(&app, started(post_csv(&app, FILE.to_owned()).await).await).await;
    assert_eq!(v["state"], "failed", "{v}");
    let reason = v["failure_reason"].as_str().unwrap();
    assert!(reason.starts_with("stopped by an error"), "{reason}");
    assert_eq!(insert_attempts(&app).await, attempts);
    assert_eq!(conversions(&app).await, 0);
}

#[tokio::test]
async fn a_batch_refused_by_another_error_fails_the_import_without_retrying() {
    fails_after(1, "P0001", 1).await;
}

/// Three retries (1 s, 2 s and 3 s apart), then the import fails: an outage does not hold it
/// forever.
#[tokio::test]
async fn a_batch_still_refused_after_three_retries_fails_the_import() {
    fails_after(4, "40001", 4).await;
}
