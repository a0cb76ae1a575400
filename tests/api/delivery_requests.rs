//! The delivery worker against a fake Graph API: what requests carry and where they go\n(the 1,000-event limit, pixels, test codes, appsecret_proof), and several processes on one\noutbox.

use crate::helpers::delivery::*;
use crate::helpers::outbox::{counts, event_states};
use crate::helpers::*;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use wiremock::MockServer;

// ---------------------------------------------------------------------------------------------
// 7: Meta's 1,000-event limit
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn fifteen_hundred_events_for_one_pixel_go_in_two_requests_in_one_pass() {
    // 1500 new clicks from one address in seconds: more than a browser's budget.
    let app = spawn_app_with(&["--click-address-new-limit", "off"]).await;
    app.create_campaign("bulk", json!({})).await;
    let started = Instant::now();
    let queued = queue_leads(&[&app], "bulk", "bulk", 1500).await;
    eprintln!("queued 1500 events in {:?}", started.elapsed());

    let r = app.deliver().await;
    assert_eq!(r, report(1500, 2, 1500, 0, 0, 0));
    let requests = app.graph_requests().await;
    let mut sizes: Vec<usize> = requests.iter().map(|r| ids_in(r).len()).collect();
    sizes.sort();
    assert_eq!(sizes, [500, 1000]);
    for r in &requests {
        assert_eq!(r["access_token"], ACCESS_TOKEN);
    }
    let received: Vec<String> = requests.iter().flat_map(ids_in).collect();
    let unique: HashSet<&String> = received.iter().collect();
    assert_eq!(unique.len(), 1500, "no event twice");
    let expected: HashSet<String> = queued.iter().map(|q| q.event_id.clone()).collect();
    assert_eq!(received.into_iter().collect::<HashSet<_>>(), expected);
    assert_eq!(event_states(&app, None).await, counts(&[("sent", 1500)]));
}

// ---------------------------------------------------------------------------------------------
// 8: several processes on one outbox
// ---------------------------------------------------------------------------------------------

/// Two real `capi-bridge serve` processes (the compiled binary) on one database, each with its
/// own fake Graph API, so what each process sent is counted apart: both must have delivered
/// events, every event must reach "Meta" exactly once, at its campaign's pixel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_database_never_send_an_event_twice() {
    const PER_CAMPAIGN: usize = 100;
    let campaigns = [
        ("mpa", "1111111111"),
        ("mpb", "2222222222"),
        ("mpc", "3333333333"),
    ];
    let database_url = fresh_database().await;
    // Meta takes a while to answer, so one process's requests are in flight while the other
    // polls: the lease, not luck, must keep the second away from those events. Small batches
    // (25, two requests at a time) leave work for both.
    let slow = Duration::from_millis(150);
    let fakes = [MockServer::start().await, MockServer::start().await];
    for fake in &fakes {
        graph_answers(fake, SlowOk(slow)).await;
    }
    let settings = [("DELIVERY_BATCH_MAX", "25"), ("DELIVERY_CONCURRENCY", "2")];
    let mut one = spawn_serve(&database_url, &fakes[0].uri(), &settings).await;
    for (key, pixel) in campaigns {
        one.create_campaign(key, pixel).await;
    }
    let mut two = spawn_serve(&database_url, &fakes[1].uri(), &settings).await;
    let pool = sqlx::PgPool::connect(&database_url).await.unwrap();

    // Postbacks spread over both processes and the three campaigns, 16 at a time.
    let started = Instant::now();
    let mut expected: HashMap<String, &str> = HashMap::new();
    let work: Vec<(String, &str, &str)> = (0..PER_CAMPAIGN)
        .flat_map(|i| campaigns.map(|(key, pixel)| (format!("{key}{i:04}"), key, pixel)))
        .collect();
    for (c, chunk) in work.chunks(16).enumerate() {
        let mut set = tokio::task::JoinSet::new();
        for (i, (click_id, key, _)) in chunk.iter().enumerate() {
            let process = if (c * 16 + i) % 2 == 0 { &one } else { &two };
            let (client, base) = (process.client.clone(), process.base.clone());
            let (key, click_id) = (key.to_string(), click_id.clone());
            set.spawn(async move { queue_lead_at(&client, &base, &key, &click_id).await });
        }
        while let Some(done) = set.join_next().await {
            let q = done.expect("queueing task");
            let pixel = chunk
                .iter()
                .find(|(click_id, _, _)| q.event_id.ends_with(click_id.as_str()))
                .map(|(_, _, pixel)| *pixel)
                .expect("the event id names its click");
            assert!(expected.insert(q.event_id, pixel).is_none());
        }
    }
    let total = campaigns.len() * PER_CAMPAIGN;
    assert_eq!(expected.len(), total);

    wait_for("every event sent", Duration::from_secs(60), || async {
        let sent: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE state = 'sent'")
            .fetch_one(&pool)
            .await
            .unwrap();
        if sent == total as i64 {
            Ok(())
        } else {
            Err(format!("{sent} of {total} sent"))
        }
    })
    .await;
    eprintln!(
        "{total} postbacks queued and delivered by two processes in {:?}",
        started.elapsed()
    );
    // Both stop gracefully: nothing they sent can still be on its way to a fake.
    for process in [&mut one, &mut two] {
        let (status, _) = process.terminate().await;
        assert!(status.success(), "{status}: {}", process.logs());
    }

    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut per_process = Vec::new();
    for fake in &fakes {
        let mut events = 0;
        for (path, body) in received(fake).await {
            for event in body["data"].as_array().expect("data") {
                let id = event["event_id"].as_str().expect("event_id").to_owned();
                let pixel = expected
                    .get(&id)
                    .unwrap_or_else(|| panic!("an event nobody queued: {id}"));
                assert_eq!(path, format!("/v26.0/{pixel}/events"), "event {id}");
                *seen.entry(id).or_default() += 1;
                events += 1;
            }
        }
        per_process.push(events);
    }
    eprintln!(
        "process one sent {}, process two sent {}",
        per_process[0], per_process[1]
    );
    assert!(
        per_process.iter().all(|n| *n > 0),
        "both processes must have claimed and sent events: {per_process:?}"
    );
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "received more than once: {twice:?}");
    assert_eq!(
        seen.keys().collect::<HashSet<_>>(),
        expected.keys().collect::<HashSet<_>>(),
        "every event reached Meta"
    );
    let attempts: Vec<(i32, i64)> =
        sqlx::query_as("SELECT attempts, count(*) FROM events GROUP BY attempts")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(attempts, [(1, total as i64)]);
    let logged: i64 = sqlx::query_scalar("SELECT count(*) FROM delivery_attempts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(logged, total as i64);
    let leased: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE lease_owner IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(leased, 0);
}

// ---------------------------------------------------------------------------------------------
// 10-11: request fields
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn requests_carry_appsecret_proof_when_an_app_secret_is_set() {
    let secret = "meta-app-secret-0f1e2d3c";
    let app = spawn_app_with(&["--meta-app-secret", secret]).await;
    app.create_campaign("proof", json!({})).await;
    let q = queue_lead(&app, "proof", "clk-proof").await;
    assert_eq!(app.deliver().await.delivered, 1);

    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(ACCESS_TOKEN.as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    let requests = app.graph_requests().await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["appsecret_proof"], expected);
    assert_eq!(requests[0]["access_token"], ACCESS_TOKEN);
    assert_eq!(ids_in(&requests[0]), [q.event_id]);
}

/// Each campaign's events go to its own pixel's path, in the configured API version
/// (`graph_requests` checks every request's path against its events' campaign).
#[tokio::test]
async fn campaigns_on_different_pixels_go_to_their_own_pixel() {
    let app = spawn_app_with(&["--meta-api-version", "v25.0"]).await;
    app.create_campaign("pixa", json!({"pixel_id": "1111111111"}))
        .await;
    app.create_campaign("pixb", json!({"pixel_id": "2222222222"}))
        .await;
    let a = queue_leads(&[&app], "pixa", "pa", 3).await;
    let b = queue_leads(&[&app], "pixb", "pb", 2).await;

    assert_eq!(app.deliver().await, report(5, 2, 5, 0, 0, 0));
    assert_eq!(app.graph_requests().await.len(), 2);
    let mut by_path: HashMap<String, HashSet<String>> = HashMap::new();
    for r in app.graph.received_requests().await.unwrap() {
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        by_path
            .entry(r.url.path().to_owned())
            .or_default()
            .extend(ids_in(&body));
    }
    let ids = |qs: &[Queued]| {
        qs.iter()
            .map(|q| q.event_id.clone())
            .collect::<HashSet<_>>()
    };
    assert_eq!(
        by_path,
        HashMap::from([
            ("/v25.0/1111111111/events".to_owned(), ids(&a)),
            ("/v25.0/2222222222/events".to_owned(), ids(&b)),
        ])
    );
}

#[tokio::test]
async fn campaigns_on_one_pixel_with_different_test_codes_go_in_separate_requests() {
    let app = spawn_app().await;
    app.create_campaign("testa", json!({"test_event_code": "TESTA111"}))
        .await;
    app.create_campaign("testb", json!({"test_event_code": "TESTB222"}))
        .await;
    app.create_campaign("prod", json!({})).await;
    let a = queue_leads(&[&app], "testa", "ta", 2).await;
    let b = queue_leads(&[&app], "testb", "tb", 2).await;
    let p = queue_leads(&[&app], "prod", "pr", 2).await;

    assert_eq!(app.deliver().await, report(6, 3, 6, 0, 0, 0));
    let mut by_code: HashMap<String, HashSet<String>> = HashMap::new();
    for r in app.graph_requests().await {
        let code = match r.get("test_event_code") {
            None => "(none)".to_owned(),
            Some(c) => c.as_str().expect("a string code").to_owned(),
        };
        let previous = by_code.insert(code.clone(), ids_in(&r).into_iter().collect());
        assert!(previous.is_none(), "two requests for {code}");
    }
    let ids = |qs: &[Queued]| {
        qs.iter()
            .map(|q| q.event_id.clone())
            .collect::<HashSet<_>>()
    };
    assert_eq!(
        by_code,
        HashMap::from([
            ("TESTA111".to_owned(), ids(&a)),
            ("TESTB222".to_owned(), ids(&b)),
            ("(none)".to_owned(), ids(&p)),
        ])
    );
}
