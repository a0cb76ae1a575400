//! What Meta's answer to one request does to the events it carried: pure, so every branch is
//! a row in a table test.

use chrono::{DateTime, Utc};

use super::graph::SendResult;
use super::retry::{classify, RetryPolicy, Verdict};
use crate::domain::{AttemptOutcome, EventState, FailureClass};
use crate::storage::events::{AttemptRecord, Transition};

/// Which counter of the pass report the events of a settled request add to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tally {
    Delivered,
    Retrying,
    Failed,
    Expired,
}

/// What the worker does after one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// One invalid or too-old event makes Meta refuse the whole request: send each half on
    /// its own until the offending events are alone, so the others still go out.
    Split,
    Settle(Settlement),
}

/// The new state of every event of the request, and its retry time (one per event, in order).
#[derive(Debug, Clone, PartialEq)]
pub struct Settlement {
    pub transition: Transition,
    pub next_attempts: Vec<Option<DateTime<Utc>>>,
    pub tally: Tally,
}

/// Meta's answer read once: its verdict, and the attempt row recorded for each event.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub verdict: Verdict,
    pub attempt: AttemptRecord,
}

pub fn read(result: &SendResult) -> Answer {
    let verdict = classify(result);
    let outcome = match verdict {
        Verdict::Delivered => AttemptOutcome::Sent,
        Verdict::Retry { .. } => AttemptOutcome::TransientError,
        Verdict::Auth => AttemptOutcome::AuthError,
        Verdict::Invalid => AttemptOutcome::Invalid,
        Verdict::Expired => AttemptOutcome::Expired,
    };
    let attempt = match result {
        SendResult::Accepted { fbtrace_id, .. } => AttemptRecord {
            http_status: Some(200),
            fbtrace_id: fbtrace_id.clone(),
            ..AttemptRecord::bare(outcome)
        },
        SendResult::MetaError {
            http_status, error, ..
        } => AttemptRecord {
            outcome,
            http_status: Some(i32::from(*http_status)),
            error_code: error.code.map(|c| c as i32),
            error_subcode: error.error_subcode.map(|c| c as i32),
            message: Some(error.readable()),
            fbtrace_id: error.fbtrace_id.clone(),
        },
        SendResult::Transport {
            http_status,
            message,
            ..
        } => AttemptRecord {
            http_status: http_status.map(i32::from),
            message: Some(message.clone()),
            ..AttemptRecord::bare(outcome)
        },
    };
    Answer { verdict, attempt }
}

/// Decides the fate of a request's events. `attempts` holds each event's attempts before this
/// one; `random` gives the retry jitter, one draw per event.
pub fn settle(
    answer: &Answer,
    attempts: &[i32],
    policy: &RetryPolicy,
    now: DateTime<Utc>,
    mut random: impl FnMut() -> f64,
) -> Step {
    let verdict = &answer.verdict;
    if matches!(verdict, Verdict::Invalid | Verdict::Expired) && attempts.len() > 1 {
        return Step::Split;
    }
    let message = answer.attempt.message.clone();
    let none = vec![None; attempts.len()];
    let to = |state, failure_class, last_error| Transition {
        state,
        failure_class,
        last_error,
    };
    let (transition, next_attempts, tally) = match verdict {
        Verdict::Delivered => (to(EventState::Sent, None, None), none, Tally::Delivered),
        Verdict::Retry { retry_after } => {
            let next = attempts
                .iter()
                .map(|&n| {
                    let d = policy.delay(n as u32 + 1, *retry_after, random());
                    Some(now + chrono::Duration::from_std(d).unwrap_or_default())
                })
                .collect();
            (
                to(EventState::Pending, None, message),
                next,
                Tally::Retrying,
            )
        }
        Verdict::Auth => (
            to(EventState::Failed, Some(FailureClass::Auth), message),
            none,
            Tally::Failed,
        ),
        Verdict::Invalid => (
            to(EventState::Failed, Some(FailureClass::Invalid), message),
            none,
            Tally::Failed,
        ),
        Verdict::Expired => (to(EventState::Expired, None, message), none, Tally::Expired),
    };
    Step::Settle(Settlement {
        transition,
        next_attempts,
        tally,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone;

    use super::*;
    use crate::delivery::graph::GraphError;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
    }

    fn policy() -> RetryPolicy {
        RetryPolicy::new(vec![Duration::from_secs(10), Duration::from_secs(60)])
    }

    fn meta(status: u16, code: i64, subcode: Option<i64>) -> SendResult {
        SendResult::MetaError {
            http_status: status,
            error: GraphError {
                message: "refused".into(),
                code: Some(code),
                error_subcode: subcode,
                fbtrace_id: Some("trace".into()),
                ..GraphError::default()
            },
            retry_after: None,
        }
    }

    fn at(secs: i64) -> Option<DateTime<Utc>> {
        Some(now() + chrono::Duration::seconds(secs))
    }

    fn settled(state: EventState, class: Option<FailureClass>, msg: bool) -> Transition {
        Transition {
            state,
            failure_class: class,
            last_error: msg.then(|| "refused".to_owned()),
        }
    }

    #[test]
    fn each_answer_settles_the_events_it_carried() {
        use EventState::*;
        let accepted = SendResult::Accepted {
            events_received: Some(2),
            fbtrace_id: Some("ok".into()),
        };
        let throttled = SendResult::Transport {
            http_status: Some(429),
            message: "refused".into(),
            retry_after: Some(Duration::from_secs(30)),
        };
        let expected = |t, next: Vec<Option<DateTime<Utc>>>, tally| {
            Step::Settle(Settlement {
                transition: t,
                next_attempts: next,
                tally,
            })
        };
        // (what, Meta's answer, attempts before, expected step)
        let cases: Vec<(&str, SendResult, Vec<i32>, Step)> = vec![
            (
                "accepted: sent",
                accepted,
                vec![0, 3],
                expected(
                    settled(Sent, None, false),
                    vec![None, None],
                    Tally::Delivered,
                ),
            ),
            (
                "transient: each event backs off on its own schedule",
                meta(500, 2, None),
                vec![0, 1, 5],
                expected(
                    settled(Pending, None, true),
                    vec![at(10), at(60), at(60)],
                    Tally::Retrying,
                ),
            ),
            (
                "throttled: Retry-After is a floor",
                throttled,
                vec![0, 1],
                expected(
                    settled(Pending, None, true),
                    vec![at(30), at(60)],
                    Tally::Retrying,
                ),
            ),
            (
                "token error: parked as auth, even for a batch",
                meta(500, 190, Some(463)),
                vec![0, 0],
                expected(
                    settled(Failed, Some(FailureClass::Auth), true),
                    vec![None, None],
                    Tally::Failed,
                ),
            ),
            (
                "invalid event alone: failed as invalid",
                meta(400, 100, None),
                vec![2],
                expected(
                    settled(Failed, Some(FailureClass::Invalid), true),
                    vec![None],
                    Tally::Failed,
                ),
            ),
            (
                "invalid in a batch: split to isolate it",
                meta(400, 100, None),
                vec![0, 0],
                Step::Split,
            ),
            (
                "too old alone: expired",
                meta(400, 100, Some(2_804_003)),
                vec![0],
                expected(settled(Expired, None, true), vec![None], Tally::Expired),
            ),
            (
                "too old in a batch: split",
                meta(400, 100, Some(2_804_003)),
                vec![0, 0, 0],
                Step::Split,
            ),
        ];
        for (what, result, attempts, want) in cases {
            let got = settle(&read(&result), &attempts, &policy(), now(), || 0.0);
            assert_eq!(got, want, "{what}");
        }
    }

    #[test]
    fn the_attempt_row_keeps_what_meta_said() {
        let cases = [
            (
                SendResult::Accepted {
                    events_received: Some(1),
                    fbtrace_id: Some("ok".into()),
                },
                AttemptRecord {
                    http_status: Some(200),
                    fbtrace_id: Some("ok".into()),
                    ..AttemptRecord::bare(AttemptOutcome::Sent)
                },
            ),
            (
                meta(400, 190, Some(463)),
                AttemptRecord {
                    outcome: AttemptOutcome::AuthError,
                    http_status: Some(400),
                    error_code: Some(190),
                    error_subcode: Some(463),
                    message: Some("refused".into()),
                    fbtrace_id: Some("trace".into()),
                },
            ),
            (
                SendResult::Transport {
                    http_status: None,
                    message: "timed out".into(),
                    retry_after: None,
                },
                AttemptRecord {
                    message: Some("timed out".into()),
                    ..AttemptRecord::bare(AttemptOutcome::TransientError)
                },
            ),
            (
                meta(400, 100, None),
                AttemptRecord {
                    outcome: AttemptOutcome::Invalid,
                    http_status: Some(400),
                    error_code: Some(100),
                    error_subcode: None,
                    message: Some("refused".into()),
                    fbtrace_id: Some("trace".into()),
                },
            ),
            (
                meta(400, 100, Some(2_804_003)),
                AttemptRecord {
                    outcome: AttemptOutcome::Expired,
                    http_status: Some(400),
                    error_code: Some(100),
                    error_subcode: Some(2_804_003),
                    message: Some("refused".into()),
                    fbtrace_id: Some("trace".into()),
                },
            ),
        ];
        for (result, want) in cases {
            assert_eq!(read(&result).attempt, want, "{result:?}");
        }
    }

    #[test]
    fn jitter_is_drawn_per_event() {
        let mut draws = [0.0, 0.5].into_iter();
        let step = settle(
            &read(&meta(500, 2, None)),
            &[0, 0],
            &policy(),
            now(),
            || draws.next().unwrap(),
        );
        let Step::Settle(s) = step else {
            panic!("{step:?}")
        };
        assert_eq!(s.next_attempts, vec![at(10), at(11)]);
    }
}
