//! Countries as ISO 3166-1 alpha-2, lowercase, as Meta hashes them. The table is the `keshvar`
//! crate's (ISO 3166-1 codes and names, with the common names of the `countries` data set it is
//! generated from: `Deutschland`, `USA`, `Россия`); an unknown value is refused, never cut to two
//! letters.

use std::collections::HashMap;
use std::sync::LazyLock;

use keshvar::CountryIterator;
use unicode_normalization::UnicodeNormalization;

use super::ParseError;

/// An ISO 3166-1 alpha-2 code, lowercase (`us`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Country([u8; 2]);

impl Country {
    /// An alpha-2 code, any case, that ISO assigns (a campaign's setting).
    pub fn parse_code(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        let lower = s.to_ascii_lowercase();
        match TABLE.get(&lower) {
            // `uk` names a country but is no code.
            Some(c) if c.as_str() == lower => Ok(*c),
            _ => Err(ParseError::new(
                "must be an ISO 3166-1 alpha-2 country code such as us or gb",
            )),
        }
    }

    /// An alpha-2 or alpha-3 code or a country's name, in any case, spacing or accents.
    pub fn find(s: &str) -> Result<Self, ParseError> {
        TABLE.get(&fold(s)).copied().ok_or_else(|| {
            ParseError::new(
                "is not a country: give its ISO 3166-1 code (us, usa) or its name (United States)",
            )
        })
    }

    pub fn as_str(&self) -> &str {
        // Built only from ASCII letters.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

/// The key a name is looked up by: letters only, lowercase, accents removed, so `Côte d'Ivoire`,
/// `Cote dIvoire` and `COTE D'IVOIRE` are one key.
fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Every key to its country: names first, where one name that two countries share is left out;
/// then the codes, which win over a name that spells the same (alpha-2 over alpha-3).
static TABLE: LazyLock<HashMap<String, Country>> = LazyLock::new(|| {
    let mut names: HashMap<String, Option<Country>> = HashMap::new();
    let mut codes = Vec::new();
    for c in CountryIterator::new() {
        let alpha2 = c.alpha2().to_string().to_ascii_lowercase();
        let Ok(code) = <[u8; 2]>::try_from(alpha2.as_bytes()) else {
            continue;
        };
        let country = Country(code);
        let long = c.iso_long_name();
        let without_the = long.strip_prefix("The ").unwrap_or(long);
        let listed = [c.iso_short_name(), long, without_the];
        for name in listed.iter().chain(c.unofficial_name_list()) {
            let key = fold(name);
            if key.is_empty() {
                continue;
            }
            names
                .entry(key)
                .and_modify(|seen| {
                    if *seen != Some(country) {
                        *seen = None;
                    }
                })
                .or_insert(Some(country));
        }
        codes.push((c.alpha3().to_string().to_ascii_lowercase(), country));
        codes.push((alpha2, country));
    }
    let mut table: HashMap<String, Country> = names
        .into_iter()
        .filter_map(|(k, v)| v.map(|c| (k, c)))
        .collect();
    // Alpha-3 codes were pushed before alpha-2 ones of the same country; an alpha-2 key always
    // has two letters and an alpha-3 three, so the order only matters against names.
    table.extend(codes);
    table
});
