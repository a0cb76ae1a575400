//! The background sender's batching (`delivery::sender`): commits during its batch window ride
//! in one request, and a full claim is followed by another at once. The test runs the sender
//! with a pace whose waits it holds (`run_paced`), so what happens inside a wait is seen, not
//! guessed at by the clock; gates hold the requests where their order matters.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use capi_bridge::delivery::sender::{run_paced, Pace, Wait};
use serde_json::json;
use tokio::sync::{mpsc, oneshot, watch};
use wiremock::MockServer;

use crate::helpers::gate::Gate;
use crate::helpers::outbox::{counts, event_states};
use crate::helpers::tiktok::{FakeTikTok, TIKTOK_PIXEL};
use crate::helpers::*;

type Held = (Wait, oneshot::Sender<()>);

/// Each wait is handed to the test and lasts until the test drops its handle.
struct TestPace(mpsc::UnboundedSender<Held>);

impl Pace for TestPace {
    fn wait(&self, what: Wait, _: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let (release, released) = oneshot::channel();
        let _ = self.0.send((what, release));
        Box::pin(async move {
            let _ = released.await;
        })
    }
}

/// The sender's waits as they begin. Polls are held for good: nothing here waits for one.
struct Waits {
    begun: mpsc::UnboundedReceiver<Held>,
    polls: Vec<oneshot::Sender<()>>,
}

impl Waits {
    /// The next wait `what` the sender begins, held until the handle is dropped.
    async fn next(&mut self, what: Wait) -> oneshot::Sender<()> {
        loop {
            let begun = tokio::time::timeout(Duration::from_secs(10), self.begun.recv());
            let (wait, release) = begun.await.expect("the sender waits").expect("it runs");
            match wait {
                w if w == what => return release,
                Wait::Poll => self.polls.push(release),
                Wait::Window => panic!("a batch window while waiting for {what:?}"),
            }
        }
    }

    /// From now on every batch window ends at once.
    fn end_windows(mut self) {
        tokio::spawn(async move {
            while let Some((wait, release)) = self.begun.recv().await {
                if wait == Wait::Poll {
                    self.polls.push(release);
                }
            }
        });
    }
}

/// The app's sender, paced by the test; stopped when the handle drops.
struct Sender {
    task: tokio::task::JoinHandle<()>,
    _stop: watch::Sender<bool>,
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the sender and waits until it is idle (its first pass found nothing).
async fn start_sender(app: &TestApp) -> (Sender, Waits) {
    let (tx, begun) = mpsc::unbounded_channel();
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(run_paced(app.worker.clone(), stopped, TestPace(tx)));
    let mut waits = Waits {
        begun,
        polls: Vec::new(),
    };
    let first = waits.next(Wait::Poll).await;
    waits.polls.push(first);
    (Sender { task, _stop: stop }, waits)
}

async fn register(app: &TestApp, campaign: &str, click_id: &str) {
    let click = json!({"campaign": campaign, "click_id": click_id,
        "fbclid": "IwAR_pace", "ttclid": "E.C.P.pace"});
    let resp = app.register_click(click).await;
    assert_eq!(resp.status(), 201, "click {click_id}");
}

async fn lead(app: &TestApp, click_id: &str) {
    let query = format!("click_id={click_id}&status=lead&txid=tx-{click_id}");
    let resp = app.postback("generic", &query).await;
    assert_eq!(resp.status(), 200, "postback {click_id}");
}

/// Events by (state, leased).
async fn leased(app: &TestApp) -> (i64, i64) {
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE lease_owner IS NOT NULL), \
                count(*) FILTER (WHERE lease_owner IS NULL AND state = 'pending') FROM events",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn all_sent(app: &TestApp, n: i64) {
    wait_for("every event sent", Duration::from_secs(20), || async {
        let states = event_states(app, None).await;
        (states == counts(&[("sent", n)]))
            .then_some(())
            .ok_or(format!("{states:?}"))
    })
    .await;
}

#[tokio::test]
async fn events_committed_during_the_batch_window_go_in_one_request() {
    let app = spawn_app().await;
    app.create_campaign("shop", json!({})).await;
    for c in ["w-1", "w-2", "w-3"] {
        register(&app, "shop", c).await;
    }
    let (_sender, mut waits) = start_sender(&app).await;

    // The first commit wakes the sender, which opens its window; two more arrive inside it.
    lead(&app, "w-1").await;
    let window = waits.next(Wait::Window).await;
    lead(&app, "w-2").await;
    lead(&app, "w-3").await;
    assert_eq!(
        leased(&app).await,
        (0, 3),
        "nothing claimed inside the window"
    );
    assert!(app.graph_requests().await.is_empty());

    drop(window);
    waits.end_windows();
    all_sent(&app, 3).await;
    let requests = app.graph_requests().await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["data"].as_array().unwrap().len(), 3);
}

/// DELIVERY_BATCH_MAX 2 and DELIVERY_CONCURRENCY 2: a pass claims at most 4 events. On a
/// campaign on Meta and TikTok the first claim takes 2 of each (one request per platform) and
/// leaves a slot free on both: being full, it is followed at once by a second, before any wait.
#[tokio::test]
async fn a_full_claim_with_a_slot_free_claims_again_at_once() {
    let graph = MockServer::start().await;
    mount_graph_ok(&graph).await;
    let tiktok = MockServer::start().await;
    FakeTikTok::ok().mount(&tiktok).await;
    let meta_gate = Gate::start(&graph.uri(), "/events").await;
    let tiktok_gate = Gate::start(&tiktok.uri(), TIKTOK_PIXEL).await;
    let database = fresh_database().await;
    let args = [
        ("--meta-graph-url", meta_gate.uri.as_str()),
        ("--tiktok-api-url", tiktok_gate.uri.as_str()),
        ("--delivery-batch-max", "2"),
        ("--delivery-concurrency", "2"),
        ("--delivery-target-concurrency", "2"),
        ("--delivery-timeout", "300s"),
    ];
    let args: Vec<&str> = args.iter().flat_map(|(k, v)| [*k, *v]).collect();
    let mut app = spawn_on(&database, graph, &args).await;
    app.tiktok = tiktok;
    app.database = Some(database);
    app.create_campaign_on_both("both").await;
    let clicks: Vec<String> = (1..=6).map(|i| format!("f-{i}")).collect();
    for c in &clicks {
        register(&app, "both", c).await;
    }
    let (_sender, mut waits) = start_sender(&app).await;

    lead(&app, &clicks[0]).await;
    let window = waits.next(Wait::Window).await;
    for c in &clicks[1..] {
        lead(&app, c).await;
    }
    assert_eq!(leased(&app).await, (0, 12));

    // The window ends; the requests stay at the gates. The sender's next wait comes after its
    // claims: two full ones, 8 events in 4 requests, the rest left for later.
    drop(window);
    let window = waits.next(Wait::Window).await;
    assert_eq!(leased(&app).await, (8, 4));
    meta_gate.holding(2).await;
    tiktok_gate.holding(2).await;

    meta_gate.open();
    tiktok_gate.open();
    drop(window);
    waits.end_windows();
    all_sent(&app, 12).await;
    assert_eq!(app.graph_events().await.len(), 6, "each Meta event once");
    assert_eq!(app.tiktok_events().await.len(), 6, "each TikTok event once");
}
