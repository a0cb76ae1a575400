//! `CustomerField::hash` (and `normalise`) for every field on arbitrary text: never panics, a
//! digest is 64 lowercase hex, and hashing a digest gives it back.

#![no_main]

use capi_bridge::domain::CustomerField;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    for f in CustomerField::ALL {
        let _ = f.normalise(&raw);
        match f.hash(&raw) {
            Ok(None) => assert!(raw.trim().is_empty()),
            Ok(Some(h)) => {
                let h = h.as_str();
                assert!(h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
                let again = f.hash(h).expect("a digest is accepted").expect("not blank");
                assert_eq!(again.as_str(), h);
                let upper = f.hash(&h.to_ascii_uppercase()).unwrap().unwrap();
                assert_eq!(upper.as_str(), h);
            }
            Err(_) => assert!(!raw.trim().is_empty()),
        }
    }
});
