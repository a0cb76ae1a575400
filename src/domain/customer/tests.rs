//! Table tests of the normalisers (Meta's published vectors and the are rows of
//! `tests/vectors/normalisation.json`, checked by `vectors.rs`).

use super::*;
use CustomerField::{Ct, Db, Em, ExternalId, Fn, Ge, Ln, Ph, St, Zp};

const NO_REGION: Region = Region {
    country: None,
    date_order: None,
};

fn h(f: CustomerField, raw: &str) -> String {
    f.hash(raw, &NO_REGION)
        .unwrap()
        .unwrap()
        .as_str()
        .to_owned()
}

#[test]
fn normalisation_rules() {
    let n = |f: CustomerField, s: &str| f.normalise(s, &NO_REGION).unwrap();
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
    assert_eq!(n(CustomerField::Country, "US"), "us");
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
        (CustomerField::Country, "Atlantis"),
        (CustomerField::Country, "xx"),
        (Fn, "5d41402abc4b2a76b9719d911017c592"),
        (Ge, "x"),
        (Ct, "123"),
    ] {
        assert!(
            f.hash(bad, &NO_REGION).is_err(),
            "{} accepted {bad:?}",
            f.name()
        );
    }
}

#[test]
fn blank_is_absent_and_hashes_pass_through() {
    assert_eq!(Em.hash("   ", &NO_REGION).unwrap(), None);
    let digest = "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F";
    assert_eq!(h(Em, digest), digest.to_lowercase());
}

#[test]
fn merging_keeps_existing_values() {
    let mut a = CustomerData::default();
    a.set_raw(Em, "a@example.com", &NO_REGION).unwrap();
    let mut b = CustomerData::default();
    b.set_raw(Em, "b@example.com", &NO_REGION).unwrap();
    b.set_raw(Ph, "+16505551212", &NO_REGION).unwrap();
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
    c.set_raw(ExternalId, raw, &NO_REGION).unwrap();
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
    let stored =
        CustomerData::from_columns(raw.to_columns()).with_tiktok_external_id(Some(tiktok.clone()));
    assert_eq!(stored, raw);
    let other = ext("OTHER-1");
    assert_eq!(raw.clone().or(&other), raw);
    assert_eq!(CustomerData::default().or(&other), other);
    assert_eq!(ext(&sha("crm-8431")).or(&other).tiktok_external_id(), None);
}

fn region(country: Option<&str>, order: Option<DateOrder>) -> Region {
    Region::new(country.map(|c| Country::parse_code(c).unwrap()), order)
}

#[test]
fn a_campaigns_region_derives_its_date_order_from_its_country() {
    assert_eq!(region(Some("us"), None).date_order, Some(DateOrder::Mdy));
    assert_eq!(region(Some("de"), None).date_order, Some(DateOrder::Dmy));
    assert_eq!(region(None, None).date_order, None);
    let set = region(Some("us"), Some(DateOrder::Dmy));
    assert_eq!(set.date_order, Some(DateOrder::Dmy));
}

#[test]
fn campaign_countries_are_alpha_2_codes_only() {
    assert_eq!(Country::parse_code("GB").unwrap().as_str(), "gb");
    for bad in ["uk", "gbr", "United Kingdom", "xx", "", "g"] {
        assert!(Country::parse_code(bad).is_err(), "{bad:?}");
    }
    assert_eq!(Country::parse_code("gb").unwrap().calling_code(), Some(44));
    assert_eq!(Country::parse_code("us").unwrap().calling_code(), Some(1));
}

#[test]
fn country_names_and_codes() {
    for (raw, code) in [
        ("US", "us"),
        ("usa", "us"),
        ("United States", "us"),
        ("United States of America", "us"),
        ("Deutschland", "de"),
        ("DEU", "de"),
        ("The Federal Republic of Germany", "de"),
        ("UK", "gb"),
        ("Côte d'Ivoire", "ci"),
        ("Cote d'Ivoire", "ci"),
        ("Россия", "ru"),
        ("in", "in"),
        ("IND", "in"),
    ] {
        assert_eq!(
            Country::find(raw).map(|c| c.as_str().to_owned()),
            Ok(code.to_owned()),
            "{raw:?}"
        );
    }
}

#[test]
fn dates_by_their_shape_and_the_campaigns_order() {
    let n = |s: &str, order| {
        Db.normalise(
            s,
            &Region {
                country: None,
                date_order: order,
            },
        )
    };
    let ok = |s: &str, order| n(s, order).unwrap();
    use DateOrder::*;
    assert_eq!(ok("1990-2-8", None), "19900208");
    assert_eq!(ok("1990/02/28", None), "19900228");
    assert_eq!(ok("1990.02.28", None), "19900228");
    assert_eq!(ok("28.02.1990", Some(Mdy)), "19900228");
    assert_eq!(ok("1.2.1990", None), "19900201");
    assert_eq!(ok("02/03/1990", Some(Mdy)), "19900203");
    assert_eq!(ok("02/03/1990", Some(Dmy)), "19900302");
    assert_eq!(ok("2-3-1990", Some(Dmy)), "19900302");
    // Only one reading exists: taken whatever the order.
    assert_eq!(ok("28/02/1990", None), "19900228");
    assert_eq!(ok("28/02/1990", Some(Mdy)), "19900228");
    assert_eq!(ok("02/28/1990", Some(Dmy)), "19900228");
    assert_eq!(ok("05/05/1990", None), "19900505");
    for (bad, order) in [
        ("02/03/1990", None),
        ("1990-02-30", None),
        ("30.02.1990", Some(Dmy)),
        ("19900230", None),
        ("1990-13-01", None),
        ("02/03/90", Some(Mdy)),
        ("28/02/1990x", None),
        ("1990 02 28", None),
        ("1990-02", None),
        ("01.01.1700", None),
    ] {
        assert!(n(bad, order).is_err(), "{bad:?} {order:?} accepted");
    }
}

#[test]
fn genders_states_and_names() {
    let n = |f: CustomerField, s: &str| f.normalise(s, &NO_REGION);
    for (raw, g) in [
        ("M", "m"),
        ("Male", "m"),
        ("man", "m"),
        ("Mr.", "m"),
        ("F", "f"),
        ("WOMAN", "f"),
        ("w", "f"),
        ("Mrs.", "f"),
        ("Ms", "f"),
        ("miss", "f"),
    ] {
        assert_eq!(n(Ge, raw), Ok(g.to_owned()), "{raw:?}");
    }
    for bad in ["x", "mister", "mrs..", "unknown", "mf"] {
        assert!(n(Ge, bad).is_err(), "{bad:?}");
    }
    assert_eq!(n(St, "California"), Ok("ca".to_owned()));
    assert_eq!(n(St, " new york "), Ok("ny".to_owned()));
    assert_eq!(n(St, "District of Columbia"), Ok("dc".to_owned()));
    assert_eq!(n(St, "Île-de-France"), Ok("îledefrance".to_owned()));
    assert_eq!(n(Fn, "Mary Ann"), Ok("maryann".to_owned()));
    assert_eq!(n(Ln, "  de la Cruz "), Ok("delacruz".to_owned()));
    assert!(n(Fn, " .' ").is_err());
    // An id may be 32 hex characters: not taken for an MD5 digest.
    let id = "5d41402abc4b2a76b9719d911017c592";
    assert_eq!(n(ExternalId, id), Ok(id.to_owned()));
}

#[test]
fn phones_by_the_campaigns_country() {
    let gb = region(Some("gb"), None);
    let us = region(Some("us"), None);
    let read = |s: &str, r: &Region| phone::read(s, r).map(|p| (p.digits, p.e164));
    let ok = |d: &str, e164: bool| Ok((d.to_owned(), e164));
    assert_eq!(read("07911 123456", &gb), ok("447911123456", true));
    assert_eq!(read("+44 7911 123456", &us), ok("447911123456", true));
    assert_eq!(
        read("0044 7911 123456", &NO_REGION),
        ok("447911123456", true)
    );
    assert_eq!(read("(650) 555-1212", &us), ok("16505551212", true));
    assert_eq!(read("16505551212", &us), ok("16505551212", true));
    // Not possible in Britain: Meta's digit rule, as without a country.
    assert_eq!(
        read("16505551212", &gb).map(|p| p.0),
        Ok("16505551212".to_owned())
    );
    // Meta's rule takes the digits; nothing says they start with a country code.
    assert_eq!(read("6505551212", &NO_REGION), ok("6505551212", false));
    assert!(read("12345", &gb).is_err());
    assert!(read("07911", &gb).is_err());
}

#[test]
fn odd_phone_input_in_a_region_never_panics() {
    let long_ones = "1".repeat(200);
    let zeros = "0".repeat(30);
    for country in ["gb", "us", "de", "in"] {
        let r = region(Some(country), None);
        for raw in [
            "+",
            "00",
            "0",
            "++44 7911 123456",
            "tel:+44-7911-123456",
            "07911 123456 ext. 12",
            "07911 123456;phone-context=+44",
            "\u{661}\u{662}\u{663}\u{664}\u{665}\u{666}\u{667}",
            "(((",
            zeros.as_str(),
            long_ones.as_str(),
            "07911\u{0}123456",
            "📞 07911 123456",
            "x",
        ] {
            let _ = Ph.hash(raw, &r);
            let _ = crate::domain::tiktok_phone(raw, &r);
        }
    }
}
