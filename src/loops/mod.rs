//! The background loops beside delivery (`delivery::sender`), Meta's quality figures
//! (`meta_quality`) and the alerts (`alerts`): each a module with a `pass` and a
//! `run(shutdown)` that repeats it on a schedule until start-up says stop.

pub mod interrupted_imports;
pub mod pruning;
pub mod retention;

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

/// Runs `pass` (its result is its own business) at once and then every `period` until `shutdown` turns true or its sender is
/// gone; a pass under way finishes first, so a loop never stops halfway through a statement.
pub async fn every<F, Fut>(period: Duration, mut shutdown: watch::Receiver<bool>, mut pass: F)
where
    F: FnMut() -> Fut,
    Fut: Future,
{
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = stopped(&mut shutdown) => return,
            _ = ticks.tick() => {
                pass().await;
            }
        }
    }
}

async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // An error is a dropped sender: nobody is left to say stop, so stop now.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

#[cfg(test)]
mod tests;
