//! Customer information: normalised and hashed the moment it arrives, following Meta's rules
//! (`shared/reference/meta-capi.md`). Raw values never leave this module: the only way to obtain a
//! [`Sha256Hash`] from user input is [`CustomerField::hash`].

use serde::Serialize;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

use super::ParseError;

/// A SHA-256 digest as 64 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Sha256Hash(String);

impl Sha256Hash {
    pub(super) fn of(normalised: &str) -> Self {
        Sha256Hash(hex::encode(Sha256::digest(normalised.as_bytes())))
    }

    /// A value that already is a SHA-256 hex digest (any case).
    fn parse_hex(s: &str) -> Option<Self> {
        (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Sha256Hash(s.to_ascii_lowercase()))
    }

    /// A value read back from our own database, where a CHECK constraint keeps only digests.
    pub fn from_stored(s: String) -> Self {
        Sha256Hash(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerField {
    Em,
    Ph,
    Fn,
    Ln,
    Ge,
    Db,
    Ct,
    St,
    Zp,
    Country,
    ExternalId,
}

impl CustomerField {
    pub const ALL: [CustomerField; 11] = [
        CustomerField::Em,
        CustomerField::Ph,
        CustomerField::Fn,
        CustomerField::Ln,
        CustomerField::Ge,
        CustomerField::Db,
        CustomerField::Ct,
        CustomerField::St,
        CustomerField::Zp,
        CustomerField::Country,
        CustomerField::ExternalId,
    ];

    /// The parameter and Meta `user_data` key.
    pub fn name(self) -> &'static str {
        match self {
            CustomerField::Em => "em",
            CustomerField::Ph => "ph",
            CustomerField::Fn => "fn",
            CustomerField::Ln => "ln",
            CustomerField::Ge => "ge",
            CustomerField::Db => "db",
            CustomerField::Ct => "ct",
            CustomerField::St => "st",
            CustomerField::Zp => "zp",
            CustomerField::Country => "country",
            CustomerField::ExternalId => "external_id",
        }
    }

    /// Normalises then hashes a raw value; a value that already is a SHA-256 digest is kept
    /// (lowercased). Blank input is "not given": `Ok(None)`.
    pub fn hash(self, raw: &str) -> Result<Option<Sha256Hash>, ParseError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        if let Some(h) = Sha256Hash::parse_hex(trimmed) {
            return Ok(Some(h));
        }
        if trimmed.len() > 512 {
            return Err(ParseError::new("is longer than 512 characters"));
        }
        let normalised = self.normalise(trimmed)?;
        Ok(Some(Sha256Hash::of(&normalised)))
    }

    /// Meta's normalisation for each key. Public for the tests that pin it to Meta's vectors.
    pub fn normalise(self, raw: &str) -> Result<String, ParseError> {
        let raw = raw.trim();
        // ASCII is its own NFC form, and its lowercase is the ASCII lowercase: most values are
        // ASCII, and composing them showed up in click profiles.
        let s = if raw.is_ascii() {
            raw.to_ascii_lowercase()
        } else {
            raw.nfc().collect::<String>().to_lowercase()
        };
        let out = match self {
            CustomerField::Em => {
                let (local, domain) = s
                    .split_once('@')
                    .ok_or_else(|| ParseError::new("is not an email address"))?;
                let domain_ok = domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@');
                if local.is_empty() || !domain_ok || s.chars().any(char::is_whitespace) {
                    return Err(ParseError::new("is not an email address"));
                }
                s
            }
            CustomerField::Ph => {
                let digits: String = s.chars().filter(char::is_ascii_digit).collect();
                let digits = digits.trim_start_matches('0');
                if digits.len() < 6 || digits.len() > 15 {
                    return Err(ParseError::new(
                        "is not a phone number with country code (6-15 digits)",
                    ));
                }
                digits.to_owned()
            }
            CustomerField::Fn | CustomerField::Ln => {
                let name: String = s
                    .chars()
                    .filter(|c| c.is_alphanumeric() || c.is_whitespace())
                    .collect();
                non_empty(name.trim().to_owned())?
            }
            CustomerField::Ge => match s.as_str() {
                "f" | "female" | "w" | "woman" => "f".to_owned(),
                "m" | "male" | "man" => "m".to_owned(),
                _ => return Err(ParseError::new("must be f or m")),
            },
            CustomerField::Db => normalise_birth_date(&s)?,
            CustomerField::Ct => non_empty(s.chars().filter(|c| c.is_alphabetic()).collect())?,
            CustomerField::St => non_empty(s.chars().filter(|c| c.is_alphabetic()).collect())?,
            CustomerField::Zp => {
                let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
                let head = compact.split('-').next().unwrap_or_default();
                // US ZIP+4 written without the dash keeps its five-digit ZIP.
                let zip = if head.len() == 9 && head.bytes().all(|b| b.is_ascii_digit()) {
                    &head[..5]
                } else {
                    head
                };
                non_empty(zip.to_owned())?
            }
            CustomerField::Country => {
                let letters: String = s.chars().filter(|c| c.is_ascii_alphabetic()).collect();
                if letters.len() != 2 {
                    return Err(ParseError::new(
                        "must be an ISO 3166-1 alpha-2 country code such as us",
                    ));
                }
                letters
            }
            CustomerField::ExternalId => s,
        };
        // Filtering characters out can leave a combining mark next to a new base letter.
        Ok(out.nfc().collect())
    }
}

fn non_empty(s: String) -> Result<String, ParseError> {
    if s.is_empty() {
        Err(ParseError::new("has nothing left after normalisation"))
    } else {
        Ok(s)
    }
}

/// `YYYYMMDD` from `YYYYMMDD`, `YYYY-MM-DD`, `YYYY/MM/DD` or `YYYY.MM.DD`.
fn normalise_birth_date(s: &str) -> Result<String, ParseError> {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let separators_ok = s
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '/' | '.'));
    let valid = separators_ok
        && digits.len() == 8
        && chrono::NaiveDate::parse_from_str(&digits, "%Y%m%d").is_ok();
    if valid {
        Ok(digits)
    } else {
        Err(ParseError::new("must be a date as YYYYMMDD or YYYY-MM-DD"))
    }
}

/// Hashed customer data, one digest per field, plus TikTok's phone and external_id digests (its
/// normalisation differs from Meta's, and the raw values are gone once hashed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerData {
    values: [Option<Sha256Hash>; 11],
    tiktok_ph: Option<Sha256Hash>,
    tiktok_external_id: Option<Sha256Hash>,
}

impl CustomerData {
    pub fn get(&self, field: CustomerField) -> Option<&Sha256Hash> {
        self.values[field as usize].as_ref()
    }

    pub fn set(&mut self, field: CustomerField, value: Option<Sha256Hash>) {
        self.values[field as usize] = value;
    }

    /// Hashes one raw input into its field; a raw phone or external_id also gets TikTok's digest.
    pub fn set_raw(&mut self, field: CustomerField, raw: &str) -> Result<(), ParseError> {
        self.set(field, field.hash(raw)?);
        let Some(slot) = self.tiktok_slot(field) else {
            return Ok(());
        };
        // A digest that arrives pre-hashed was made with Meta's rule, and TikTok's differs: it
        // cannot be re-normalised, so TikTok gets Meta's digest (external_id) or none (phone).
        let raw = raw.trim();
        *slot = if raw.is_empty() || Sha256Hash::parse_hex(raw).is_some() {
            None
        } else if field == CustomerField::Ph {
            Some(Sha256Hash::of(&super::tiktok_phone(raw)?))
        } else {
            // Kept even when equal to Meta's (a lowercase id): absent then only means unknown.
            Some(Sha256Hash::of(raw))
        };
        Ok(())
    }

    /// Where TikTok's own digest of `field` is kept, for the fields TikTok hashes differently.
    fn tiktok_slot(&mut self, field: CustomerField) -> Option<&mut Option<Sha256Hash>> {
        match field {
            CustomerField::Ph => Some(&mut self.tiktok_ph),
            CustomerField::ExternalId => Some(&mut self.tiktok_external_id),
            _ => None,
        }
    }

    /// TikTok's own digest of `field` (the phone or the external_id) made where it was typed
    /// (the landing tag hashes in the browser): kept only beside a Meta digest that arrived
    /// pre-hashed, which has none of its own. `Ok(false)` when not kept: no such value, a raw
    /// value whose own digest differs, or a field TikTok hashes as Meta does.
    pub fn set_tiktok_digest(
        &mut self,
        field: CustomerField,
        hex: &str,
    ) -> Result<bool, ParseError> {
        let digest = Sha256Hash::parse_hex(hex.trim())
            .ok_or_else(|| ParseError::new("must be a SHA-256 digest (64 hex characters)"))?;
        if self.get(field).is_none() {
            return Ok(false);
        }
        let Some(slot) = self.tiktok_slot(field) else {
            return Ok(false);
        };
        if let Some(own) = slot.as_ref() {
            return Ok(*own == digest);
        }
        *slot = Some(digest);
        Ok(true)
    }

    /// TikTok's phone digest (E.164 with the '+'), present when a raw phone arrived.
    pub fn tiktok_ph(&self) -> Option<&Sha256Hash> {
        self.tiktok_ph.as_ref()
    }

    /// Restores TikTok's phone digest read back from the database.
    pub fn with_tiktok_ph(mut self, stored: Option<String>) -> Self {
        self.tiktok_ph = stored.map(Sha256Hash::from_stored);
        self
    }

    /// TikTok's external_id digest (the trimmed id as given, case kept), present when a raw id
    /// arrived; without it TikTok gets Meta's, as for an id that arrived pre-hashed.
    pub fn tiktok_external_id(&self) -> Option<&Sha256Hash> {
        self.tiktok_external_id.as_ref()
    }

    /// Restores TikTok's external_id digest read back from the database.
    pub fn with_tiktok_external_id(mut self, stored: Option<String>) -> Self {
        self.tiktok_external_id = stored.map(Sha256Hash::from_stored);
        self
    }

    /// Fills the fields `self` lacks from `other`.
    pub fn or(mut self, other: &CustomerData) -> CustomerData {
        // TikTok's digests go with the value they were made from, never with another one.
        if self.get(CustomerField::Ph).is_none() {
            self.tiktok_ph = other.tiktok_ph.clone();
        }
        if self.get(CustomerField::ExternalId).is_none() {
            self.tiktok_external_id = other.tiktok_external_id.clone();
        }
        for f in CustomerField::ALL {
            if self.get(f).is_none() {
                self.set(f, other.get(f).cloned());
            }
        }
        self
    }

    pub fn iter(&self) -> impl Iterator<Item = (CustomerField, &Sha256Hash)> {
        CustomerField::ALL
            .into_iter()
            .filter_map(|f| self.get(f).map(|h| (f, h)))
    }

    /// The values in column order, for the storage layer.
    pub fn to_columns(&self) -> [Option<String>; 11] {
        self.values
            .clone()
            .map(|v| v.map(|h| h.as_str().to_owned()))
    }

    pub fn from_columns(cols: [Option<String>; 11]) -> Self {
        CustomerData {
            values: cols.map(|c| c.map(Sha256Hash::from_stored)),
            tiktok_ph: None,
            tiktok_external_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CustomerField::*;

    fn h(f: CustomerField, raw: &str) -> String {
        f.hash(raw).unwrap().unwrap().as_str().to_owned()
    }

    #[test]
    fn metas_published_vectors() {
        assert_eq!(
            h(Em, "John_Smith@gmail.com"),
            "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
        );
        assert_eq!(
            h(Ph, "+1 (650) 555-1212"),
            "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
        );
        assert_eq!(
            h(Fn, "Mary"),
            "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"
        );
        assert_eq!(
            h(Fn, "Valéry"),
            "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c"
        );
        // The decomposed form (e + combining acute) is the same person: NFC first.
        assert_eq!(h(Fn, "Vale\u{301}ry"), h(Fn, "Valéry"));
    }

    #[test]
    fn normalisation_rules() {
        let n = |f: CustomerField, s: &str| f.normalise(s).unwrap();
        assert_eq!(n(Em, "  John_Smith@Gmail.COM "), "john_smith@gmail.com");
        assert_eq!(n(Ph, "+1 (650) 555-1212"), "16505551212");
        assert_eq!(n(Ph, "00 44 20 7946 0958"), "442079460958");
        assert_eq!(n(Fn, " Valéry "), "valéry");
        assert_eq!(n(Ln, "O'Brien-Smith."), "obriensmith");
        assert_eq!(n(Ge, "Female"), "f");
        assert_eq!(n(Ge, "M"), "m");
        assert_eq!(n(Db, "1990-02-28"), "19900228");
        assert_eq!(n(Db, "19900228"), "19900228");
        assert_eq!(n(Ct, "New York"), "newyork");
        assert_eq!(n(Ct, "St. Louis 2"), "stlouis");
        assert_eq!(n(St, "CA"), "ca");
        assert_eq!(n(Zp, "94025-1234"), "94025");
        assert_eq!(n(Zp, "940251234"), "94025");
        assert_eq!(n(Zp, "SW1A 1AA"), "sw1a1aa");
        assert_eq!(n(Country, "US"), "us");
        assert_eq!(n(ExternalId, " User-42 "), "user-42");
    }

    #[test]
    fn invalid_values_are_refused() {
        for (f, bad) in [
            (Em, "not-an-email"),
            (Em, "a@b"),
            (Em, "@example.com"),
            (Ph, "12"),
            (Ge, "x"),
            (Db, "1990-13-01"),
            (Db, "28/02/1990x"),
            (Country, "USA"),
            (Ct, "123"),
        ] {
            assert!(f.hash(bad).is_err(), "{} accepted {bad:?}", f.name());
        }
    }

    #[test]
    fn blank_is_absent_and_hashes_pass_through() {
        assert_eq!(Em.hash("   ").unwrap(), None);
        let digest = "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F";
        assert_eq!(h(Em, digest), digest.to_lowercase());
    }

    #[test]
    fn merging_keeps_existing_values() {
        let mut a = CustomerData::default();
        a.set_raw(Em, "a@example.com").unwrap();
        let mut b = CustomerData::default();
        b.set_raw(Em, "b@example.com").unwrap();
        b.set_raw(Ph, "+16505551212").unwrap();
        let merged = a.clone().or(&b);
        assert_eq!(merged.get(Em), a.get(Em));
        assert_eq!(merged.get(Ph), b.get(Ph));
        assert_eq!(merged.iter().count(), 2);
    }

    fn sha(s: &str) -> String {
        hex::encode(Sha256::digest(s.as_bytes()))
    }

    fn ext(raw: &str) -> CustomerData {
        let mut c = CustomerData::default();
        c.set_raw(ExternalId, raw).unwrap();
        c
    }

    #[test]
    fn tiktok_hashes_the_external_id_as_given_and_meta_lowercased() {
        let digest = |c: &CustomerData| c.tiktok_external_id().map(|h| h.as_str().to_owned());
        for (raw, tiktok, meta) in [
            ("CRM-8431", "CRM-8431", "crm-8431"),
            (" crm-8431 ", "crm-8431", "crm-8431"),
            ("Kundennr-Ä7", "Kundennr-Ä7", "kundennr-ä7"),
        ] {
            let c = ext(raw);
            assert_eq!(digest(&c), Some(sha(tiktok)), "{raw:?}");
            assert_eq!(c.get(ExternalId).unwrap().as_str(), sha(meta), "{raw:?}");
        }
        // A digest given is passed through to both: TikTok falls back to Meta's.
        let given = sha("CRM-8431").to_ascii_uppercase();
        let pre = ext(&given);
        assert_eq!(pre.get(ExternalId).unwrap().as_str(), sha("CRM-8431"));
        assert_eq!(digest(&pre), None);
        assert_eq!(digest(&ext("  ")), None);
    }

    #[test]
    fn tiktoks_external_id_digest_from_the_browser_and_when_merging() {
        let tiktok = sha("CRM-8431");
        // Beside an id hashed in the browser: kept; with no id: not kept.
        let mut pre = ext(&sha("crm-8431"));
        assert_eq!(pre.set_tiktok_digest(ExternalId, &tiktok), Ok(true));
        assert_eq!(pre.tiktok_external_id().unwrap().as_str(), tiktok);
        let mut none = CustomerData::default();
        assert_eq!(none.set_tiktok_digest(ExternalId, &tiktok), Ok(false));
        assert!(none.set_tiktok_digest(ExternalId, "CRM-8431").is_err());
        // A raw id's own digest stands.
        let mut raw = ext("CRM-8431");
        assert_eq!(raw.set_tiktok_digest(ExternalId, &tiktok), Ok(true));
        assert_eq!(raw.set_tiktok_digest(ExternalId, &sha("x")), Ok(false));
        assert_eq!(raw.tiktok_external_id().unwrap().as_str(), tiktok);

        // Restored from the database, and paired with its own id when merging.
        let stored = CustomerData::from_columns(raw.to_columns())
            .with_tiktok_external_id(Some(tiktok.clone()));
        assert_eq!(stored, raw);
        let other = ext("OTHER-1");
        assert_eq!(raw.clone().or(&other), raw);
        assert_eq!(CustomerData::default().or(&other), other);
        assert_eq!(ext(&sha("crm-8431")).or(&other).tiktok_external_id(), None);
    }
}
