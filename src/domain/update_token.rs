//! A click's update token: the secret that lets the browser which registered a click change it
//! later. Only its SHA-256 is stored, so a database dump cannot be used to rewrite clicks.

use rand::RngCore;
use sha2::{Digest, Sha256};

use super::ParseError;

/// Shortest token taken: 32 characters carry at least 128 random bits even in hex.
pub const UPDATE_TOKEN_MIN: usize = 32;
/// Longest token taken.
pub const UPDATE_TOKEN_MAX: usize = 128;

/// A token as given by a caller or made here: 32-128 characters of `A-Z a-z 0-9 _ -`.
#[derive(Clone, PartialEq, Eq)]
pub struct UpdateToken(String);

impl UpdateToken {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = (UPDATE_TOKEN_MIN..=UPDATE_TOKEN_MAX).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
        if ok {
            Ok(UpdateToken(s.to_owned()))
        } else {
            Err(ParseError::new(format!(
                "must be {UPDATE_TOKEN_MIN}-{UPDATE_TOKEN_MAX} characters of A-Z a-z 0-9 _ - \
                 (a new one was made)"
            )))
        }
    }

    /// 32 bytes from the operating system's CSPRNG, as unpadded base64url (43 characters).
    pub fn generate() -> Self {
        use base64::Engine;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        UpdateToken(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// What is stored and compared.
    pub fn hash(&self) -> UpdateTokenHash {
        UpdateTokenHash(Sha256::digest(self.0.as_bytes()).into())
    }

    /// For the answer to the caller that offered or received it; never logged.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Never printed: a token in a log line would be a credential in the log.
impl std::fmt::Debug for UpdateToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UpdateToken(..)")
    }
}

/// The SHA-256 of an update token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdateTokenHash([u8; 32]);

impl UpdateTokenHash {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_parse_by_length_and_alphabet() {
        let hex32 = "0123456789abcdef0123456789abcdef";
        for (given, ok) in [
            (hex32, true),
            (&"A-_z".repeat(8)[..], true),
            (&"a".repeat(128)[..], true),
            (&hex32[..31], false),
            (&"a".repeat(129)[..], false),
            ("0123456789abcdef0123456789abcde=", false),
            ("0123456789abcdef 123456789abcdef", false),
            ("", false),
        ] {
            assert_eq!(UpdateToken::parse(given).is_ok(), ok, "{given:?}");
        }
    }

    #[test]
    fn a_made_token_parses_and_differs_each_time() {
        let a = UpdateToken::generate();
        let b = UpdateToken::generate();
        assert_eq!(a.as_str().len(), 43);
        assert_eq!(UpdateToken::parse(a.as_str()), Ok(a.clone()));
        assert_ne!(a, b);
        assert_ne!(a.hash(), b.hash());
        assert_eq!(format!("{a:?}"), "UpdateToken(..)");
    }

    #[test]
    fn the_hash_is_sha256_of_the_text() {
        let t = UpdateToken::parse(&"a".repeat(32)).unwrap();
        assert_eq!(
            hex::encode(t.hash().as_bytes()),
            hex::encode(Sha256::digest("a".repeat(32).as_bytes()))
        );
    }
}
