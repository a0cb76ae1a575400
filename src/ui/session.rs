//! Dashboard sessions: a random id in an `HttpOnly`, `SameSite=Strict` cookie, its SHA-256 in
//! `ui_sessions` (so signing out ends it for good), and a per-session CSRF token. A session opens
//! only while the ADMIN_TOKEN that signed it in is the current one: rotating the token ends them.

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use chrono::Utc;
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::{UiError, UiSettings};
use crate::http::auth::secret_matches;
use crate::state::AppState;
use crate::storage::ui_sessions;

pub const COOKIE: &str = "capi_session";

/// A signed-in browser.
#[derive(Clone)]
pub struct Session {
    id_hash: String,
    pub csrf_token: String,
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// The admin token's fingerprint, keyed by the session's id, which only the cookie holds: the
/// database never has the token, nor anything to test a guessed token against.
fn token_fingerprint(id: &str, admin_token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(id.as_bytes()).expect("HMAC takes any key");
    mac.update(admin_token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The `Set-Cookie` header for a session id (`None`: clear it).
pub fn set_cookie(id: Option<&str>, settings: &UiSettings) -> String {
    let (value, max_age) = match id {
        Some(id) => (id, settings.session_ttl.as_secs()),
        None => ("", 0),
    };
    let secure = if settings.secure_cookie {
        "; Secure"
    } else {
        ""
    };
    format!("{COOKIE}={value}; Path=/ui; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

impl Session {
    /// Starts a session signed in with `admin_token`; returns it and the cookie id (never
    /// stored).
    pub async fn start(
        pool: &PgPool,
        settings: &UiSettings,
        admin_token: &str,
    ) -> Result<(Self, String), UiError> {
        let id = random_hex();
        let session = Session {
            id_hash: hash(&id),
            csrf_token: random_hex(),
        };
        let ttl = chrono::Duration::from_std(settings.session_ttl)
            .unwrap_or_else(|_| chrono::Duration::hours(12));
        ui_sessions::create(
            pool,
            &session.id_hash,
            &session.csrf_token,
            &token_fingerprint(&id, admin_token),
            Utc::now() + ttl,
        )
        .await?;
        Ok((session, id))
    }

    /// The request's live session, or `UiError::SignIn` (a redirect to the sign-in page). A
    /// session signed in with another ADMIN_TOKEN than today's is ended here.
    pub async fn require(req: &HttpRequest, pool: &PgPool) -> Result<Self, UiError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or(UiError::SignIn)?;
        let id = req
            .headers()
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|h| cookie_value(h, COOKIE))
            .filter(|id| id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or(UiError::SignIn)?;
        let id_hash = hash(id);
        let row = ui_sessions::find(pool, &id_hash)
            .await?
            .ok_or(UiError::SignIn)?;
        let current = token_fingerprint(id, state.admin_token.expose_secret());
        if !secret_matches(current.as_bytes(), row.token_fingerprint.as_bytes()) {
            ui_sessions::delete(pool, &id_hash).await?;
            return Err(UiError::SignIn);
        }
        Ok(Session {
            id_hash,
            csrf_token: row.csrf_token,
        })
    }

    /// A mutation is allowed only with this session's token and from our own origin.
    pub fn check_form(&self, req: &HttpRequest, presented: &str) -> Result<(), UiError> {
        same_origin(req)?;
        if secret_matches(presented.as_bytes(), self.csrf_token.as_bytes()) {
            Ok(())
        } else {
            Err(UiError::Csrf)
        }
    }

    pub async fn end(self, pool: &PgPool) -> Result<(), UiError> {
        ui_sessions::delete(pool, &self.id_hash).await?;
        Ok(())
    }

    /// Ends every session, this one included; returns how many there were.
    pub async fn end_all(self, pool: &PgPool) -> Result<u64, UiError> {
        Ok(ui_sessions::delete_all(pool).await?)
    }
}

/// Browsers send `Origin` on every form POST; when present its host must be the one the request
/// was addressed to. (Clients without it still need the CSRF token.)
pub fn same_origin(req: &HttpRequest) -> Result<(), UiError> {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().map_err(|_| UiError::Csrf)?;
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or(UiError::Csrf)?;
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .ok_or(UiError::Csrf)?;
    if origin_host.eq_ignore_ascii_case(host) {
        Ok(())
    } else {
        Err(UiError::Csrf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use std::time::Duration;

    #[test]
    fn reads_cookies() {
        let cases = [
            ("capi_session=abc", Some("abc")),
            ("a=1; capi_session=abc; b=2", Some("abc")),
            ("xcapi_session=abc", None),
            ("", None),
        ];
        for (header, want) in cases {
            assert_eq!(cookie_value(header, COOKIE), want, "{header}");
        }
    }

    #[test]
    fn cookie_is_secure_only_over_https() {
        let plain = UiSettings::new(Some("http://a.test"), Duration::from_secs(60));
        let https = UiSettings::new(Some("https://a.test"), Duration::from_secs(60));
        assert_eq!(
            set_cookie(Some("x"), &plain),
            "capi_session=x; Path=/ui; Max-Age=60; HttpOnly; SameSite=Strict"
        );
        assert!(set_cookie(Some("x"), &https).ends_with("; Secure"));
        assert!(set_cookie(None, &plain).contains("Max-Age=0"));
    }

    #[test]
    fn the_token_fingerprint_depends_on_the_token_and_the_session() {
        let (id, other_id) = ("ab".repeat(32), "cd".repeat(32));
        let token = "admin-token-0123456789abcdef";
        let fp = token_fingerprint(&id, token);
        assert_eq!(fp.len(), 64);
        assert!(!fp.contains(token));
        assert_eq!(fp, token_fingerprint(&id, token), "stable");
        assert_ne!(fp, token_fingerprint(&id, "admin-token-0123456789abcdeX"));
        assert_ne!(
            fp,
            token_fingerprint(&other_id, token),
            "keyed by the session"
        );
    }

    #[test]
    fn checks_the_origin() {
        let req = |origin: Option<&str>| {
            let mut r = TestRequest::post().insert_header(("host", "bridge.test:8080"));
            if let Some(o) = origin {
                r = r.insert_header(("origin", o));
            }
            r.to_http_request()
        };
        assert!(same_origin(&req(None)).is_ok());
        assert!(same_origin(&req(Some("http://bridge.test:8080"))).is_ok());
        assert!(same_origin(&req(Some("https://evil.test"))).is_err());
        assert!(same_origin(&req(Some("null"))).is_err());
    }
}
