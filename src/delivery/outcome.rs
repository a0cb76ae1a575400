//! What a platform's answer to one request does to the events it carried: pure, so every branch is
//! a row in a table test.

use chrono::{DateTime, Utc};

use super::retry::RetryPolicy;
use crate::domain::{EventState, FailureClass};
use crate::platforms::{Answer, Verdict};
use crate::storage::events::Transition;

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
    use crate::domain::AttemptRecord;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
    }

    fn policy() -> RetryPolicy {
        RetryPolicy::new(vec![Duration::from_secs(10), Duration::from_secs(60)])
    }

    /// An answer with this verdict whose platform said "refused" (none when delivered).
    fn answer(verdict: Verdict) -> Answer {
        let outcome = verdict.outcome();
        let message = (verdict != Verdict::Delivered).then(|| "refused".to_owned());
        Answer {
            verdict,
            attempt: AttemptRecord {
                message,
                ..AttemptRecord::bare(outcome)
            },
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
    fn each_verdict_settles_the_events_it_carried() {
        use EventState::*;
        let retry = |secs: Option<u64>| Verdict::Retry {
            retry_after: secs.map(Duration::from_secs),
        };
        let expected = |t, next: Vec<Option<DateTime<Utc>>>, tally| {
            Step::Settle(Settlement {
                transition: t,
                next_attempts: next,
                tally,
            })
        };
        // (what, the platform's verdict, attempts before, expected step)
        let cases: Vec<(&str, Verdict, Vec<i32>, Step)> = vec![
            (
                "delivered: sent",
                Verdict::Delivered,
                vec![0, 3],
                expected(
                    settled(Sent, None, false),
                    vec![None, None],
                    Tally::Delivered,
                ),
            ),
            (
                "transient: each event backs off on its own schedule",
                retry(None),
                vec![0, 1, 5],
                expected(
                    settled(Pending, None, true),
                    vec![at(10), at(60), at(60)],
                    Tally::Retrying,
                ),
            ),
            (
                "throttled: Retry-After is a floor",
                retry(Some(30)),
                vec![0, 1],
                expected(
                    settled(Pending, None, true),
                    vec![at(30), at(60)],
                    Tally::Retrying,
                ),
            ),
            (
                "token error: parked as auth, even for a batch",
                Verdict::Auth,
                vec![0, 0],
                expected(
                    settled(Failed, Some(FailureClass::Auth), true),
                    vec![None, None],
                    Tally::Failed,
                ),
            ),
            (
                "invalid event alone: failed as invalid",
                Verdict::Invalid,
                vec![2],
                expected(
                    settled(Failed, Some(FailureClass::Invalid), true),
                    vec![None],
                    Tally::Failed,
                ),
            ),
            (
                "invalid in a batch: split to isolate it",
                Verdict::Invalid,
                vec![0, 0],
                Step::Split,
            ),
            (
                "too old alone: expired",
                Verdict::Expired,
                vec![0],
                expected(settled(Expired, None, true), vec![None], Tally::Expired),
            ),
            (
                "too old in a batch: split",
                Verdict::Expired,
                vec![0, 0, 0],
                Step::Split,
            ),
        ];
        for (what, verdict, attempts, want) in cases {
            let got = settle(&answer(verdict), &attempts, &policy(), now(), || 0.0);
            assert_eq!(got, want, "{what}");
        }
    }

    #[test]
    fn jitter_is_drawn_per_event() {
        let mut draws = [0.0, 0.5].into_iter();
        let step = settle(
            &answer(Verdict::Retry { retry_after: None }),
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
