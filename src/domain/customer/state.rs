//! States and provinces. Meta's documentation: "Use the 2-character ANSI abbreviation code in
//! lowercase. Normalize states outside the U.S. with no punctuation and no special characters."
//! The names of the 50 US states and the District of Columbia become their USPS (ANSI) codes;
//! Meta's param builder also maps Canadian provinces, which the documentation does not ask for.

/// The state's code when `lower` names a US state, else its letters (`New York` -> `ny`,
/// `Île-de-France` -> `îledefrance`).
pub fn normalise(lower: &str) -> String {
    let letters: String = lower.chars().filter(|c| c.is_alphabetic()).collect();
    match US_STATES.iter().find(|(name, _)| *name == letters) {
        Some((_, code)) => (*code).to_owned(),
        None => letters,
    }
}

/// Names with their spaces removed, as `normalise` compares them.
const US_STATES: [(&str, &str); 51] = [
    ("alabama", "al"),
    ("alaska", "ak"),
    ("arizona", "az"),
    ("arkansas", "ar"),
    ("california", "ca"),
    ("colorado", "co"),
    ("connecticut", "ct"),
    ("delaware", "de"),
    ("districtofcolumbia", "dc"),
    ("florida", "fl"),
    ("georgia", "ga"),
    ("hawaii", "hi"),
    ("idaho", "id"),
    ("illinois", "il"),
    ("indiana", "in"),
    ("iowa", "ia"),
    ("kansas", "ks"),
    ("kentucky", "ky"),
    ("louisiana", "la"),
    ("maine", "me"),
    ("maryland", "md"),
    ("massachusetts", "ma"),
    ("michigan", "mi"),
    ("minnesota", "mn"),
    ("mississippi", "ms"),
    ("missouri", "mo"),
    ("montana", "mt"),
    ("nebraska", "ne"),
    ("nevada", "nv"),
    ("newhampshire", "nh"),
    ("newjersey", "nj"),
    ("newmexico", "nm"),
    ("newyork", "ny"),
    ("northcarolina", "nc"),
    ("northdakota", "nd"),
    ("ohio", "oh"),
    ("oklahoma", "ok"),
    ("oregon", "or"),
    ("pennsylvania", "pa"),
    ("rhodeisland", "ri"),
    ("southcarolina", "sc"),
    ("southdakota", "sd"),
    ("tennessee", "tn"),
    ("texas", "tx"),
    ("utah", "ut"),
    ("vermont", "vt"),
    ("virginia", "va"),
    ("washington", "wa"),
    ("westvirginia", "wv"),
    ("wisconsin", "wi"),
    ("wyoming", "wy"),
];
