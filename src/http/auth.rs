use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Compares a presented secret with the configured one in constant time. Both sides are hashed
/// first so that neither the content nor the length of the secret leaks through timing.
pub fn secret_matches(presented: &[u8], expected: &[u8]) -> bool {
    let a = Sha256::digest(presented);
    let b = Sha256::digest(expected);
    a.ct_eq(&b).into()
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
