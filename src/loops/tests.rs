use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;

use super::every;

const WAIT: Duration = Duration::from_secs(5);

/// A loop whose passes report their number on the returned channel.
fn counting(
    period: Duration,
) -> (
    watch::Sender<bool>,
    mpsc::UnboundedReceiver<u32>,
    JoinHandle<()>,
) {
    let (stop, shutdown) = watch::channel(false);
    let (tx, rx) = mpsc::unbounded_channel();
    let mut n = 0;
    let handle = tokio::spawn(every(period, shutdown, move || {
        n += 1;
        let _ = tx.send(n);
        std::future::ready(())
    }));
    (stop, rx, handle)
}

async fn ended(handle: JoinHandle<()>) {
    tokio::time::timeout(WAIT, handle)
        .await
        .expect("the loop stops")
        .expect("the loop did not panic");
}

#[tokio::test]
async fn a_loop_passes_at_once_then_each_period_and_stops_when_told() {
    // A period no test waits out: the first pass must come at once.
    let (stop, mut passes, handle) = counting(Duration::from_secs(3600));
    assert_eq!(
        tokio::time::timeout(WAIT, passes.recv()).await.unwrap(),
        Some(1)
    );
    stop.send(true).unwrap();
    ended(handle).await;

    let (stop, mut passes, handle) = counting(Duration::from_millis(5));
    for expected in 1..=3 {
        let n = tokio::time::timeout(WAIT, passes.recv()).await.unwrap();
        assert_eq!(n, Some(expected));
    }
    stop.send(true).unwrap();
    ended(handle).await;
}

#[tokio::test]
async fn a_loop_stops_when_its_sender_is_gone() {
    let (stop, mut passes, handle) = counting(Duration::from_millis(5));
    assert_eq!(
        tokio::time::timeout(WAIT, passes.recv()).await.unwrap(),
        Some(1)
    );
    drop(stop);
    ended(handle).await;
}

#[tokio::test]
async fn a_pass_under_way_finishes_before_the_loop_stops() {
    let (stop, shutdown) = watch::channel(false);
    let (started, gate) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let finished = Arc::new(AtomicBool::new(false));
    let handle = tokio::spawn({
        let (started, gate, finished) = (started.clone(), gate.clone(), finished.clone());
        every(Duration::from_secs(3600), shutdown, move || {
            let (started, gate, finished) = (started.clone(), gate.clone(), finished.clone());
            async move {
                started.notify_one();
                gate.notified().await;
                finished.store(true, Ordering::SeqCst);
            }
        })
    });
    tokio::time::timeout(WAIT, started.notified())
        .await
        .unwrap();
    stop.send(true).unwrap();
    gate.notify_one();
    ended(handle).await;
    assert!(finished.load(Ordering::SeqCst), "the pass was cut off");
}
