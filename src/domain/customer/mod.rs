//! Customer information: normalised and hashed the moment it arrives, following Meta's rules
//! (its customer-information documentation first, where silent its `capi-param-builder`;
//! `docs/reference/meta-capi.md`, `docs/normalisation.md`). Raw values never leave this module:
//! the only way to obtain a [`Sha256Hash`] from user input is [`CustomerField::hash`].

mod country;
mod date;
mod person;
mod phone;
mod state;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::ParseError;

pub use country::Country;
pub use date::DateOrder;
pub(super) use phone::read as read_phone;

/// What a campaign knows of where its visitors are, for the values that need a region to be read:
/// a national phone number and a slashed date. Never sent to a platform.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Region {
    /// The campaign's `default_country`: national phone numbers get its calling code.
    pub country: Option<Country>,
    /// How to read `01/02/1990`; `None` accepts only dates that read one way.
    pub date_order: Option<DateOrder>,
}

impl Region {
    /// The region of a campaign's settings: without an explicit `date_order`, US campaigns read
    /// slashed dates month first and other countries day first; without a country, neither.
    pub fn new(country: Option<Country>, date_order: Option<DateOrder>) -> Self {
        let date_order = date_order.or_else(|| country.map(DateOrder::of_country));
        Region {
            country,
            date_order,
        }
    }
}

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
    pub fn hash(self, raw: &str, region: &Region) -> Result<Option<Sha256Hash>, ParseError> {
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
        let normalised = self.normalise(trimmed, region)?;
        Ok(Some(Sha256Hash::of(&normalised)))
    }

    /// Meta's normalisation for each key. Public for the tests that pin it to Meta's vectors.
    /// Unicode is hashed in the form it arrives, as Meta's SDKs and param builder do: no NFC.
    pub fn normalise(self, raw: &str, region: &Region) -> Result<String, ParseError> {
        let raw = raw.trim();
        // Meta's SDK takes 32 hex characters for an MD5 digest, which Meta no longer accepts:
        // hashing it again would send a digest that matches no one. An id may look like one.
        if self != CustomerField::ExternalId
            && raw.len() == 32
            && raw.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(ParseError::new(
                "looks like an MD5 digest: send the value or its SHA-256 digest",
            ));
        }
        let s = if raw.is_ascii() {
            raw.to_ascii_lowercase()
        } else {
            raw.to_lowercase()
        };
        Ok(match self {
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
            CustomerField::Ph => phone::read(raw, region)?.digits,
            CustomerField::Fn | CustomerField::Ln => non_empty(person::name(&s))?,
            CustomerField::Ge => person::gender(&s)?.to_owned(),
            CustomerField::Db => date::birth_date(&s, region.date_order)?,
            CustomerField::Ct => non_empty(s.chars().filter(|c| c.is_alphabetic()).collect())?,
            CustomerField::St => non_empty(state::normalise(&s))?,
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
            CustomerField::Country => Country::find(&s)?.as_str().to_owned(),
            CustomerField::ExternalId => s,
        })
    }
}

fn non_empty(s: String) -> Result<String, ParseError> {
    if s.is_empty() {
        Err(ParseError::new("has nothing left after normalisation"))
    } else {
        Ok(s)
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

    /// Hashes one raw input into its field; a raw phone or external_id also gets TikTok's digest
    /// (a phone only when it can be written in E.164).
    pub fn set_raw(
        &mut self,
        field: CustomerField,
        raw: &str,
        region: &Region,
    ) -> Result<(), ParseError> {
        self.set(field, field.hash(raw, region)?);
        let Some(slot) = self.tiktok_slot(field) else {
            return Ok(());
        };
        // A digest that arrives pre-hashed was made with Meta's rule, and TikTok's differs: it
        // cannot be re-normalised, so TikTok gets Meta's digest (external_id) or none (phone).
        let raw = raw.trim();
        *slot = if raw.is_empty() || Sha256Hash::parse_hex(raw).is_some() {
            None
        } else if field == CustomerField::Ph {
            super::tiktok_phone(raw, region)?.map(|e164| Sha256Hash::of(&e164))
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
