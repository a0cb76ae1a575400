//! Property tests (proptest) of customer-data normalisation and hashing: no panic,\nidempotent, digests kept as given. No server and no database.

use crate::helpers::properties::*;
use capi_bridge::domain::{CustomerField, Region};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Flips the ASCII case of the characters `mask` selects.
fn recase(s: &str, mask: &[bool]) -> String {
    s.chars()
        .zip(mask.iter().cycle())
        .map(|(c, &flip)| match (flip, c.is_ascii_lowercase()) {
            (false, _) => c,
            (true, true) => c.to_ascii_uppercase(),
            (true, false) => c.to_ascii_lowercase(),
        })
        .collect()
}

fn customer_field() -> impl Strategy<Value = CustomerField> {
    select(CustomerField::ALL.to_vec())
}

/// Values shaped like each field's input, plus anything at all.
fn customer_raw() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => text(64),
        1 => "[a-zA-Z0-9._%+-]{1,20}@[a-zA-Z0-9-]{1,12}(\\.[a-zA-Z]{2,6}){1,2}",
        1 => "\\+?[0-9 ()-]{4,24}",
        1 => "[12][0-9]{3}[-/.]?[01][0-9][-/.]?[0-3][0-9]",
        1 => "[0-9a-fA-F]{63,65}",
        1 => select(INTERESTING_VALUES).prop_map(String::from),
        1 => "[ -~]{500,530}",
    ]
}

fn email() -> impl Strategy<Value = String> {
    "[a-z0-9._%+-]{1,20}@[a-z0-9-]{1,12}(\\.[a-z]{2,6}){1,2}"
}

proptest! {
    #![proptest_config(config())]

    /// Any input, any field: no panic; a digest is 64 lower-case hex; blank is "not given";
    /// hashing a digest returns it (lower-cased), so hashing is idempotent on its own output.
    #[test]
    fn hash_never_panics_and_is_idempotent(f in customer_field(), raw in customer_raw()) {
        match f.hash(&raw, &Region::default()) {
            Ok(None) => prop_assert!(raw.trim().is_empty()),
            Ok(Some(h)) => {
                let h = h.as_str().to_owned();
                prop_assert!(is_lower_hex_digest(&h), "{}", h);
                prop_assert_eq!(digest(f, &h), Some(h.clone()));
                prop_assert_eq!(digest(f, &h.to_uppercase()), Some(h.clone()));
                prop_assert_eq!(digest(f, &format!(" \t{h}\n")), Some(h.clone()));
                for other in CustomerField::ALL {
                    prop_assert_eq!(digest(other, &h), Some(h.clone()));
                }
            }
            Err(e) => {
                prop_assert!(!raw.trim().is_empty());
                prop_assert!(!e.0.is_empty());
            }
        }
    }

    /// A value that already is a digest (any case, any surrounding whitespace) is kept, lower-cased.
    #[test]
    fn digests_pass_through_lowercased(
        f in customer_field(),
        digest in "[0-9a-fA-F]{64}",
        pad in (whitespace(), whitespace()),
    ) {
        let raw = format!("{}{digest}{}", pad.0, pad.1);
        let h = f.hash(&raw, &Region::default()).unwrap().unwrap();
        prop_assert_eq!(h.as_str(), digest.to_ascii_lowercase());
    }

    /// Email: ASCII case and surrounding whitespace never change the digest, which is the
    /// SHA-256 of the trimmed, lower-cased address.
    #[test]
    fn email_hash_ignores_case_and_whitespace(
        e in email(),
        mask in vec(any::<bool>(), 1..16),
        pad in (whitespace(), whitespace()),
    ) {
        let canonical = CustomerField::Em.hash(&e, &Region::default()).unwrap().unwrap();
        prop_assert_eq!(canonical.as_str(), sha256_hex(&e));
        let variant = format!("{}{}{}", pad.0, recase(&e, &mask), pad.1);
        let h = CustomerField::Em.hash(&variant, &Region::default()).unwrap().unwrap();
        prop_assert_eq!(h, canonical);
    }

    /// Unicode emails: whatever the case of the input, the digest is that of the lower-cased
    /// NFC form, so upper- and lower-case spellings of one address agree.
    #[test]
    fn email_hash_is_case_insensitive_beyond_ascii(
        local in "[a-zà-öø-ÿ0-9]{1,12}",
        domain in "[a-z]{1,10}\\.[a-z]{2,4}",
    ) {
        let lower = format!("{local}@{domain}");
        // Only letters whose upper case lower-cases back (`ß` upper-cases to `SS`).
        prop_assume!(lower.to_uppercase().to_lowercase() == lower);
        let a = CustomerField::Em.hash(&lower, &Region::default()).unwrap().unwrap();
        let b = CustomerField::Em.hash(&lower.to_uppercase(), &Region::default()).unwrap().unwrap();
        prop_assert_eq!(a, b);
    }

    /// Phone: punctuation, spaces, a `+` and leading zeros never change the digest.
    #[test]
    fn phone_hash_ignores_formatting(
        digits in "[1-9][0-9]{5,14}",
        plus in any::<bool>(),
        zeros in 0usize..3,
        seps in vec(select(&["", " ", "-", "(", ")", ".", " / "][..]), 16),
    ) {
        let mut formatted = String::new();
        if plus {
            formatted.push('+');
        }
        formatted.push_str(&"0".repeat(zeros));
        for (i, c) in digits.chars().enumerate() {
            formatted.push_str(seps[i % seps.len()]);
            formatted.push(c);
        }
        let a = CustomerField::Ph.hash(&digits, &Region::default()).unwrap().unwrap();
        prop_assert_eq!(a.as_str(), sha256_hex(&digits));
        let b = CustomerField::Ph.hash(&formatted, &Region::default()).unwrap().unwrap();
        prop_assert_eq!(a, b);
    }

    /// Normalising a normalised value changes nothing (a tracker may send it pre-normalised).
    /// Outputs that are not in NFC are left out: see `zip_normalisation_output_is_nfc`.
    #[test]
    fn normalise_is_idempotent(f in customer_field(), raw in customer_raw()) {
        if let Ok(once) = f.normalise(&raw, &Region::default()) {
            prop_assume!(once.nfc().eq(once.chars()));
            let twice = f.normalise(&once, &Region::default());
            prop_assert_eq!(twice.as_ref(), Ok(&once), "{} {:?}", f.name(), raw);
        }
    }
}

/// Unicode is hashed in the form it arrives, as Meta's SDKs and param builder do (issue 20, item
/// 7): a decomposed `m\u{301}` and a composed `ḿ` are two digests, as they would be at Meta;
/// whitespace between a letter and its mark still goes.
#[test]
fn zips_are_hashed_in_the_unicode_form_they_came_in() {
    let zp = CustomerField::Zp;
    let region = Region::default();
    assert_eq!(
        zp.normalise("m\t\u{301}", &region),
        Ok("m\u{301}".to_owned())
    );
    assert_eq!(zp.normalise("\u{1e3f}", &region), Ok("\u{1e3f}".to_owned()));
    assert_eq!(digest(zp, "m \u{301}"), digest(zp, "m\u{301}"));
}
