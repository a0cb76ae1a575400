//! Meta's answer read once: its verdict (by Meta's error codes, not the HTTP status) and the
//! attempt row kept for each event it carried. Pure, so every code is a row in a table test.

use super::graph::SendResult;
use crate::domain::AttemptRecord;
use crate::platforms::{http, Answer, Verdict};

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

pub fn read(result: &SendResult) -> Answer {
    let verdict = classify(result);
    let outcome = verdict.outcome();
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
    Answer {
        verdict,
        attempt: http::bounded(attempt),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::domain::AttemptOutcome;
    use crate::platforms::meta::graph::GraphError;

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
                meta_error(400, 190, Some(463)),
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
                meta_error(400, 100, None),
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
                meta_error(400, 100, Some(2_804_003)),
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

    fn meta_error(status: u16, code: i64, subcode: Option<i64>) -> SendResult {
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
}
