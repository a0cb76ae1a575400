//! Reading and nudging the outbox from a test: events by state, and making retries due now.

use std::collections::HashMap;

use super::TestApp;

/// How many events are in each state; of one platform (`"meta"`, `"tiktok"`) or of all.
pub async fn event_states(app: &TestApp, platform: Option<&str>) -> HashMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>(
        "SELECT state, count(*) FROM events WHERE $1::text IS NULL OR platform = $1 \
         GROUP BY state",
    )
    .bind(platform)
    .fetch_all(&app.pool)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

/// `[("sent", 2)]` as the map [`event_states`] answers.
pub fn counts(pairs: &[(&str, i64)]) -> HashMap<String, i64> {
    pairs.iter().map(|(s, n)| (s.to_string(), *n)).collect()
}

/// Pending events wait for their retry time no more.
pub async fn make_due_now(app: &TestApp) {
    sqlx::query("UPDATE events SET next_attempt_at = now() WHERE state = 'pending'")
        .execute(&app.pool)
        .await
        .unwrap();
}
