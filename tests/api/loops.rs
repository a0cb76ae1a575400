//! The background loops of `capi_bridge::loops` on a real database of their own (no server,
//! whose own loops would do the same work): each starts, works at once, stops when told.

use std::time::Duration;

use capi_bridge::loops::{interrupted_imports, retention::Retention};
use capi_bridge::storage::imports;
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::helpers::*;

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

async fn stops(stop: watch::Sender<bool>, handle: JoinHandle<()>) {
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .expect("the loop stops when told")
        .unwrap();
}

#[tokio::test]
async fn the_retention_loop_deletes_what_is_past_retention_and_stops() {
    let (_db, pool) = migrated_database().await;
    sqlx::query(
        "INSERT INTO refused_postbacks (received_at, tracker, code, detail, params) \
         SELECT now() - make_interval(days => d), 'keitaro', 'unfilled_status', 'x', '{}' \
         FROM unnest(ARRAY[31, 40, 29]) AS d",
    )
    .execute(&pool)
    .await
    .unwrap();
    let thirty_days = Duration::from_secs(30 * 86400);
    let (stop, shutdown) = watch::channel(false);
    let handle = tokio::spawn(
        Retention {
            pool: pool.clone(),
            clicks: thirty_days,
            events: thirty_days,
            meta_quality: thirty_days,
        }
        .run(shutdown),
    );
    let left = wait_for("the first pass", Duration::from_secs(10), || async {
        match count(&pool, "SELECT count(*) FROM refused_postbacks").await {
            1 => Ok(1),
            n => Err(format!("{n} refused postbacks")),
        }
    })
    .await;
    assert_eq!(left, 1, "the one within the retention stays");
    stops(stop, handle).await;
}

#[tokio::test]
async fn the_interrupted_imports_loop_fails_a_dead_import_and_stops() {
    let (_db, pool) = migrated_database().await;
    let id = imports::create(&pool, 10, None, Some("dead.csv"))
        .await
        .unwrap();
    // Its process died a minute ago: the heartbeat stopped.
    sqlx::query(
        "UPDATE imports SET state = 'running', heartbeat_at = now() - interval '1 minute' \
         WHERE id = $1",
    )
    .bind(id)
    .execute(&pool)
    .await
    .unwrap();
    let (stop, shutdown) = watch::channel(false);
    let handle = tokio::spawn(interrupted_imports::run(pool.clone(), shutdown));
    let sql = format!("SELECT count(*) FROM imports WHERE id = {id} AND state = 'failed'");
    wait_for("the import to fail", Duration::from_secs(10), || async {
        match count(&pool, &sql).await {
            1 => Ok(()),
            _ => Err("still running".to_owned()),
        }
    })
    .await;
    stops(stop, handle).await;
    // A fresh heartbeat is another live process's import: a pass leaves it alone.
    let live = imports::create(&pool, 10, None, None).await.unwrap();
    sqlx::query("UPDATE imports SET state = 'running', heartbeat_at = now() WHERE id = $1")
        .bind(live)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(interrupted_imports::pass(&pool).await, 0);
}
