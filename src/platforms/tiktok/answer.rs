//! TikTok's answer read once: its verdict (by the body's `code`, since TikTok answers HTTP 200
//! for most errors) and the attempt row kept for each event it carried. Pure, so every code is
//! a row in a table test.
//!
//! The codes, and how sure we are of them (Business API v1.3; checked 2026-12 with the search
//! tool against public pages, TikTok's own return-code page was not in reach):
//! - 0 OK: verified (TikTok's docs and every connector).
//! - 40001 no permission: verified (SleekFlow's TikTok Business API table; adskull: "app not
//!   authorized").
//! - 40002 parameter error: verified by SleekFlow's table and the reference; one source
//!   (adskull) reads it as "insufficient permission". We follow the majority: Invalid.
//! - 40100 rate limit (QPS/QPM/QPD): verified (SleekFlow; TikTok API code enum in public code).
//! - 40101 illegal access partner (app id/secret): verified (public code enum).
//! - 40105 access token missing, incorrect or revoked: verified (SleekFlow; a Stack Exchange
//!   thread on the v1.3 `Access-Token` header).
//! - 40102 access token expired, 40104 access token empty: assumed (same 401xx token family).
//! - 50000 system error, 50002 service unavailable, other 5xxxx: assumed retryable (one
//!   secondary page); unknown codes retry anyway, so a wrong guess only costs a retry.

use std::time::Duration;

use serde::Deserialize;

use super::client::Reply;
use crate::domain::AttemptRecord;
use crate::platforms::{http, Answer, Verdict};

/// Token or permission problems: the campaign's token or pixel must change.
const AUTH_CODES: [i64; 5] = [40001, 40101, 40102, 40104, 40105];
/// The request's content: with one event per request after splitting, that event is bad.
const INVALID_CODES: [i64; 1] = [40002];
/// Rate limits and TikTok's server errors; codes no list names retry as well.
const RETRY_CODES: [i64; 3] = [40100, 50000, 50002];

/// TikTok's answer body (`{"code":0,"message":"OK","request_id":"...","data":{}}`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
struct Body {
    code: i64,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    request_id: Option<String>,
}

fn classify(status: u16, body: Option<&Body>, retry_after: Option<Duration>) -> Verdict {
    let retry = Verdict::Retry { retry_after };
    let Some(body) = body else {
        // An error page from a proxy or a load balancer: not TikTok's word on the events.
        return retry;
    };
    match body.code {
        // A success body under a 5xx or 429 is not believed: retrying is safe (TikTok
        // deduplicates by event and event_id), losing the event is not.
        0 if (200..300).contains(&status) => Verdict::Delivered,
        c if AUTH_CODES.contains(&c) => Verdict::Auth,
        c if INVALID_CODES.contains(&c) => Verdict::Invalid,
        c if RETRY_CODES.contains(&c) => retry,
        // A code this table does not know: retrying is safe (the event expires in time);
        // dropping it or parking the campaign is not.
        _ => retry,
    }
}

/// The verdict and the attempt row as stored (TikTok's texts within bounds).
pub fn read(reply: &Reply) -> Answer {
    let Answer { verdict, attempt } = read_whole(reply);
    Answer {
        verdict,
        attempt: http::bounded(attempt),
    }
}

fn read_whole(reply: &Reply) -> Answer {
    match reply {
        Reply::Transport {
            http_status,
            message,
            retry_after,
        } => {
            let verdict = Verdict::Retry {
                retry_after: *retry_after,
            };
            let attempt = AttemptRecord {
                http_status: http_status.map(i32::from),
                message: Some(message.clone()),
                ..AttemptRecord::bare(verdict.outcome())
            };
            Answer { verdict, attempt }
        }
        Reply::Http {
            status,
            body,
            retry_after,
        } => {
            let parsed = serde_json::from_slice::<Body>(body).ok();
            let verdict = classify(*status, parsed.as_ref(), *retry_after);
            let outcome = verdict.outcome();
            let attempt = match parsed {
                Some(b) => AttemptRecord {
                    http_status: Some(i32::from(*status)),
                    error_code: (b.code != 0).then(|| i32::try_from(b.code).unwrap_or(i32::MAX)),
                    message: b.message.filter(|m| b.code != 0 && !m.is_empty()),
                    fbtrace_id: b.request_id.filter(|r| !r.is_empty()),
                    ..AttemptRecord::bare(outcome)
                },
                None => AttemptRecord {
                    http_status: Some(i32::from(*status)),
                    message: Some(format!("HTTP {status} without a TikTok answer body")),
                    ..AttemptRecord::bare(outcome)
                },
            };
            Answer { verdict, attempt }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::AttemptOutcome;

    fn http(status: u16, code: i64) -> Reply {
        Reply::Http {
            status,
            body: json!({"code": code, "message": "said", "request_id": "req-1", "data": {}})
                .to_string()
                .into_bytes(),
            retry_after: None,
        }
    }

    #[test]
    fn classification_follows_tiktoks_codes() {
        let retry = Verdict::Retry { retry_after: None };
        let table = [
            (200, 0, Verdict::Delivered),
            (200, 40001, Verdict::Auth),
            (200, 40101, Verdict::Auth),
            (200, 40102, Verdict::Auth),
            (200, 40104, Verdict::Auth),
            (200, 40105, Verdict::Auth),
            (401, 40105, Verdict::Auth),
            (200, 40002, Verdict::Invalid),
            (400, 40002, Verdict::Invalid),
            (200, 40100, retry.clone()),
            (429, 40100, retry.clone()),
            (200, 50000, retry.clone()),
            (200, 50002, retry.clone()),
            (500, 50000, retry.clone()),
            (200, 51001, retry.clone()),
            (200, 40999, retry.clone()),
            (200, -1, retry.clone()),
            // A success code under an error status is not believed.
            (500, 0, retry.clone()),
            (429, 0, retry.clone()),
        ];
        for (status, code, want) in table {
            assert_eq!(read(&http(status, code)).verdict, want, "{status} {code}");
        }
        for code in RETRY_CODES {
            assert_eq!(read(&http(200, code)).verdict, retry, "{code}");
        }
    }

    #[test]
    fn bodies_tiktok_did_not_write_and_transport_failures_retry_with_retry_after() {
        let after = Some(Duration::from_secs(30));
        let cases = [
            Reply::Http {
                status: 502,
                body: b"<html>Bad gateway</html>".to_vec(),
                retry_after: after,
            },
            Reply::Http {
                status: 429,
                body: Vec::new(),
                retry_after: after,
            },
            Reply::Http {
                status: 200,
                body: b"not json".to_vec(),
                retry_after: after,
            },
            Reply::Http {
                status: 200,
                body: br#"{"code":40100,"message":"Too many requests"}"#.to_vec(),
                retry_after: after,
            },
            Reply::Transport {
                http_status: None,
                message: "timeout: x".into(),
                retry_after: after,
            },
        ];
        for reply in cases {
            assert_eq!(
                read(&reply).verdict,
                Verdict::Retry { retry_after: after },
                "{reply:?}"
            );
        }
    }

    #[test]
    fn the_attempt_row_keeps_what_tiktok_said() {
        let cases = [
            (
                http(200, 0),
                AttemptRecord {
                    http_status: Some(200),
                    fbtrace_id: Some("req-1".into()),
                    ..AttemptRecord::bare(AttemptOutcome::Sent)
                },
            ),
            (
                http(200, 40105),
                AttemptRecord {
                    outcome: AttemptOutcome::AuthError,
                    http_status: Some(200),
                    error_code: Some(40105),
                    error_subcode: None,
                    message: Some("said".into()),
                    fbtrace_id: Some("req-1".into()),
                },
            ),
            (
                http(200, 40002),
                AttemptRecord {
                    outcome: AttemptOutcome::Invalid,
                    http_status: Some(200),
                    error_code: Some(40002),
                    error_subcode: None,
                    message: Some("said".into()),
                    fbtrace_id: Some("req-1".into()),
                },
            ),
            (
                http(500, 50000),
                AttemptRecord {
                    outcome: AttemptOutcome::TransientError,
                    http_status: Some(500),
                    error_code: Some(50000),
                    error_subcode: None,
                    message: Some("said".into()),
                    fbtrace_id: Some("req-1".into()),
                },
            ),
            (
                Reply::Http {
                    status: 503,
                    body: b"busy".to_vec(),
                    retry_after: None,
                },
                AttemptRecord {
                    http_status: Some(503),
                    message: Some("HTTP 503 without a TikTok answer body".into()),
                    ..AttemptRecord::bare(AttemptOutcome::TransientError)
                },
            ),
            (
                Reply::Transport {
                    http_status: None,
                    message: "timed out".into(),
                    retry_after: None,
                },
                AttemptRecord {
                    message: Some("timed out".into()),
                    ..AttemptRecord::bare(AttemptOutcome::TransientError)
                },
            ),
        ];
        for (reply, want) in cases {
            assert_eq!(read(&reply).attempt, want, "{reply:?}");
        }
    }
}
