//! The HTTP plumbing every platform client shares: the client's settings, reading an answer
//! within bounds, `Retry-After`, and how a failed request is described (never with a token:
//! tokens travel in bodies or headers).

use std::time::Duration;

use crate::domain::AttemptRecord;

/// How a transport failure's message starts when the platform did not answer in time.
pub const TIMEOUT: &str = "timeout";

/// Largest answer read from a platform. Meta's and TikTok's answers are a few kilobytes; a
/// bigger one is not theirs (a hostile or broken proxy), and reading it whole would let it grow
/// the process by its size for every request in flight.
pub const MAX_ANSWER_BYTES: usize = 1 << 20;

/// Most characters kept of a text a platform wrote (message, trace id) in an attempt row and an
/// event's `last_error`, and shown by the test event: Meta's longest real messages are a few
/// hundred characters.
pub const MAX_KEPT_CHARS: usize = 1000;

/// A client for one platform: `timeout` per request, connections kept a minute, and no
/// redirects: a redirect would carry the access token (Meta's in the body, TikTok's in a
/// header) to wherever the answer points.
pub fn client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .pool_idle_timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("capi-bridge/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// An answer as the platforms' readers take it.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The whole body, at most [`MAX_ANSWER_BYTES`].
    Http {
        status: u16,
        body: Vec<u8>,
        retry_after: Option<Duration>,
    },
    /// No answer the platform wrote: connection failure, timeout, a body cut short or too
    /// large, or a redirect (never followed).
    Transport {
        http_status: Option<u16>,
        message: String,
        retry_after: Option<Duration>,
    },
}

/// Sends `request` and reads its answer within bounds. A redirect is a failure of its own
/// message (the platforms' readers retry it like any answer not from the platform: a moved
/// base URL is fixed by its setting, and the events wait until then or their age limit).
pub async fn exchange(request: reqwest::RequestBuilder) -> Reply {
    read(request, UrlIs::Plain).await
}

/// [`exchange`] for a URL that is itself a credential (a Telegram bot token in its path, a
/// Slack webhook's path): its failures never name the URL.
pub async fn exchange_secret_url(request: reqwest::RequestBuilder) -> Reply {
    read(request, UrlIs::Secret).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum UrlIs {
    Plain,
    Secret,
}

async fn read(request: reqwest::RequestBuilder, url: UrlIs) -> Reply {
    let describe = |e: reqwest::Error| match url {
        UrlIs::Plain => transport_message(&e),
        UrlIs::Secret => transport_message(&e.without_url()),
    };
    let mut resp = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            return Reply::Transport {
                http_status: None,
                message: describe(e),
                retry_after: None,
            }
        }
    };
    let status = resp.status().as_u16();
    let retry_after = retry_after(&resp);
    let failed = |message| Reply::Transport {
        http_status: Some(status),
        message,
        retry_after,
    };
    if resp.status().is_redirection() {
        return failed(redirect_message(status, &resp, url));
    }
    let too_large =
        || format!("answer larger than {MAX_ANSWER_BYTES} bytes (HTTP {status}); not read further");
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
    {
        return failed(too_large());
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() > MAX_ANSWER_BYTES => {
                return failed(too_large())
            }
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => return failed(describe(e)),
        }
    }
    Reply::Http {
        status,
        body,
        retry_after,
    }
}

/// Names where the redirect pointed, scheme, host and port only: its path or query might hold
/// anything.
fn redirect_message(status: u16, resp: &reqwest::Response, url: UrlIs) -> String {
    let to = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| resp.url().join(l).ok())
        .map_or_else(
            || "nowhere readable".to_owned(),
            |u| u.origin().ascii_serialization(),
        );
    let why = match url {
        UrlIs::Plain => "so the access token stays here; check the platform's base URL setting",
        UrlIs::Secret => "so the URL's secret stays here; check the URL setting",
    };
    format!("redirect refused: HTTP {status} to {to} (never followed, {why})")
}

/// The answer's `Retry-After` in seconds (a day at most).
pub fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(86_400)))
}

/// A request that got no answer: timeout, connection failure, or another transport error.
/// reqwest's Display names the URL, which holds no secret.
pub fn transport_message(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        TIMEOUT
    } else if e.is_connect() {
        "connection failed"
    } else {
        "transport error"
    };
    format!("{kind}: {e}")
}

/// `text` cut to [`MAX_KEPT_CHARS`] characters, saying so.
pub fn kept(text: &str) -> String {
    match text.char_indices().nth(MAX_KEPT_CHARS) {
        Some((cut, _)) => format!("{}... (cut at {MAX_KEPT_CHARS} characters)", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The attempt row as stored: the platform's texts within [`MAX_KEPT_CHARS`].
pub fn bounded(attempt: AttemptRecord) -> AttemptRecord {
    AttemptRecord {
        message: attempt.message.as_deref().map(kept),
        fbtrace_id: attempt.fbtrace_id.as_deref().map(kept),
        ..attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_cuts_long_texts_on_a_character_boundary() {
        assert_eq!(kept("short"), "short");
        let exact = "é".repeat(MAX_KEPT_CHARS);
        assert_eq!(kept(&exact), exact);
        let long = "é".repeat(MAX_KEPT_CHARS * 20);
        let cut = kept(&long);
        assert!(cut.starts_with(&exact), "{}", cut.len());
        assert!(cut.ends_with("(cut at 1000 characters)"), "{cut}");
        assert!(cut.chars().count() < MAX_KEPT_CHARS + 40);
    }
}
