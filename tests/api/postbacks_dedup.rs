//! Postback idempotency, statuses and event ids: repeats are duplicates, rebills and\nunmatched sales get distinct event ids, also when they share a group-commit batch.

use crate::helpers::postbacks::*;
use crate::helpers::*;
use serde_json::{json, Value};

async fn futures_join(app: &TestApp, queries: &[String]) -> Vec<Value> {
    let mut tasks = Vec::new();
    for q in queries {
        let (client, url) = (
            app.client.clone(),
            format!("{}/v1/postback/keitaro?key={POSTBACK_KEY}&{q}", app.address),
        );
        tasks.push(tokio::spawn(async move {
            let resp = client.get(url).send().await.unwrap();
            assert!(resp.status().is_success(), "{}", resp.status());
            resp.json::<Value>().await.unwrap()
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Idempotency, statuses, event ids
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_same_click_status_and_txid_again_is_a_duplicate_and_not_sent_again() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "dup-1", json!({})).await;

    accepted(
        &app,
        "keitaro",
        "subid=dup-1&status=sale&payout=10&tid=T1",
        "Purchase",
        "Purchase-dup-1",
    )
    .await;
    // The network retries before delivery...
    let (status, body) =
        postback(&app, "keitaro", "subid=dup-1&status=sale&payout=10&tid=T1").await;
    assert_eq!((status, body), (200, json!({"status": "duplicate"})));
    assert_eq!(app.deliver().await.delivered, 1);
    // ...and after it, with another word for the same status.
    let (status, body) = postback(
        &app,
        "keitaro",
        "subid=dup-1&status=approved&payout=10&tid=T1",
    )
    .await;
    assert_eq!((status, body), (200, json!({"status": "duplicate"})));
    let report = app.deliver().await;
    assert_eq!((report.claimed, report.delivered), (0, 0));
    assert_eq!(app.graph_events().await.len(), 1);
    assert_eq!(count(&app, "conversions").await, 1);
}

#[tokio::test]
async fn a_bare_postback_repeated_is_a_duplicate() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "dup-2", json!({})).await;
    accepted(&app, "bemob", "cid=dup-2", "Purchase", "Purchase-dup-2").await;
    let (status, body) = postback(&app, "bemob", "cid=dup-2").await;
    assert_eq!((status, body), (200, json!({"status": "duplicate"})));
    assert_eq!(app.deliver().await.delivered, 1);
}

#[tokio::test]
async fn lead_then_sale_on_one_click_sends_a_lead_and_a_purchase() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(
        &app,
        "offer1",
        "ls-1",
        json!({"event_ids": {"Lead": "pix-lead", "Purchase": "pix-buy"}}),
    )
    .await;

    accepted(
        &app,
        "keitaro",
        "subid=ls-1&status=lead&tid=A1",
        "Lead",
        "pix-lead",
    )
    .await;
    accepted(
        &app,
        "keitaro",
        "subid=ls-1&status=sale&payout=50&tid=A1",
        "Purchase",
        "pix-buy",
    )
    .await;
    let report = app.deliver().await;
    assert_eq!(report.delivered, 2);
    let events = app.graph_events().await;
    let lead = events
        .iter()
        .find(|e| e["event_name"] == "Lead")
        .expect("Lead sent");
    assert_eq!(lead["event_id"], "pix-lead");
    assert_eq!(lead["custom_data"], json!({"order_id": "A1"}));
    let purchase = events
        .iter()
        .find(|e| e["event_name"] == "Purchase")
        .expect("Purchase sent");
    assert_eq!(purchase["event_id"], "pix-buy");
    assert_eq!(
        purchase["custom_data"],
        json!({"value": 50.0, "currency": "USD", "order_id": "A1"})
    );
}

#[tokio::test]
async fn a_rebill_with_a_new_txid_is_a_new_purchase_with_a_suffixed_event_id() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(
        &app,
        "offer1",
        "rb-1",
        json!({"event_ids": {"Purchase": "pix-buy-1"}}),
    )
    .await;
    click(&app, "offer1", "rb-2", json!({})).await;

    accepted(
        &app,
        "keitaro",
        "subid=rb-1&status=sale&payout=20&tid=T1",
        "Purchase",
        "pix-buy-1",
    )
    .await;
    accepted(
        &app,
        "keitaro",
        "subid=rb-1&status=sale&payout=20&tid=T2",
        "Purchase",
        "pix-buy-1-T2",
    )
    .await;
    accepted(
        &app,
        "keitaro",
        "subid=rb-1&status=rebill&payout=20&tid=T3",
        "Purchase",
        "pix-buy-1-T3",
    )
    .await;
    // Template ids get the same suffix.
    accepted(
        &app,
        "binom",
        "cnv_id=rb-2&payout=9&txid=X1",
        "Purchase",
        "Purchase-rb-2",
    )
    .await;
    accepted(
        &app,
        "binom",
        "cnv_id=rb-2&payout=9&txid=X2",
        "Purchase",
        "Purchase-rb-2-X2",
    )
    .await;

    let report = app.deliver().await;
    assert_eq!(report.delivered, 5);
    let events = app.graph_events().await;
    let mut sent: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["event_id"].as_str().unwrap().to_owned(),
                e["custom_data"]["order_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    sent.sort();
    let expected: Vec<(String, String)> = [
        ("Purchase-rb-2", "X1"),
        ("Purchase-rb-2-X2", "X2"),
        ("pix-buy-1", "T1"),
        ("pix-buy-1-T2", "T2"),
        ("pix-buy-1-T3", "T3"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(sent, expected);
    assert!(events.iter().all(|e| e["event_name"] == "Purchase"));
}

#[tokio::test]
async fn two_unmatched_sales_joined_by_one_sweep_get_distinct_event_ids() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    for tid in ["T1", "T2"] {
        let (status, body) = postback(
            &app,
            "keitaro",
            &format!("subid=early-1&payout=20&tid={tid}"),
        )
        .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (202, Some("unmatched")),
            "{body}"
        );
    }
    click(&app, "offer1", "early-1", json!({})).await;
    let report = app.deliver().await;
    assert_eq!(
        (report.resolved_unmatched, report.delivered),
        (2, 2),
        "{report:?}"
    );
    let mut ids: Vec<_> = app
        .graph_events()
        .await
        .iter()
        .map(|e| {
            (
                e["custom_data"]["order_id"].as_str().unwrap().to_owned(),
                e["event_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            ("T1".to_owned(), "Purchase-early-1".to_owned()),
            ("T2".to_owned(), "Purchase-early-1-T2".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_rebill_that_arrives_before_the_sweep_joins_an_earlier_unmatched_sale_gets_a_distinct_event_id(
) {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    // The first sale arrives before the click is registered.
    let (status, body) =
        postback(&app, "keitaro", "subid=race-1&status=sale&payout=20&tid=T1").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (202, Some("unmatched")),
        "{body}"
    );
    click(&app, "offer1", "race-1", json!({})).await;
    // The rebill arrives after the click, before any delivery pass joined the first sale.
    let (status, body) =
        postback(&app, "keitaro", "subid=race-1&status=sale&payout=20&tid=T2").await;
    assert_eq!(status, 200, "{body}");
    // The rebill finds the click, and joins the earlier unmatched sale first, in arrival order.
    assert_eq!(
        body["events"],
        json!([{"platform": "meta", "event_name": "Purchase", "event_id": "Purchase-race-1-T2"}])
    );
    let report = app.deliver().await;
    assert_eq!(
        (report.resolved_unmatched, report.delivered),
        (0, 2),
        "{report:?}"
    );

    let events = app.graph_events().await;
    let mut ids: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e["custom_data"]["order_id"].as_str().unwrap().to_owned(),
                e["event_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    ids.sort();
    // Two different sales must never share an event id, or Meta drops one as a duplicate.
    assert_ne!(ids[0].1, ids[1].1, "both sales sent as {ids:?}");
    assert_eq!(
        ids,
        [
            ("T1".to_owned(), "Purchase-race-1".to_owned()),
            ("T2".to_owned(), "Purchase-race-1-T2".to_owned())
        ]
    );
}

#[tokio::test]
async fn rejected_and_unmapped_statuses_are_recorded_as_skipped_and_never_sent() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    click(&app, "offer1", "rj-1", json!({})).await;

    accepted(
        &app,
        "keitaro",
        "subid=rj-1&status=lead",
        "Lead",
        "Lead-rj-1",
    )
    .await;
    for (tracker, query) in [
        ("keitaro", "subid=rj-1&status=rejected&tid=R1"),
        ("bemob", "cid=rj-1&status=declined&txid=R2"),
        ("binom", "cnv_id=rj-1&cnv_status=trash&txid=R3"),
        ("voluum", "cid=rj-1&et=chargeback&txid=R4"),
        ("generic", "click_id=rj-1&event=upsell_2"),
    ] {
        let (status, body) = postback(&app, tracker, query).await;
        assert_eq!(status, 200, "{tracker}?{query}: {body}");
        assert_eq!(body["status"], "skipped", "{tracker}?{query}: {body}");
        let id = body["conversion_id"].as_i64().expect("conversion_id");
        let view = conversion(&app, id).await;
        assert_eq!(view["state"], "skipped", "{view}");
        assert_eq!(view["event_name"], Value::Null);
        assert_eq!(view["payload"], Value::Null);
        assert_eq!(view["reason"], body["reason"], "{view}");
    }
    // Why: the answer and the admin view say it, with the postback as received (no key).
    let (_, body) = postback(&app, "generic", "click_id=rj-1&event=upsell_3&txid=U3").await;
    assert_eq!(
        body["reason"], "status \"upsell_3\" is not in the event map",
        "{body}"
    );
    let view = conversion(&app, body["conversion_id"].as_i64().unwrap()).await;
    assert_eq!(
        view["params"],
        json!({"click_id": "rj-1", "event": "upsell_3", "txid": "U3"})
    );
    let (_, body) = postback(&app, "keitaro", "subid=rj-1&status=Declined&tid=R9").await;
    assert_eq!(
        body["reason"],
        "status \"Declined\" (read as \"rejected\") maps to no event (null in the event map)",
        "{body}"
    );
    let report = app.deliver().await;
    assert_eq!(report.delivered, 1);
    let events = app.graph_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event_name"], "Lead");
}

#[tokio::test]
async fn a_campaign_event_map_can_name_the_networks_words() {
    let app = spawn_app().await;
    app.create_campaign(
        "offer1",
        json!({"event_map": {"lead": "CompleteRegistration", "qualified": "Purchase", "sale": null}}),
    )
    .await;
    click(&app, "offer1", "em-1", json!({})).await;
    accepted(
        &app,
        "keitaro",
        "subid=em-1&status=lead",
        "CompleteRegistration",
        "CompleteRegistration-em-1",
    )
    .await;
    accepted(
        &app,
        "keitaro",
        "subid=em-1&status=Qualified&payout=100",
        "Purchase",
        "Purchase-em-1",
    )
    .await;
    let (status, body) = postback(&app, "keitaro", "subid=em-1&status=sale").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("skipped")));
    assert_eq!(app.deliver().await.delivered, 2);
}

/// Many postbacks at once share group-commit batches: repeats, rebills and unknown clicks in
/// one batch must come out as if they had arrived one by one.
#[tokio::test]
async fn concurrent_postbacks_in_shared_batches_keep_dedup_and_distinct_event_ids() {
    let app = spawn_app().await;
    app.create_campaign("offer1", json!({})).await;
    for i in 0..20 {
        click(&app, "offer1", &format!("cc-{i}"), json!({})).await;
    }
    let mut queries = Vec::new();
    for i in 0..20 {
        // Each click: a lead sent three times, a sale, a rebill with its own txid.
        for _ in 0..3 {
            queries.push(format!("subid=cc-{i}&status=lead"));
        }
        queries.push(format!("subid=cc-{i}&status=sale&tid=S{i}"));
        queries.push(format!("subid=cc-{i}&status=sale&tid=R{i}"));
    }
    // And postbacks for clicks nobody registered.
    for i in 0..10 {
        queries.push(format!("subid=ghost-{i}&status=lead"));
    }
    let answers = futures_join(&app, &queries).await;
    let count_of = |s: &str| answers.iter().filter(|a| a["status"] == s).count();
    assert_eq!(count_of("accepted"), 60, "{answers:?}");
    assert_eq!(count_of("duplicate"), 40);
    assert_eq!(count_of("unmatched"), 10);

    let report = app.deliver().await;
    assert_eq!(report.delivered, 60);
    let events = app.graph_events().await;
    let mut ids: Vec<&str> = events
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 60, "every conversion has its own event id");
    for i in 0..20 {
        let mut purchases: Vec<(String, String)> = events
            .iter()
            .filter(|e| e["event_name"] == "Purchase")
            .map(|e| {
                (
                    e["custom_data"]["order_id"].as_str().unwrap().to_owned(),
                    e["event_id"].as_str().unwrap().to_owned(),
                )
            })
            .filter(|(order, _)| *order == format!("S{i}") || *order == format!("R{i}"))
            .collect();
        purchases.sort();
        // The two sales raced: whichever was recorded first has the plain id, the other the
        // id suffixed with its own transaction id.
        let base = format!("Purchase-cc-{i}");
        let (r, s) = (&purchases[0], &purchases[1]);
        let expected = [
            [
                (r.0.clone(), base.clone()),
                (s.0.clone(), format!("{base}-S{i}")),
            ],
            [
                (r.0.clone(), format!("{base}-R{i}")),
                (s.0.clone(), base.clone()),
            ],
        ];
        assert!(
            expected.contains(&[r.clone(), s.clone()]),
            "cc-{i}: {purchases:?}"
        );
    }
    assert_eq!(count(&app, "conversions").await, 70);
}
