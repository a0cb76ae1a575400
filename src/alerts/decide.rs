//! What to send for one alert key, given what the database remembers of it, whether its
//! condition holds now, and the time: pure, so the rules are table-tested here and the loop only
//! stores and sends what this returns.

use chrono::{DateTime, Duration, Utc};

pub use crate::domain::AlertRecord as Stored;
use crate::domain::{AlertKind, AlertState};

/// A key fires at most once per this (a condition that flaps sends one start an hour).
pub const REFIRE_AFTER: Duration = Duration::hours(1);

/// The key's row to store (`None`: unchanged) and the message to send, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub next: Option<Stored>,
    pub send: Option<AlertKind>,
}

const NOTHING: Decision = Decision {
    next: None,
    send: None,
};

/// `since`: when the condition began, if it holds now.
pub fn decide(
    stored: Option<&Stored>,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Decision {
    match (stored, since) {
        (None, None) => NOTHING,
        (Some(s), None) if s.state == AlertState::Cleared => NOTHING,
        // Ended: "resolved" only answers a start that was sent.
        (Some(s), None) => Decision {
            next: Some(Stored {
                state: AlertState::Cleared,
                cleared_at: Some(now),
                ..s.clone()
            }),
            send: s.start_sent_at.map(|_| AlertKind::Resolved),
        },
        (None, Some(since)) => start(None, since, now),
        (Some(s), Some(since)) if s.state == AlertState::Cleared => {
            start(s.last_fired_at, since, now)
        }
        (Some(s), Some(_)) if s.start_sent_at.is_some() => NOTHING,
        // Still holding, its start held back: sent once the hour has passed.
        (Some(s), Some(_)) if may_fire(s.last_fired_at, now) => Decision {
            next: Some(Stored {
                start_sent_at: Some(now),
                last_fired_at: Some(now),
                ..s.clone()
            }),
            send: Some(AlertKind::Firing),
        },
        (Some(_), Some(_)) => NOTHING,
    }
}

/// A new episode.
fn start(
    last_fired_at: Option<DateTime<Utc>>,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Decision {
    let fire = may_fire(last_fired_at, now);
    Decision {
        next: Some(Stored {
            state: AlertState::Firing,
            started_at: since.min(now),
            start_sent_at: fire.then_some(now),
            last_fired_at: if fire { Some(now) } else { last_fired_at },
            cleared_at: None,
        }),
        send: fire.then_some(AlertKind::Firing),
    }
}

fn may_fire(last_fired_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_fired_at.is_none_or(|last| now - last >= REFIRE_AFTER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use AlertKind::{Firing as Fire, Resolved};

    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minutes)
    }

    /// A key's life, pass by pass: whether the condition holds at each minute, and what is
    /// sent then.
    #[test]
    fn a_key_fires_on_start_clears_after_a_sent_start_and_fires_once_an_hour() {
        type Pass = (i64, bool, Option<AlertKind>);
        let lives: &[(&str, &[Pass])] = &[
            (
                "starts, holds, ends",
                &[
                    (0, true, Some(Fire)),
                    (1, true, None),
                    (90, true, None),
                    (91, false, Some(Resolved)),
                    (92, false, None),
                ],
            ),
            ("never holds", &[(0, false, None), (5, false, None)]),
            (
                "flaps within the hour: one start, one resolved",
                &[
                    (0, true, Some(Fire)),
                    (5, false, Some(Resolved)),
                    (10, true, None),
                    // Its start was never sent, so neither is its end.
                    (15, false, None),
                    (20, true, None),
                    // Still holding when the hour is up: the held-back start goes out.
                    (60, true, Some(Fire)),
                    (61, false, Some(Resolved)),
                ],
            ),
            (
                "comes back after the hour",
                &[
                    (0, true, Some(Fire)),
                    (10, false, Some(Resolved)),
                    (70, true, Some(Fire)),
                    (71, true, None),
                ],
            ),
        ];
        for (name, passes) in lives {
            let mut stored: Option<Stored> = None;
            for &(minute, holds, expected) in *passes {
                let since = holds.then(|| t(minute) - Duration::minutes(3));
                let d = decide(stored.as_ref(), since, t(minute));
                assert_eq!(d.send, expected, "{name}: minute {minute}");
                if let Some(next) = d.next {
                    stored = Some(next);
                }
                let s = stored.as_ref();
                assert_eq!(
                    s.map(|s| s.state == AlertState::Firing).unwrap_or(false),
                    holds,
                    "{name}: minute {minute}: {s:?}"
                );
            }
        }
    }

    #[test]
    fn an_episode_remembers_when_it_began_and_was_sent() {
        let d = decide(None, Some(t(-20)), t(0));
        let s = d.next.unwrap();
        assert_eq!(s.started_at, t(-20));
        assert_eq!((s.start_sent_at, s.last_fired_at), (Some(t(0)), Some(t(0))));
        // A clock ahead of the database's never dates a start in the future.
        assert_eq!(
            decide(None, Some(t(5)), t(0)).next.unwrap().started_at,
            t(0)
        );
        let cleared = decide(Some(&s), None, t(30)).next.unwrap();
        assert_eq!(cleared.state, AlertState::Cleared);
        assert_eq!(cleared.cleared_at, Some(t(30)));
        assert_eq!(cleared.start_sent_at, Some(t(0)));
        // The next episode is held back, and keeps the last start's time for the limit.
        let held = decide(Some(&cleared), Some(t(40)), t(40)).next.unwrap();
        assert_eq!(held.start_sent_at, None);
        assert_eq!(held.last_fired_at, Some(t(0)));
        assert_eq!(held.started_at, t(40));
    }
}
