//! TikTok's normalisation where it differs from Meta's (`docs/reference/tiktok-events.md`).
//! Email (trim, lowercase) hashes the same way for both platforms; the phone (here) and the
//! external_id (the id as given, case kept, in `CustomerData::set_raw`) get TikTok digests.

use super::customer::read_phone;
use super::{ParseError, Region};

/// The phone in E.164 *with* the leading `+` (`+16505551212`), which TikTok hashes; Meta hashes
/// the same digits without it, so both digests always describe the same number. `Ok(None)` for
/// a number Meta takes (its digit rule) but that cannot be written in E.164 for sure: TikTok gets
/// no digest rather than one of no number (`+6505551212`).
pub fn normalise_phone(raw: &str, region: &Region) -> Result<Option<String>, ParseError> {
    let phone = read_phone(raw, region)?;
    Ok(phone.e164.then(|| format!("+{}", phone.digits)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Country, CustomerData, CustomerField};

    const NONE: Region = Region {
        country: None,
        date_order: None,
    };

    #[test]
    fn phones_become_e164_with_the_plus() {
        let gb = Region::new(Country::parse_code("gb").ok(), None);
        for (raw, region, e164) in [
            ("+1 (650) 555-1212", NONE, "+16505551212"),
            ("+44 20 7946 0958", NONE, "+442079460958"),
            ("0044 20 7946 0958", NONE, "+442079460958"),
            (" +49-30-901820 ", NONE, "+4930901820"),
            ("07911 123456", gb, "+447911123456"),
            ("020 7946 0958", gb, "+442079460958"),
        ] {
            assert_eq!(
                normalise_phone(raw, &region).unwrap().as_deref(),
                Some(e164),
                "{raw:?}"
            );
        }
        // Meta's digit rule takes these; only a number the library knows gets TikTok's digest.
        assert_eq!(normalise_phone("6505551212", &NONE), Ok(None));
        for bad in ["", "12", "phone", "+1234567890123456", "12345"] {
            assert!(normalise_phone(bad, &gb).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_references_number_hashes_to_its_digest() {
        use sha2::{Digest, Sha256};
        // sha256("+12133734253"): the reference's E.164 example, as TikTok hashes it.
        let e164 = normalise_phone(" +1 (213) 373-4253 ", &NONE)
            .unwrap()
            .unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(e164.as_bytes())),
            "9f7ec22d72092cd3c0b58726ed9c2d91b92e51a3f29837508fb2948bb22dd2fd"
        );
    }

    #[test]
    fn a_raw_phone_gets_both_digests_and_a_digest_only_metas() {
        let mut c = CustomerData::default();
        c.set_raw(CustomerField::Ph, "+1 (650) 555-1212", &NONE)
            .unwrap();
        // sha256("16505551212"), Meta's published vector, and sha256("+16505551212").
        assert_eq!(
            c.get(CustomerField::Ph).unwrap().as_str(),
            "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"
        );
        assert_eq!(
            c.tiktok_ph().unwrap().as_str(),
            "1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8"
        );
        let mut pre = CustomerData::default();
        let digest = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176";
        pre.set_raw(CustomerField::Ph, digest, &NONE).unwrap();
        assert_eq!(pre.get(CustomerField::Ph).unwrap().as_str(), digest);
        assert_eq!(pre.tiktok_ph(), None);
    }

    #[test]
    fn a_browser_made_tiktok_digest_is_kept_only_beside_a_pre_hashed_phone() {
        let meta = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176";
        let tiktok = "1E231C66011E7A2D867A9CFAE267A6AFF103CF4913640B6E71A99850FC0FFBC8";
        let mut hashed = CustomerData::default();
        hashed.set_raw(CustomerField::Ph, meta, &NONE).unwrap();
        assert_eq!(
            hashed.set_tiktok_digest(CustomerField::Ph, tiktok),
            Ok(true)
        );
        assert_eq!(
            hashed.tiktok_ph().unwrap().as_str(),
            tiktok.to_ascii_lowercase()
        );

        // No phone: nothing for the digest to go with.
        let mut none = CustomerData::default();
        assert_eq!(none.set_tiktok_digest(CustomerField::Ph, tiktok), Ok(false));
        assert_eq!(none.tiktok_ph(), None);

        // A raw phone's own digest stands: the same digest agrees, another is refused.
        let mut raw = CustomerData::default();
        raw.set_raw(CustomerField::Ph, "+1 (650) 555-1212", &NONE)
            .unwrap();
        assert_eq!(raw.set_tiktok_digest(CustomerField::Ph, tiktok), Ok(true));
        let other = "9f7ec22d72092cd3c0b58726ed9c2d91b92e51a3f29837508fb2948bb22dd2fd";
        assert_eq!(raw.set_tiktok_digest(CustomerField::Ph, other), Ok(false));
        assert_eq!(
            raw.tiktok_ph().unwrap().as_str(),
            tiktok.to_ascii_lowercase()
        );

        assert!(hashed
            .set_tiktok_digest(CustomerField::Ph, "+16505551212")
            .is_err());
    }

    #[test]
    fn tiktoks_digest_follows_the_phone_it_was_made_from_when_merging() {
        let phone = |raw: &str| {
            let mut c = CustomerData::default();
            c.set_raw(CustomerField::Ph, raw, &NONE).unwrap();
            c
        };
        let us = phone("+16505551212");
        let uk = phone("+442079460958");
        assert_eq!(us.clone().or(&uk), us);
        assert_eq!(CustomerData::default().or(&uk), uk);
        // A pre-hashed phone is kept with no TikTok digest, not paired with another number's.
        let pre = phone("e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176");
        assert_eq!(pre.clone().or(&uk).tiktok_ph(), None);
    }
}
