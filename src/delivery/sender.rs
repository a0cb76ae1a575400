//! The sender: runs delivery passes without ever waiting for a request. Each pass claims only
//! what can start at once beside the requests in flight (per platform and per campaign and
//! platform, see [`super::inflight`]), starts a task per request and returns; the next pass
//! comes when an event is committed, a request finishes or the poll interval passes. So a
//! platform endpoint that hangs holds its own requests and nothing else.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::watch;

use super::report::TickReport;
use super::running::Running;
use super::DeliveryWorker;

/// The sender's two waits: for more events to fill a request, and the fallback poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// DELIVERY_BATCH_WINDOW, after a commit or a freed slot without a backlog.
    Window,
    /// DELIVERY_POLL_INTERVAL, with nothing else to wake for.
    Poll,
}

/// How the sender waits: the clock in service; a test holds each wait to see what the sender
/// does before it ends, without guessing at times.
pub trait Pace: Send + Sync + 'static {
    fn wait(&self, what: Wait, length: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The service's pace: each wait takes its length.
pub struct Sleep;

impl Pace for Sleep {
    fn wait(&self, _: Wait, length: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(length))
    }
}

/// Delivers until `shutdown` turns true, then lets the requests in flight finish (startup
/// bounds that by `SHUTDOWN_TIMEOUT`) and gives back its leases.
pub async fn run(worker: DeliveryWorker, shutdown: watch::Receiver<bool>) {
    run_paced(worker, shutdown, Sleep).await
}

/// [`run`] with its waits taken by `pace`.
pub async fn run_paced(
    worker: DeliveryWorker,
    mut shutdown: watch::Receiver<bool>,
    pace: impl Pace,
) {
    let s = worker.settings().clone();
    tracing::info!(
        batch_max = s.batch_max,
        concurrency = s.concurrency,
        target_concurrency = s.target_concurrency,
        "delivery sender started"
    );
    let mut running = Running::new(worker.caps());
    // What finished requests did is logged by each; the sender keeps no totals.
    let mut report = TickReport::default();
    loop {
        running.reap(&mut report);
        if *shutdown.borrow() {
            break;
        }
        let more = match worker.pass(&mut running, &mut report).await {
            Ok(more) => more,
            Err(e) => {
                tracing::warn!(error = %e, "delivery pass failed; retrying after the poll interval");
                false
            }
        };
        // A full claim means more is due: go again at once if a slot is free.
        if more && !running.room().is_empty() {
            continue;
        }
        tokio::select! {
            _ = worker.signal().notified() => {
                // Under load events keep arriving: a short wait fills the next request
                // (up to DELIVERY_BATCH_MAX) instead of sending one request per commit.
                pace.wait(Wait::Window, s.batch_window).await;
            }
            true = running.next(&mut report), if !running.is_empty() => {
                // A slot is free. With a backlog, claim at once; else wait as for a commit.
                if !more {
                    pace.wait(Wait::Window, s.batch_window).await;
                }
            }
            _ = pace.wait(Wait::Poll, s.poll_interval) => {}
            _ = shutdown.changed() => {}
        }
    }
    while running.next(&mut report).await {}
    worker.release().await;
}
