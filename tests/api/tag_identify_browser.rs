//! identify() in a real browser on a campaign with a region (issue 20, item 7): the tag hashes
//! with the server's rules (src/tag/normalise.js), completes a national phone with tag-config's
//! calling code, reads a slashed date by its date order, and leaves out what it cannot read (a
//! country's name); the expected digests are the shared vectors' (tests/vectors/normalisation.json).

use serde_json::{json, Value};
use wiremock::MockServer;

use crate::browser::*;
use crate::helpers::*;

#[tokio::test]
async fn identify_hashes_by_the_campaigns_region_and_sends_no_raw_value() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({"default_country": "gb"}))
        .await;
    let site = MockServer::start().await;
    // identify() runs once the config (calling code 44, day-first dates) is in.
    let form = "<script>capiBridge.identify({em: ' John_Smith@Gmail.com ', fn: 'Mary Ann', \
                ph: '07911 123456', db: '02/03/1990', country: 'United Kingdom'});</script>";
    lander(&site, "/lp", &app.address, "", "", form).await;
    b.goto(&format!("{}/lp?subid=kt-region", site.uri())).await;

    let row = wait_for("the hashes", std::time::Duration::from_secs(10), || async {
        let row = click_row(&app, "kt-region").await;
        if row["em"].is_string() && row["ph"].is_string() {
            Ok(row)
        } else {
            Err(row.to_string())
        }
    })
    .await;
    let em = vector("em", "John_Smith@gmail.com", None);
    let fname = vector("fn", "Mary Ann", None);
    let ph = vector("ph", "07911 123456", Some("gb"));
    let db = vector("db", "02/03/1990", Some("gb"));
    let country = vector("country", "United Kingdom", None);
    assert_eq!(
        country["tag"], "left_out",
        "the vectors say the tag leaves names out"
    );
    assert_eq!(row["em"], em["expected_sha256"]);
    assert_eq!(
        row["fn"], fname["expected_sha256"],
        "maryann: the space removed"
    );
    assert_eq!(
        row["ph"], ph["expected_sha256"],
        "447911123456: the 0 for 44"
    );
    assert_eq!(row["tiktok_ph"], ph["tiktok_sha256"], "+447911123456");
    assert_eq!(
        row["db"], db["expected_sha256"],
        "19900302: day first in gb"
    );
    assert!(
        row.get("country").is_some_and(Value::is_null),
        "a country's name is left out: {row}"
    );

    let bodies = sent(&b).await;
    let hashed: Vec<Value> = bodies
        .iter()
        .map(|s| serde_json::from_str::<Value>(s).unwrap())
        .filter(|v| v.get("em").is_some())
        .collect();
    assert_eq!(hashed.len(), 1, "{bodies:?}");
    let mut keys: Vec<&String> = hashed[0].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "campaign",
            "click_id",
            "db",
            "em",
            "fn",
            "ph",
            "tiktok_ph",
            "update_token"
        ],
        "digests only (and the click's token), and no country"
    );
    // Nothing typed reached the bridge, in any body or in what it stored.
    let all = format!("{}\n{row}", bodies.join("\n"));
    for raw in [
        "John",
        "john_smith",
        "Gmail",
        "Mary",
        "maryann",
        "7911 123456",
        "07911",
        "447911123456",
        "02/03/1990",
        "19900302",
        "United",
        "Kingdom",
    ] {
        assert!(!all.contains(raw), "{raw} left the page: {all}");
    }
    no_errors(&b).await;
}
