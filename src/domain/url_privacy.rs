//! Personal data in page URLs. Meta restricts pixels and datasets whose URLs carry an email
//! or a phone number, and the docs promise stored parameters hold no customer data: query
//! parameters holding either are removed from every URL the bridge stores or sends. The same
//! rule as the landing tag's `personal()` (src/tag/send.js), so a URL reads the same whichever
//! side cleaned it.

use std::borrow::Cow;

/// Parameter names that carry a click or ad id, never personal data, whatever they look like.
const ID_NAMES: &[&str] = &[
    "fbclid", "ttclid", "gclid", "wbraid", "gbraid", "msclkid", "click_id", "clickid", "cid",
    "subid", "sub_id", "cnv_id", "_cid",
];

/// Names under which a number is a phone number.
const PHONE_NAMES: &[&str] = &[
    "phone",
    "tel",
    "telephone",
    "mobile",
    "cell",
    "ph",
    "msisdn",
    "phone_number",
    "phonenumber",
    "whatsapp",
];

/// `url` without the query parameters that hold an email or a phone number; the fragment goes
/// too (it never reaches a server, and forms put values there).
pub fn without_personal_data(url: &str) -> String {
    let url = url.split('#').next().unwrap_or(url);
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|part| {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            !personal(&decode(name), &decode(value))
        })
        .collect();
    if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// Whether one query parameter holds personal data (the tag's rule).
pub fn personal(name: &str, value: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if ID_NAMES.contains(&lower.as_str()) {
        return false;
    }
    let digits = value.bytes().filter(u8::is_ascii_digit).count();
    if looks_like_email(value) {
        return true;
    }
    if PHONE_NAMES.contains(&lower.as_str()) && digits >= 6 {
        return true;
    }
    let phone_shaped = value.trim().chars().all(|c| {
        c.is_ascii_digit() || c.is_whitespace() || matches!(c, '+' | '(' | ')' | '.' | '-')
    }) && value.contains(['+', ' ', '(', ')', '.', '-']);
    phone_shaped && (7..=15).contains(&digits)
}

/// `x@y.z` anywhere in the value, as the tag's `/[^\s@]+@[^\s@]+\.[^\s@]+/`.
fn looks_like_email(v: &str) -> bool {
    v.split(char::is_whitespace).any(|word| {
        let Some(at) = word.find('@') else {
            return false;
        };
        let (local, rest) = (&word[..at], &word[at + 1..]);
        let domain = rest.split('@').next().unwrap_or_default();
        !local.is_empty()
            && domain
                .find('.')
                .is_some_and(|dot| dot > 0 && dot + 1 < domain.len())
    })
}

fn decode(s: &str) -> Cow<'_, str> {
    if !s.contains(['%', '+']) {
        return Cow::Borrowed(s);
    }
    let spaced = s.replace('+', " ");
    match percent_decode(&spaced) {
        Some(d) => Cow::Owned(d),
        // Undecodable: judged as written, like the tag.
        None => Cow::Owned(spaced),
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_phone_numbers_leave_the_query() {
        for (url, want) in [
            ("https://lp.example/o", "https://lp.example/o"),
            (
                "https://lp.example/o?email=a%40b.com&fbclid=IwAR1",
                "https://lp.example/o?fbclid=IwAR1",
            ),
            (
                "https://lp.example/o?a=1&phone=%2B1%20650%20555%201212&b=2",
                "https://lp.example/o?a=1&b=2",
            ),
            (
                "https://lp.example/o?tel=6505551212",
                "https://lp.example/o",
            ),
            (
                "https://lp.example/o?q=john+smith%40gmail.com#x",
                "https://lp.example/o",
            ),
            (
                "https://lp.example/o?n=%2B44-20-7946-0958&sub1=12345",
                "https://lp.example/o?sub1=12345",
            ),
            (
                "https://lp.example/o?subid=123-456-7890&cid=a%40b.co",
                "https://lp.example/o?subid=123-456-7890&cid=a%40b.co",
            ),
            ("https://lp.example/o?bad=%zz@x.io", "https://lp.example/o"),
            (
                "https://lp.example/o?price=12.50",
                "https://lp.example/o?price=12.50",
            ),
        ] {
            assert_eq!(without_personal_data(url), want, "{url}");
        }
    }
}
