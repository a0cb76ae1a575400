//! The retry schedule: pure, shared by every platform.

use std::time::Duration;

/// Delays between attempts after transient failures, with jitter so that a recovering Meta is
/// not hit by every parked event at the same second.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    delays: Vec<Duration>,
    /// Up to this fraction of the delay is added at random.
    jitter: f64,
}

impl RetryPolicy {
    pub fn new(delays: Vec<Duration>) -> Self {
        assert!(
            !delays.is_empty(),
            "a retry schedule needs at least one delay"
        );
        RetryPolicy {
            delays,
            jitter: 0.2,
        }
    }

    /// The delay before the attempt after `attempts` failed ones (1 = the first failure).
    /// `random` is in `[0, 1)`; `retry_after` is Meta's own `Retry-After`, a lower bound.
    pub fn delay(&self, attempts: u32, retry_after: Option<Duration>, random: f64) -> Duration {
        let index = (attempts.max(1) as usize - 1).min(self.delays.len() - 1);
        let base = self.delays[index];
        let jittered = base + base.mul_f64(self.jitter * random.clamp(0.0, 1.0));
        jittered.max(retry_after.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> RetryPolicy {
        RetryPolicy::new(vec![
            Duration::from_secs(10),
            Duration::from_secs(60),
            Duration::from_secs(300),
        ])
    }

    #[test]
    fn follows_the_schedule_and_repeats_the_last_delay() {
        let p = schedule();
        assert_eq!(p.delay(1, None, 0.0), Duration::from_secs(10));
        assert_eq!(p.delay(2, None, 0.0), Duration::from_secs(60));
        assert_eq!(p.delay(3, None, 0.0), Duration::from_secs(300));
        assert_eq!(p.delay(9, None, 0.0), Duration::from_secs(300));
        assert_eq!(p.delay(0, None, 0.0), Duration::from_secs(10));
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let p = schedule();
        for r in [0.0, 0.3, 0.999, 5.0] {
            let d = p.delay(2, None, r);
            assert!(
                d >= Duration::from_secs(60) && d <= Duration::from_secs(72),
                "{d:?}"
            );
        }
        assert_eq!(p.delay(2, None, 0.5), Duration::from_secs(66));
    }

    #[test]
    fn retry_after_is_a_lower_bound() {
        let p = schedule();
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(120)), 0.0),
            Duration::from_secs(120)
        );
        assert_eq!(
            p.delay(3, Some(Duration::from_secs(1)), 0.0),
            Duration::from_secs(300)
        );
    }
}
