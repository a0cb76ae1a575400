use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Compares a presented secret with the configured one in constant time. Both sides are hashed
/// first so that neither the content nor the length of the secret leaks through timing.
pub fn secret_matches(presented: &[u8], expected: &[u8]) -> bool {
    let a = Sha256::digest(presented);
    let b = Sha256::digest(expected);
    a.ct_eq(&b).into()
}

/// Which postback key a request carried: during a switch both POSTBACK_KEY and
/// POSTBACK_KEY_PREVIOUS are valid, and the metric tells when the old one stops being used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUsed {
    Current,
    Previous,
}

impl KeyUsed {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyUsed::Current => "current",
            KeyUsed::Previous => "previous",
        }
    }
}

/// The key `presented` matches, if any. Both are compared, so the timing does not say which.
pub fn postback_key_used(
    presented: &[u8],
    current: &str,
    previous: Option<&str>,
) -> Option<KeyUsed> {
    let is_current = secret_matches(presented, current.as_bytes());
    let is_previous = previous.is_some_and(|p| secret_matches(presented, p.as_bytes()));
    match (is_current, is_previous) {
        (true, _) => Some(KeyUsed::Current),
        (false, true) => Some(KeyUsed::Previous),
        (false, false) => None,
    }
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(req: &actix_web::HttpRequest) -> Option<&[u8]> {
    let value = req.headers().get(actix_web::http::header::AUTHORIZATION)?;
    let bytes = value.as_bytes();
    let (scheme, token) = bytes.split_at(bytes.iter().position(|&b| b == b' ')?);
    scheme
        .eq_ignore_ascii_case(b"bearer")
        .then(|| token.trim_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn compares_secrets() {
        assert!(secret_matches(b"0123456789abcdef", b"0123456789abcdef"));
        assert!(!secret_matches(b"0123456789abcdeX", b"0123456789abcdef"));
        assert!(!secret_matches(b"", b"0123456789abcdef"));
    }

    #[test]
    fn either_postback_key_is_valid_during_a_switch() {
        let (new, old) = ("new-key-0123456789abcdef", "old-key-0123456789abcdef");
        let cases: [(&str, Option<&str>, Option<KeyUsed>); 6] = [
            (new, None, Some(KeyUsed::Current)),
            (old, None, None),
            (new, Some(old), Some(KeyUsed::Current)),
            (old, Some(old), Some(KeyUsed::Previous)),
            ("", Some(old), None),
            ("wrong-key-0123456789abc", Some(old), None),
        ];
        for (presented, previous, want) in cases {
            assert_eq!(
                postback_key_used(presented.as_bytes(), new, previous),
                want,
                "{presented} with previous {previous:?}"
            );
        }
    }

    #[test]
    fn reads_bearer_tokens() {
        let req = TestRequest::default()
            .insert_header(("authorization", "Bearer  tok123"))
            .to_http_request();
        assert_eq!(bearer_token(&req), Some(&b"tok123"[..]));
        let req = TestRequest::default()
            .insert_header(("authorization", "Basic abc"))
            .to_http_request();
        assert_eq!(bearer_token(&req), None);
    }
}
