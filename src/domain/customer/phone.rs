//! Phone numbers. Meta hashes the digits with the country code and no `+` (its documentation:
//! "always include the country code"); TikTok hashes E.164 with the `+`. A national number gets
//! its calling code from the campaign's `default_country`, read by the `phonenumber` crate (a port
//! of Google's libphonenumber, whose metadata it ships).

use phonenumber::metadata::DATABASE;
use phonenumber::Type;

use super::{Country, ParseError, Region};

/// A phone number as Meta hashes it, and whether it is known to be international (so that
/// `+` and the digits are its E.164 form, which TikTok hashes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    pub digits: String,
    pub e164: bool,
}

/// In this order: a number written with `+` or `00` is international; else, with a default
/// country, a number that is *possible* there (its length fits the country's plan: "possible"
/// rather than "valid", so new ranges are not refused as the metadata ages) gets its calling
/// code; else Meta's digit rule (digits, leading zeros dropped, 6 to 15 of them).
pub fn read(raw: &str, region: &Region) -> Result<Phone, ParseError> {
    let raw = raw.trim();
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let plus = raw.chars().find(|c| *c == '+' || c.is_ascii_digit()) == Some('+');
    if plus || digits.starts_with("00") {
        return Ok(Phone {
            digits: metas_digits(&digits)?,
            e164: true,
        });
    }
    if let Some(phone) = region.country.and_then(|c| national(raw, c)) {
        return Ok(phone);
    }
    let digits = metas_digits(&digits)?;
    // Without `+`, the digits are Meta's guess that a country code leads them: TikTok gets them
    // only when the library recognises a valid number that way (`6505551212` would read as
    // Singapore's +65).
    let e164 = phonenumber::parse(None, format!("+{digits}")).is_ok_and(|n| n.is_valid());
    Ok(Phone { digits, e164 })
}

impl Country {
    /// The country's calling code (`44` for `gb`), for the tag to complete national numbers.
    pub fn calling_code(self) -> Option<u16> {
        DATABASE
            .by_id(self.as_str().to_ascii_uppercase().as_str())
            .map(|m| m.country_code())
    }
}

/// `raw` read as a national number of `country`, when its length is possible there.
fn national(raw: &str, country: Country) -> Option<Phone> {
    let id = country.as_str().to_ascii_uppercase().parse().ok()?;
    let number = phonenumber::parse(Some(id), raw).ok()?;
    let code = number.code().value();
    let national = number.national().to_string();
    let length = u16::try_from(national.len()).ok()?;
    // libphonenumber's "possible" is a length check against the lengths of the number kinds a
    // person can have (its general lengths are that union, which the crate's data leaves empty).
    let possible = DATABASE.by_code(&code)?.iter().any(|meta| {
        SUBSCRIBER_KINDS.iter().any(|kind| {
            meta.descriptors()
                .get(*kind)
                .is_some_and(|d| d.possible_length().contains(&length))
        })
    });
    possible.then(|| Phone {
        digits: format!("{code}{national}"),
        e164: true,
    })
}

/// The kinds of numbers a visitor may type (not short codes or emergency numbers).
const SUBSCRIBER_KINDS: [Type; 10] = [
    Type::FixedLine,
    Type::Mobile,
    Type::TollFree,
    Type::PremiumRate,
    Type::SharedCost,
    Type::PersonalNumber,
    Type::Voip,
    Type::Pager,
    Type::Uan,
    Type::Voicemail,
];

fn metas_digits(digits: &str) -> Result<String, ParseError> {
    let digits = digits.trim_start_matches('0');
    if digits.len() < 6 || digits.len() > 15 {
        return Err(ParseError::new(
            "is not a phone number with country code (6-15 digits)",
        ));
    }
    Ok(digits.to_owned())
}
