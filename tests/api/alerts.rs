//! Alerts (issue 22, item 11): a refused token tells the webhook and Telegram once, says when
//! it is over, never twice an hour, once however many processes run; the dashboard's test
//! button and list; failing, redirecting and oversized channels. Real server and database; the
//! channels are fakes speaking Slack's and Telegram's formats (`helpers/alerts.rs`).

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::alerts::*;
use crate::helpers::*;
use crate::ui_campaigns::{csrf_of, post_form};
use crate::ui_session::{get_page, sign_in};

const PUBLIC_URL: &str = "https://bridge.example";
const KEY: &str = "keto-fb-us";

/// `extra` after the channels' flags; the loop itself waits an hour, so passes run when the
/// test says.
fn flags(channels: &FakeChannels, extra: &[&str]) -> Vec<String> {
    let mut args = channels.args();
    args.extend(["--alert-interval", "1h", "--public-url", PUBLIC_URL].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

async fn app_alerting(channels: &FakeChannels, extra: &[&str]) -> TestApp {
    let args = flags(channels, extra);
    spawn_app_with(&args.iter().map(String::as_str).collect::<Vec<_>>()).await
}

/// Campaign [`KEY`] on a server alerting the fake channels.
async fn campaign_alerting() -> (FakeChannels, TestApp) {
    let channels = FakeChannels::start().await;
    let app = app_alerting(&channels, &[]).await;
    app.create_campaign(KEY, json!({})).await;
    (channels, app)
}

/// From now on Meta refuses every token (code 190).
async fn meta_refuses_tokens(app: &TestApp) {
    app.graph.reset().await;
    Mock::given(method("POST"))
        .respond_with(graph_error(400, 190, Some(463), false, "token expired"))
        .mount(&app.graph)
        .await;
}

/// A lead of `click` on [`KEY`] that Meta refuses: parked on the token.
async fn parked_lead(app: &TestApp, click: &str) {
    meta_refuses_tokens(app).await;
    app.click_and_lead(KEY, click, json!({})).await;
    let report = app.deliver().await;
    assert_eq!(report.failed, 1, "{report:?}");
}

/// A new token that Meta accepts: the parked events go out.
async fn token_fixed(app: &TestApp, token: &str) {
    app.graph.reset().await;
    mount_graph_ok(&app.graph).await;
    app.patch_campaign_ok(KEY, json!({ "access_token": token }))
        .await;
    app.deliver().await;
}

fn at(t0: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    t0 + TimeDelta::minutes(minutes)
}

/// How many messages a pass `minutes` after `t0` sent (to each channel).
async fn sent_after(app: &TestApp, t0: DateTime<Utc>, minutes: i64) -> usize {
    app.alerts.pass(at(t0, minutes)).await.unwrap().sent.len()
}

/// The webhook's last message, which must be its `n`th and say `state`.
async fn nth_webhook(channels: &FakeChannels, n: usize, state: &str) -> serde_json::Value {
    let hooks = channels.webhook_bodies().await;
    assert_eq!(hooks.len(), n, "{hooks:?}");
    assert_eq!(hooks[n - 1]["state"], state, "{hooks:?}");
    hooks[n - 1].clone()
}

async fn counts(channels: &FakeChannels) -> (usize, usize) {
    (
        channels.webhook_bodies().await.len(),
        channels.telegram_bodies().await.len(),
    )
}

#[tokio::test]
async fn a_refused_token_alerts_each_channel_once_and_once_more_when_resolved() {
    let (channels, app) = campaign_alerting().await;
    let t0 = Utc::now();
    assert!(app.alerts.pass(t0).await.unwrap().sent.is_empty());
    parked_lead(&app, "al-1").await;

    let report = app.alerts.pass(t0).await.unwrap();
    assert_eq!(report.sent.len(), 1, "{report:?}");
    let hook = &nth_webhook(&channels, 1, "firing").await;
    let mut fields: Vec<&str> = hook
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "campaign",
            "condition",
            "link",
            "platform",
            "since",
            "state",
            "text"
        ],
        "{hook}"
    );
    assert_eq!(hook["campaign"], KEY);
    assert_eq!(hook["platform"], "meta");
    assert_eq!(hook["condition"], "token_refused");
    assert_eq!(hook["link"], format!("{PUBLIC_URL}/ui/campaigns/{KEY}"));
    let since = DateTime::parse_from_rfc3339(hook["since"].as_str().unwrap()).unwrap();
    assert!(since <= t0 + TimeDelta::seconds(1), "{since} {t0}");
    let text = hook["text"].as_str().unwrap();
    assert!(
        text.contains("Meta refused the token (190) for keto-fb-us")
            && text.contains("edit the campaign's access token")
            && text.contains(&format!("{PUBLIC_URL}/ui/campaigns/{KEY}")),
        "{text}"
    );
    let sent = channels.telegram_bodies().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["chat_id"], TELEGRAM_CHAT);
    assert_eq!(sent[0]["text"], text);

    // Still refused: nothing more, within the hour or after it.
    for minutes in [1, 30, 61] {
        assert_eq!(sent_after(&app, t0, minutes).await, 0, "minute {minutes}");
    }
    assert_eq!(counts(&channels).await, (1, 1));

    token_fixed(&app, "EAAnew-working-token-123456").await;
    assert_eq!(sent_after(&app, t0, 62).await, 1);
    let resolved = nth_webhook(&channels, 2, "resolved").await;
    assert_eq!(resolved["condition"], "token_refused");
    let text = resolved["text"].as_str().unwrap();
    assert!(text.starts_with("Resolved: keto-fb-us on Meta"), "{text}");
    assert_eq!(channels.telegram_bodies().await[1]["text"], text);
    assert_eq!(sent_after(&app, t0, 63).await, 0);
    assert_eq!(counts(&channels).await, (2, 2));

    // No credential and no personal data in anything sent.
    let everything = format!(
        "{:?}{:?}",
        channels.webhook_bodies().await,
        channels.telegram_bodies().await
    );
    for secret in [ACCESS_TOKEN, TELEGRAM_TOKEN, WEBHOOK_PATH, "al-1"] {
        assert!(!everything.contains(secret), "{secret} was sent");
    }
}

/// A condition back within the hour of its last start is not announced, and so neither is its
/// end; once the hour has passed it is.
#[tokio::test]
async fn a_key_fires_at_most_once_an_hour_and_never_resolves_unannounced() {
    let (channels, app) = campaign_alerting().await;
    let t0 = Utc::now();
    parked_lead(&app, "hr-1").await;
    assert_eq!(sent_after(&app, t0, 0).await, 1);
    token_fixed(&app, "EAAsecond-token-123456789").await;
    assert_eq!(sent_after(&app, t0, 5).await, 1);
    assert_eq!(counts(&channels).await, (2, 2));

    parked_lead(&app, "hr-2").await;
    assert_eq!(sent_after(&app, t0, 10).await, 0);
    token_fixed(&app, "EAAthird-token-1234567890").await;
    assert_eq!(sent_after(&app, t0, 15).await, 0);
    assert_eq!(counts(&channels).await, (2, 2));

    parked_lead(&app, "hr-3").await;
    assert_eq!(sent_after(&app, t0, 70).await, 1);
    nth_webhook(&channels, 3, "firing").await;
}

/// Two processes on one database decide under one lock: passes at the same moment send once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_passing_at_once_send_each_alert_once() {
    let channels = FakeChannels::start().await;
    let first = app_alerting(&channels, &[]).await;
    let args = flags(&channels, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let second = spawn_on(&first.database_url, MockServer::start().await, &args).await;
    first.create_campaign(KEY, json!({})).await;
    parked_lead(&first, "two-1").await;
    let now = Utc::now();
    let (a, b) = tokio::join!(first.alerts.pass(now), second.alerts.pass(now));
    let sent = a.unwrap().sent.len() + b.unwrap().sent.len();
    assert_eq!(sent, 1);
    assert_eq!(counts(&channels).await, (1, 1));
}

/// The same with the processes' own loops, every 100 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_alert_loops_send_each_alert_once() {
    let channels = FakeChannels::start().await;
    let mut args = channels.args();
    args.extend(["--alert-interval", "100ms"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let first = spawn_app_with(&args).await;
    let _second = spawn_on(&first.database_url, MockServer::start().await, &args).await;
    first.create_campaign(KEY, json!({})).await;
    parked_lead(&first, "loop-1").await;
    wait_for("the alert", Duration::from_secs(10), || async {
        let sent = counts(&channels).await;
        (sent != (0, 0)).then_some(()).ok_or(format!("{sent:?}"))
    })
    .await;
    // Two rounds at the decision lock: after the second, each loop has decided once more while
    // the alert held, and finished sending whatever it decided.
    for _ in 0..2 {
        both_loops_at_the_lock(&first)
            .await
            .rollback()
            .await
            .unwrap();
    }
    assert_eq!(counts(&channels).await, (1, 1));
}

/// Takes the alerts' decision lock and holds it until two passes wait for it: each loop is
/// then past every pass it began before.
async fn both_loops_at_the_lock(app: &TestApp) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let lock = "hashtextextended('capi-bridge alerts', 7002)";
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query(&format!("SELECT pg_advisory_xact_lock({lock})"))
        .execute(&mut *tx)
        .await
        .unwrap();
    // A bigint key is listed as its high and low 32 bits.
    let waiting = format!(
        "SELECT count(*) FROM pg_locks, (SELECT {lock} AS k) alerts_lock \
          WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1 \
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
            AND classid::bigint = (k >> 32) & 4294967295 AND objid::bigint = k & 4294967295"
    );
    wait_for(
        "both loops at the lock",
        Duration::from_secs(10),
        || async {
            let n: i64 = sqlx::query_scalar(&waiting)
                .fetch_one(&app.pool)
                .await
                .unwrap();
            (n == 2).then_some(()).ok_or(format!("{n} waiting"))
        },
    )
    .await;
    tx
}

#[tokio::test]
async fn the_test_button_sends_to_each_channel_and_the_page_lists_it() {
    let channels = FakeChannels::start().await;
    let app = app_alerting(&channels, &[]).await;
    let (cookie, page) = alerts_page(&app).await;
    assert!(page.contains(r#"href="/ui/alerts""#), "nav link");
    assert!(page.contains("None yet."), "{page}");
    // The webhook's host, never its path.
    assert!(page.contains("Webhook to <code>127.0.0.1</code>"), "{page}");
    assert!(!page.contains(WEBHOOK_PATH) && !page.contains(TELEGRAM_TOKEN));
    let csrf = csrf_of(&page);

    let refused = post_form(&app, "/ui/alerts/test", &cookie, &[("csrf", "forged")]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(counts(&channels).await, (0, 0));

    let resp = post_form(&app, "/ui/alerts/test", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let page = resp.text().await.unwrap();
    assert!(page.contains("Test alert sent to webhook."), "{page}");
    assert!(page.contains("Test alert sent to telegram."), "{page}");
    assert_eq!(counts(&channels).await, (1, 1));
    let hook = &channels.webhook_bodies().await[0];
    assert_eq!(hook["state"], "test");
    assert_eq!(hook["link"], format!("{PUBLIC_URL}/ui/alerts"));
    assert!(
        hook["text"].as_str().unwrap().starts_with("Test alert"),
        "{hook}"
    );

    let page = get_page(&app, "/ui/alerts", &cookie)
        .await
        .text()
        .await
        .unwrap();
    let list = &page[page.find(r#"id="alerts-sent""#).expect("the list")..];
    assert_eq!(list.matches("delivered</span>").count(), 2, "{list}");
}

#[tokio::test]
async fn without_a_channel_the_page_says_how_to_set_one_and_nothing_is_sent() {
    let app = spawn_app().await;
    let (cookie, page) = alerts_page(&app).await;
    assert!(page.contains("No alert channel is set"), "{page}");
    let resp = post_form(
        &app,
        "/ui/alerts/test",
        &cookie,
        &[("csrf", &csrf_of(&page))],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp.text().await.unwrap().contains("Nothing was sent"));
}

/// Signs in and reads `/ui/alerts`: the session's cookie and the page.
async fn alerts_page(app: &TestApp) -> (String, String) {
    let cookie = sign_in(app).await;
    let resp = get_page(app, "/ui/alerts", &cookie).await;
    assert_eq!(resp.status(), StatusCode::OK);
    (cookie, resp.text().await.unwrap())
}

/// The test alert's outcome on each channel, as the page says it.
async fn tested(app: &TestApp) -> Vec<(String, Option<String>)> {
    app.alerts
        .send_test()
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.channel.to_string(), d.error))
        .collect()
}

fn assert_no_secret(outcome: &[(String, Option<String>)]) {
    let all = format!("{outcome:?}");
    assert!(
        !all.contains(TELEGRAM_TOKEN) && !all.contains(WEBHOOK_PATH),
        "{all}"
    );
}

/// Redirects are refused and huge answers not read, as for the platforms; one channel's
/// failure, even a hang, leaves the other's message delivered; no failure names a secret URL.
#[tokio::test]
async fn a_failing_channel_fails_alone_and_like_a_platform_would() {
    let channels = FakeChannels::start().await;
    let app = app_alerting(&channels, &[]).await;

    let elsewhere = "https://collector.example/steal?path=1";
    channels
        .webhook_answers(ResponseTemplate::new(302).insert_header("location", elsewhere))
        .await;
    let outcome = tested(&app).await;
    assert_no_secret(&outcome);
    let webhook = outcome[0].1.as_deref().unwrap();
    assert!(
        webhook.contains("redirect refused: HTTP 302 to https://collector.example"),
        "{webhook}"
    );
    assert_eq!(outcome[1], ("telegram".to_owned(), None));

    let huge = "x".repeat(2 << 20);
    channels
        .webhook_answers(ResponseTemplate::new(200).set_body_string(huge))
        .await;
    channels.telegram_answers(telegram_unauthorized()).await;
    let outcome = tested(&app).await;
    assert_no_secret(&outcome);
    let webhook = outcome[0].1.as_deref().unwrap();
    assert!(
        webhook.contains("answer larger than 1048576 bytes"),
        "{webhook}"
    );
    assert_eq!(
        outcome[1].1.as_deref(),
        Some("Telegram refused it (401): Unauthorized")
    );

    // Telegram hangs past the 2 s timeout; the webhook's message is not held up by it.
    channels.webhook_answers(ResponseTemplate::new(200)).await;
    channels
        .telegram_answers(telegram_ok().set_delay(Duration::from_secs(10)))
        .await;
    let started = std::time::Instant::now();
    let outcome = tested(&app).await;
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(outcome[0], ("webhook".to_owned(), None));
    let telegram = outcome[1].1.as_deref().unwrap();
    assert!(telegram.starts_with("Telegram: timeout"), "{telegram}");
    assert_no_secret(&outcome);

    // The list shows each failure with its reason.
    let (_, page) = alerts_page(&app).await;
    assert!(
        page.contains("Telegram refused it (401): Unauthorized"),
        "{page}"
    );
    assert!(page.contains("redirect refused"), "{page}");
}

/// Nothing listens: reqwest's error would name the URL, with the bot token in its path.
#[tokio::test]
async fn an_unreachable_channel_is_reported_without_its_url() {
    let webhook = format!("http://127.0.0.1:{}{WEBHOOK_PATH}", free_port());
    let telegram = format!("http://127.0.0.1:{}", free_port());
    let app = spawn_app_with(&[
        "--alert-webhook-url",
        &webhook,
        "--telegram-bot-token",
        TELEGRAM_TOKEN,
        &format!("--telegram-chat-id={TELEGRAM_CHAT}"),
        "--telegram-api-url",
        &telegram,
        "--alert-interval",
        "1h",
    ])
    .await;
    let outcome = tested(&app).await;
    assert_no_secret(&outcome);
    for (channel, error) in &outcome {
        let error = error.as_deref().unwrap_or_default();
        assert!(error.contains("connection failed"), "{channel}: {error}");
        assert!(!error.contains("127.0.0.1"), "{channel}: {error}");
    }
}
