//! Access tokens encrypted at rest with AES-256-GCM when `SECRETS_KEY` is set.
//!
//! Stored form: `enc:v1:{key id}:{base64(nonce || ciphertext)}`, the key id being the first 8
//! hex digits of SHA-256 of the key, so a token encrypted under an older key is recognised.
//! Without `SECRETS_KEY` tokens are stored as given. At start-up `serve` re-encrypts every token
//! that is not under the current key (rotation; see the README), using `SECRETS_KEY_PREVIOUS`
//! to read the old ones.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

const PREFIX: &str = "enc:v1:";

/// A 256-bit key as given in the environment: 64 hex digits or base64 of 32 bytes.
#[derive(Clone)]
pub struct SecretKey {
    bytes: [u8; 32],
    id: String,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.id)
    }
}

impl SecretKey {
    /// 32 random bytes repeat few values (about 30 distinct); `11` x 32 or a short pattern
    /// repeated is a hand-made key.
    pub fn looks_random(&self) -> bool {
        let mut seen = [false; 256];
        self.bytes.iter().for_each(|&b| seen[usize::from(b)] = true);
        seen.iter().filter(|&&s| s).count() >= 16
    }
}

pub fn parse_key(s: &str) -> Result<SecretKey, String> {
    let s = s.trim();
    let bytes = if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(s).map_err(|e| e.to_string())?
    } else {
        STANDARD.decode(s).map_err(|_| {
            "must be 32 bytes as 64 hex digits or base64 (openssl rand -hex 32)".to_owned()
        })?
    };
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| "must be exactly 32 bytes (openssl rand -hex 32)".to_owned())?;
    let id = hex::encode(Sha256::digest(bytes))[..8].to_owned();
    Ok(SecretKey { bytes, id })
}

/// Several keys: `SECRETS_KEY_PREVIOUS` during a rotation.
pub fn parse_keys(s: &str) -> Result<Keys, String> {
    s.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(parse_key)
        .collect::<Result<_, _>>()
        .map(Keys)
}

#[derive(Debug, Clone, Default)]
pub struct Keys(pub Vec<SecretKey>);

#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    #[error("an access token is encrypted with key {0}, which is neither SECRETS_KEY nor in SECRETS_KEY_PREVIOUS")]
    UnknownKey(String),
    #[error("an access token could not be decrypted (wrong key or damaged value)")]
    Corrupt,
}

#[derive(Debug, Clone, Default)]
pub struct TokenCipher {
    current: Option<SecretKey>,
    previous: Vec<SecretKey>,
}

impl TokenCipher {
    pub fn new(current: Option<SecretKey>, previous: Keys) -> Self {
        TokenCipher {
            current,
            previous: previous.0,
        }
    }

    /// The form to store: encrypted under the current key, or as given without one.
    pub fn seal(&self, token: &str) -> String {
        let Some(key) = &self.current else {
            return token.to_owned();
        };
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key.bytes));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ct = cipher
            .encrypt(&nonce, token.as_bytes())
            .expect("AES-GCM encryption of a short token cannot fail");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        format!("{PREFIX}{}:{}", key.id, STANDARD.encode(blob))
    }

    /// The token from its stored form.
    pub fn open(&self, stored: &str) -> Result<String, CipherError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_owned());
        };
        let (id, b64) = rest.split_once(':').ok_or(CipherError::Corrupt)?;
        let key = self
            .current
            .iter()
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| CipherError::UnknownKey(id.to_owned()))?;
        let blob = STANDARD.decode(b64).map_err(|_| CipherError::Corrupt)?;
        if blob.len() < 12 {
            return Err(CipherError::Corrupt);
        }
        let (nonce, ct) = blob.split_at(12);
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key.bytes));
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| CipherError::Corrupt)?;
        String::from_utf8(plain).map_err(|_| CipherError::Corrupt)
    }

    /// Whether a stored value is not in the form `seal` would write now.
    fn is_stale(&self, stored: &str) -> bool {
        match (&self.current, stored.strip_prefix(PREFIX)) {
            (Some(key), Some(rest)) => !rest.starts_with(&format!("{}:", key.id)),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => false,
        }
    }

    /// Re-encrypts every access token not under the current key. Returns how many changed.
    pub async fn reseal_all(&self, pool: &PgPool) -> anyhow::Result<usize> {
        let mut tx = pool.begin().await?;
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, access_token FROM campaigns FOR UPDATE")
                .fetch_all(&mut *tx)
                .await?;
        let mut changed = 0;
        for (id, stored) in rows {
            if !self.is_stale(&stored) {
                continue;
            }
            let token = self.open(&stored)?;
            sqlx::query("UPDATE campaigns SET access_token = $2 WHERE id = $1")
                .bind(id)
                .bind(self.seal(&token))
                .execute(&mut *tx)
                .await?;
            changed += 1;
        }
        tx.commit().await?;
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretKey {
        parse_key(&hex::encode([byte; 32])).unwrap()
    }

    #[test]
    fn seals_and_opens() {
        let c = TokenCipher::new(Some(key(1)), Keys::default());
        let sealed = c.seal("EAAB-token");
        assert!(sealed.starts_with("enc:v1:"));
        assert!(!sealed.contains("EAAB"));
        assert_ne!(c.seal("EAAB-token"), sealed, "a fresh nonce each time");
        assert_eq!(c.open(&sealed).unwrap(), "EAAB-token");
        assert_eq!(c.open("plain-token").unwrap(), "plain-token");
    }

    #[test]
    fn rotation_reads_old_keys_and_refuses_unknown_ones() {
        let old = TokenCipher::new(Some(key(1)), Keys::default());
        let sealed = old.seal("tok");
        let new = TokenCipher::new(Some(key(2)), Keys(vec![key(1)]));
        assert_eq!(new.open(&sealed).unwrap(), "tok");
        assert!(new.is_stale(&sealed));
        assert!(!new.is_stale(&new.seal("tok")));
        let stranger = TokenCipher::new(Some(key(3)), Keys::default());
        assert!(matches!(
            stranger.open(&sealed),
            Err(CipherError::UnknownKey(_))
        ));
        let mut damaged = sealed.clone();
        damaged.pop();
        damaged.push('A');
        assert!(old.open(&damaged).is_err());
    }

    #[test]
    fn keys_parse_from_hex_or_base64() {
        assert!(parse_key(&"ab".repeat(32)).is_ok());
        assert!(parse_key(&STANDARD.encode([7u8; 32])).is_ok());
        assert!(parse_key("short").is_err());
        assert!(parse_key(&"ab".repeat(16)).is_err());
    }
}
