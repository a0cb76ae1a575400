//! What to do after an attempt: a pure function of Meta's answer, and a pure retry schedule.

use std::time::Duration;

use super::graph::SendResult;

/// The fate of the events a request carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// Not the events' fault: try again later (no sooner than `retry_after`).
    Retry {
        retry_after: Option<Duration>,
    },
    /// Token or permission problem: park until the campaign's token or pixel changes.
    Auth,
    /// Meta refused some event's content: split the batch to find it.
    Invalid,
    /// Meta says the event is too old: it can never be sent.
    Expired,
}

const RETRY_CODES: [i64; 10] = [1, 2, 4, 17, 32, 341, 368, 613, 80003, 80004];

pub fn classify(result: &SendResult) -> Verdict {
    match result {
        SendResult::Accepted { .. } => Verdict::Delivered,
        SendResult::Transport { retry_after, .. } => Verdict::Retry {
            retry_after: *retry_after,
        },
        SendResult::MetaError {
            http_status,
            error,
            retry_after,
        } => {
            let retry = Verdict::Retry {
                retry_after: *retry_after,
            };
            let code = error.code.unwrap_or(0);
            let subcode = error.error_subcode.unwrap_or(0);
            // Codes first: Meta has answered token errors (190) with HTTP 500.
            if code == 100 && subcode == 2_804_003 {
                Verdict::Expired
            } else if code == 190
                || code == 10
                || (200..=299).contains(&code)
                || (code == 100 && subcode == 33)
            {
                Verdict::Auth
            } else if error.is_transient || RETRY_CODES.contains(&code) {
                retry
            } else if code == 100 {
                Verdict::Invalid
            } else {
                // An error this table does not know: retrying is safe (Meta deduplicates by
                // event_id, and the event expires after 7 days); dropping it is not.
                let _ = http_status;
                retry
            }
        }
    }
}

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
    use crate::delivery::graph::GraphError;

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

    fn meta(status: u16, code: i64, subcode: Option<i64>, transient: bool) -> SendResult {
        SendResult::MetaError {
            http_status: status,
            error: GraphError {
                code: Some(code),
                error_subcode: subcode,
                is_transient: transient,
                ..GraphError::default()
            },
            retry_after: None,
        }
    }

    #[test]
    fn classification_follows_metas_codes_not_http_status() {
        let retry = Verdict::Retry { retry_after: None };
        assert_eq!(classify(&meta(500, 1, None, false)), retry);
        assert_eq!(classify(&meta(500, 2, None, false)), retry);
        for code in [4, 17, 32, 341, 368, 613, 80003] {
            assert_eq!(classify(&meta(400, code, None, false)), retry, "{code}");
        }
        assert_eq!(classify(&meta(400, 999, None, true)), retry);
        assert_eq!(classify(&meta(500, 190, Some(463), false)), Verdict::Auth);
        assert_eq!(classify(&meta(400, 10, None, false)), Verdict::Auth);
        assert_eq!(classify(&meta(403, 200, None, false)), Verdict::Auth);
        assert_eq!(classify(&meta(403, 299, None, false)), Verdict::Auth);
        assert_eq!(classify(&meta(400, 100, Some(33), false)), Verdict::Auth);
        assert_eq!(
            classify(&meta(400, 100, Some(2804003), false)),
            Verdict::Expired
        );
        assert_eq!(
            classify(&meta(400, 100, Some(2804050), false)),
            Verdict::Invalid
        );
        assert_eq!(classify(&meta(400, 100, None, false)), Verdict::Invalid);
    }

    #[test]
    fn transport_failures_retry_with_retry_after() {
        let r = SendResult::Transport {
            http_status: Some(429),
            message: "x".into(),
            retry_after: Some(Duration::from_secs(30)),
        };
        assert_eq!(
            classify(&r),
            Verdict::Retry {
                retry_after: Some(Duration::from_secs(30))
            }
        );
        let ok = SendResult::Accepted {
            events_received: Some(1),
            fbtrace_id: None,
        };
        assert_eq!(classify(&ok), Verdict::Delivered);
    }
}
