//! Access tokens encrypted at rest with AES-256-GCM under `SECRETS_KEY`, or stored as given
//! when it is `none` (the user's explicit choice: `serve` refuses to start without either).
//!
//! Stored form: `enc:v2:{key id}:{base64(nonce || ciphertext)}`, the key id being the first 8
//! hex digits of SHA-256 of the key, so a token encrypted under an older key is recognised.
//! The associated data is the campaign's key, so a ciphertext copied to another campaign's row
//! does not open: the key, not the id, because it is known before the INSERT that assigns the
//! id, it is unique, and the API never changes it. `enc:v1:` values (no associated data, written
//! by earlier versions) still open, and `serve` re-seals them at start-up.
//! At start-up `serve` (`startup::tokens`) refuses a database holding tokens sealed under a key it was not given,
//! re-seals every token that is not in the current form (rotation, or decryption when the key
//! became `none`; see docs/operations.md), using `SECRETS_KEY_PREVIOUS` to read the old ones,
//! and re-queues events parked only because their token could not be opened.

use crate::domain::PlatformKind;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use secrecy::{ExposeSecret, SecretBox};
use sha2::{Digest, Sha256};

const PREFIX: &str = "enc:v2:";
/// Earlier versions' form, without associated data.
const LEGACY_PREFIX: &str = "enc:v1:";

/// The associated data binding a ciphertext to its campaign.
fn aad(campaign: &str) -> Vec<u8> {
    format!("capi-bridge campaign {campaign}").into_bytes()
}

/// A 256-bit key as given in the environment: 64 hex digits or base64 of 32 bytes.
pub struct SecretKey {
    /// Zeroed when dropped; read only to build a cipher.
    bytes: SecretBox<[u8; 32]>,
    id: String,
}

impl Clone for SecretKey {
    fn clone(&self) -> Self {
        SecretKey {
            bytes: SecretBox::new(Box::new(*self.bytes.expose_secret())),
            id: self.id.clone(),
        }
    }
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
        self.bytes
            .expose_secret()
            .iter()
            .for_each(|&b| seen[usize::from(b)] = true);
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
    Ok(SecretKey {
        bytes: SecretBox::new(Box::new(bytes)),
        id,
    })
}

/// `SECRETS_KEY` as set: a key, or `none`, the explicit choice to store tokens as given.
#[derive(Debug, Clone)]
pub enum KeySetting {
    Key(SecretKey),
    Unencrypted,
}

/// The `SECRETS_KEY` value that chooses no encryption.
const NO_KEY: &str = "none";

impl KeySetting {
    pub fn key(&self) -> Option<&SecretKey> {
        match self {
            KeySetting::Key(k) => Some(k),
            KeySetting::Unencrypted => None,
        }
    }
}

pub fn parse_key_setting(s: &str) -> Result<KeySetting, String> {
    if s.trim().eq_ignore_ascii_case(NO_KEY) {
        Ok(KeySetting::Unencrypted)
    } else {
        parse_key(s)
            .map(KeySetting::Key)
            .map_err(|e| format!("{e}, or {NO_KEY} to store access tokens unencrypted"))
    }
}

/// `serve` needs `SECRETS_KEY` chosen: a random key, or `none`. Unset is refused, so a
/// deployment never stores tokens in clear by omission.
pub fn check_setting(setting: Option<&KeySetting>) -> Result<(), String> {
    match setting {
        None => Err(format!(
            "SECRETS_KEY is required: it encrypts the ad platforms' access tokens at rest; \
             generate one with: openssl rand -hex 32 (or set SECRETS_KEY={NO_KEY} to store \
             them unencrypted)"
        )),
        Some(KeySetting::Key(k)) if !k.looks_random() => Err(
            "SECRETS_KEY is not random (too many repeated bytes); generate one with: \
             openssl rand -hex 32"
                .to_owned(),
        ),
        Some(_) => Ok(()),
    }
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
    #[error("campaign {0}'s access token is encrypted with key {1}, which is neither SECRETS_KEY nor in SECRETS_KEY_PREVIOUS")]
    UnknownKey(String, String),
    #[error("campaign {0}'s access token could not be decrypted: it is damaged or was copied from another campaign's row; set it again with PATCH /admin/v1/campaigns/{0}")]
    Corrupt(String),
}

/// Why `serve` does not start with the stored tokens it found.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "SECRETS_KEY is {NO_KEY}, but the database holds {count} access token(s) encrypted \
         with key {ids}: set SECRETS_KEY to that key (to store tokens unencrypted from now on, \
         keep SECRETS_KEY={NO_KEY} and put that key in SECRETS_KEY_PREVIOUS for one start)"
    )]
    KeyNeeded { count: usize, ids: String },
    #[error(
        "the database holds {count} access token(s) encrypted with key {ids}, which is neither \
         SECRETS_KEY nor in SECRETS_KEY_PREVIOUS: if SECRETS_KEY changed, put the former key in \
         SECRETS_KEY_PREVIOUS"
    )]
    UnknownKey { count: usize, ids: String },
    #[error("access tokens could not be re-encrypted: {0}")]
    Cipher(#[from] CipherError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// What start-up did to the stored tokens and the events parked on them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    /// Tokens re-sealed under the current setting.
    pub resealed: usize,
    /// Parked events back in the queue: their token opens now.
    pub requeued: u64,
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

    /// The form to store for `campaign_key`'s token for `platform`: see [`Self::seal`].
    pub fn seal_token(&self, campaign_key: &str, platform: PlatformKind, token: &str) -> String {
        self.seal(&seal_context(campaign_key, platform), token)
    }

    /// `campaign_key`'s token for `platform` from its stored form: the one way to open a token,
    /// so each is opened under the context it was sealed with.
    pub fn open_token(
        &self,
        campaign_key: &str,
        platform: PlatformKind,
        stored: &str,
    ) -> Result<String, CipherError> {
        self.open(&seal_context(campaign_key, platform), stored)
    }

    /// The form to store under `campaign` (a [`seal_context`]; a campaign's own key is Meta's):
    /// encrypted under the current key, or as given without one. Public for tests that write
    /// stored tokens; the service seals through [`Self::seal_token`].
    pub fn seal(&self, campaign: &str, token: &str) -> String {
        let Some(key) = &self.current else {
            return token.to_owned();
        };
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.bytes.expose_secret()));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: token.as_bytes(),
            aad: &aad(campaign),
        };
        let ct = cipher
            .encrypt(&nonce, payload)
            .expect("AES-GCM encryption of a short token cannot fail");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        format!("{PREFIX}{}:{}", key.id, STANDARD.encode(blob))
    }

    /// `campaign`'s token from its stored form (`campaign` being a [`seal_context`]).
    fn open(&self, campaign: &str, stored: &str) -> Result<String, CipherError> {
        let (rest, aad) = if let Some(rest) = stored.strip_prefix(PREFIX) {
            (rest, aad(campaign))
        } else if let Some(rest) = stored.strip_prefix(LEGACY_PREFIX) {
            (rest, Vec::new())
        } else {
            return Ok(stored.to_owned());
        };
        let corrupt = || CipherError::Corrupt(campaign.to_owned());
        let (id, b64) = rest.split_once(':').ok_or_else(corrupt)?;
        let key = self
            .current
            .iter()
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| CipherError::UnknownKey(campaign.to_owned(), id.to_owned()))?;
        let blob = STANDARD.decode(b64).map_err(|_| corrupt())?;
        if blob.len() < 12 {
            return Err(corrupt());
        }
        let (nonce, ct) = blob.split_at(12);
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.bytes.expose_secret()));
        let payload = Payload { msg: ct, aad: &aad };
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| corrupt())?;
        String::from_utf8(plain).map_err(|_| corrupt())
    }

    /// Whether a stored value is not in the form `seal` would write now.
    pub fn is_stale(&self, stored: &str) -> bool {
        match (&self.current, stored.strip_prefix(PREFIX)) {
            (Some(key), Some(rest)) => !rest.starts_with(&format!("{}:", key.id)),
            // Plain, or enc:v1 without the campaign bound.
            (Some(_), None) => true,
            // Sealed under a former key, now `none`: stored as given from now on.
            (None, _) => key_id(stored).is_some(),
        }
    }

    fn knows(&self, id: &str) -> bool {
        self.current
            .iter()
            .chain(&self.previous)
            .any(|k| k.id == id)
    }

    /// Refuses tokens sealed under a key this process was not given: their campaigns' events
    /// would all fail until a restart with the key.
    pub fn refuse_unknown_keys<'a>(
        &self,
        stored: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), StartError> {
        let unknown: Vec<&str> = stored
            .into_iter()
            .filter_map(key_id)
            .filter(|id| !self.knows(id))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let count = unknown.len();
        let mut ids: Vec<&str> = unknown;
        ids.sort_unstable();
        ids.dedup();
        let ids = ids.join(", ");
        Err(match self.current {
            None => StartError::KeyNeeded { count, ids },
            Some(_) => StartError::UnknownKey { count, ids },
        })
    }
}

/// The id of the key a stored value is sealed under; `None` for a token stored as given.
fn key_id(stored: &str) -> Option<&str> {
    let rest = stored
        .strip_prefix(PREFIX)
        .or_else(|| stored.strip_prefix(LEGACY_PREFIX))?;
    Some(rest.split_once(':').map_or(rest, |(id, _)| id))
}

/// What a token is sealed to: the campaign key for Meta's token (as always), the key and the
/// platform for the others, so one token cannot be copied into the other's column.
fn seal_context(campaign_key: &str, platform: PlatformKind) -> std::borrow::Cow<'_, str> {
    match platform {
        PlatformKind::Meta => campaign_key.into(),
        other => format!("{campaign_key}/{}", other.as_str()).into(),
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
        let sealed = c.seal("a", "EAAB-token");
        assert!(sealed.starts_with("enc:v2:"));
        assert!(!sealed.contains("EAAB"));
        assert_ne!(c.seal("a", "EAAB-token"), sealed, "a fresh nonce each time");
        assert_eq!(c.open("a", &sealed).unwrap(), "EAAB-token");
        assert_eq!(c.open("a", "plain-token").unwrap(), "plain-token");
    }

    #[test]
    fn a_ciphertext_opens_only_for_its_campaign() {
        let c = TokenCipher::new(Some(key(1)), Keys::default());
        let sealed = c.seal("offer-a", "EAAB-token");
        let err = c.open("offer-b", &sealed).unwrap_err().to_string();
        assert!(
            err.contains("offer-b") && err.contains("another campaign"),
            "{err}"
        );
        assert!(!err.contains("EAAB"), "{err}");
    }

    /// Earlier versions sealed without associated data, as `enc:v1:`.
    #[test]
    fn legacy_ciphertexts_open_and_are_stale() {
        let k = key(1);
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(k.bytes.expose_secret()));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&cipher.encrypt(&nonce, b"old-token".as_ref()).unwrap());
        let legacy = format!("enc:v1:{}:{}", k.id, STANDARD.encode(blob));
        let c = TokenCipher::new(Some(k), Keys::default());
        assert_eq!(c.open("any", &legacy).unwrap(), "old-token");
        assert!(c.is_stale(&legacy));
        assert!(!c.is_stale(&c.seal("any", "old-token")));
    }

    #[test]
    fn rotation_reads_old_keys_and_refuses_unknown_ones() {
        let old = TokenCipher::new(Some(key(1)), Keys::default());
        let sealed = old.seal("c", "tok");
        let new = TokenCipher::new(Some(key(2)), Keys(vec![key(1)]));
        assert_eq!(new.open("c", &sealed).unwrap(), "tok");
        assert!(new.is_stale(&sealed));
        assert!(!new.is_stale(&new.seal("c", "tok")));
        let stranger = TokenCipher::new(Some(key(3)), Keys::default());
        assert!(matches!(
            stranger.open("c", &sealed),
            Err(CipherError::UnknownKey(..))
        ));
        let mut damaged = sealed.clone();
        damaged.pop();
        damaged.push('A');
        assert!(old.open("c", &damaged).is_err());
    }

    /// `none` is a choice, unset is not; `none` reads the former keys to store tokens as given.
    #[test]
    fn secrets_key_is_a_key_or_none() {
        assert!(matches!(
            parse_key_setting(" None "),
            Ok(KeySetting::Unencrypted)
        ));
        assert!(parse_key_setting(&"ab".repeat(32)).unwrap().key().is_some());
        let err = parse_key_setting("nope").unwrap_err();
        assert!(
            err.contains("openssl rand -hex 32")
                && err.ends_with("or none to store access tokens unencrypted"),
            "{err}"
        );
        let err = check_setting(None).unwrap_err();
        assert!(err.starts_with("SECRETS_KEY is required"), "{err}");
        check_setting(Some(&KeySetting::Unencrypted)).unwrap();
        check_setting(Some(&KeySetting::Key(key(1)))).unwrap_err();

        let sealed = TokenCipher::new(Some(key(1)), Keys::default()).seal("c", "tok");
        assert_eq!(key_id(&sealed), Some(key(1).id.as_str()));
        assert_eq!(key_id("plain-token"), None);
        let plain = TokenCipher::new(None, Keys(vec![key(1)]));
        assert!(plain.is_stale(&sealed) && !plain.is_stale("plain-token"));
        assert_eq!(plain.seal("c", &plain.open("c", &sealed).unwrap()), "tok");
    }

    #[test]
    fn keys_parse_from_hex_or_base64() {
        assert!(parse_key(&"ab".repeat(32)).is_ok());
        assert!(parse_key(&STANDARD.encode([7u8; 32])).is_ok());
        assert!(parse_key("short").is_err());
        assert!(parse_key(&"ab".repeat(16)).is_err());
    }
}
