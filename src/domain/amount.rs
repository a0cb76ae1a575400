//! Amounts as networks and spreadsheets write them (`1,500`, `1.234,56`, `$40`, `12.50 USD`),
//! read one way for postbacks and imports alike. A reading that could be off by a factor of a
//! thousand is refused rather than guessed: the caller drops the value and reports it.

use super::{Currency, ParseError};

/// Larger amounts are typos or attacks, never a payout.
const MAX: f64 = 1e12;

/// Symbols stripped before or after the number (`$40`, `40 €`).
const SYMBOLS: &[char] = &[
    '$', '€', '£', '¥', '₽', '₹', '₴', '₺', '₩', '₪', '₫', '₦', '₱', '฿', '₸', '₼', '₾',
];

/// Reads an amount. The rules, in order:
/// - a currency sign or ISO 4217 code before or after the number is stripped (`$40`,
///   `12.50 USD`, `€12,50`, `USD 12.50`, `US$ 5`), one at most;
/// - a leading `-` or `+` gives the sign (a negative amount is returned as such: refunds are
///   the caller's decision);
/// - spaces between digit groups are thousands separators (`1 500`, `1 500,25`);
/// - of two different separators, the last is the decimal mark (`1,234.56`, `1.234,56`);
/// - one separator repeated is a thousands separator (`1,234,567`);
/// - a lone separator before one or two digits is the decimal mark (`12,50`); before exactly
///   three digits after a non-zero integer part of at most three digits, a thousands separator
///   (`1,500` is 1500, `0,125` is 0.125); before four or more digits, the decimal mark;
/// - anything else (`ten`, `1,2,3`, `1.2e3`, `12.`) is an error.
pub fn parse_amount(raw: &str) -> Result<f64, ParseError> {
    let err = || ParseError::new("must be a number such as 12.50, 1,234.56 or 1.234,56");
    let (negative, core) = strip_marks(raw).ok_or_else(err)?;
    let digits = number(&core).ok_or_else(err)?;
    let v: f64 = digits.parse().map_err(|_| err())?;
    if !v.is_finite() || v.abs() >= MAX {
        return Err(err());
    }
    Ok(if negative { -v } else { v })
}

/// The sign and the bare number, without a currency mark and outer spaces; `None` when what
/// surrounds the number is more than one sign and one currency mark.
fn strip_marks(raw: &str) -> Option<(bool, String)> {
    let s = raw.trim_matches(is_space);
    let is_num = |c: char| c.is_ascii_digit() || matches!(c, '.' | ',');
    let start = s.find(is_num)?;
    let end = s.rfind(is_num)? + 1;
    // The sign sits next to the number or before the mark: `-12`, `-$12`, `$-12`, `USD -12`.
    let before = s[..start].trim_matches(is_space);
    let (lead, before) = match before.strip_prefix(['-', '+']) {
        Some(rest) => (before.chars().next(), rest.trim_matches(is_space)),
        None => (None, before),
    };
    let (trail, before) = match before.strip_suffix(['-', '+']) {
        Some(rest) => (before.chars().last(), rest.trim_matches(is_space)),
        None => (None, before),
    };
    if lead.is_some() && trail.is_some() {
        return None;
    }
    let after = s[end..].trim_matches(is_space);
    let marks = [before, after].iter().filter(|m| !m.is_empty()).count();
    if marks > 1
        || ![before, after]
            .iter()
            .all(|m| m.is_empty() || is_currency_mark(m))
    {
        return None;
    }
    Some((lead.or(trail) == Some('-'), s[start..end].to_owned()))
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{a0}' | '\u{202f}' | '\u{2009}')
}

/// `$`, `€`, `USD`, `usd`, `US$`, `R$`.
fn is_currency_mark(s: &str) -> bool {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => SYMBOLS.contains(&c),
        _ => {
            Currency::parse(s).is_ok()
                || s.strip_suffix('$').is_some_and(|letters| {
                    (1..=2).contains(&letters.len())
                        && letters.bytes().all(|b| b.is_ascii_uppercase())
                })
        }
    }
}

/// The number in Rust's own syntax (`1234.56`), or `None`.
fn number(core: &str) -> Option<String> {
    if !core
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',') || is_space(c))
    {
        return None;
    }
    let separators: Vec<char> = core.chars().filter(|c| matches!(c, '.' | ',')).collect();
    if core.chars().any(is_space) {
        // Spaces group thousands; a separator after the last group is the decimal mark.
        let (int, frac) = match separators.as_slice() {
            [] => (core, None),
            [_] => {
                let (int, frac) = core.split_once(['.', ','])?;
                (int, Some(frac))
            }
            _ => return None,
        };
        return join(grouped(int, is_space)?, frac);
    }
    match separators.as_slice() {
        [] => join(core.to_owned(), None),
        [first, ..] if separators.iter().any(|c| c != first) => {
            let decimal = *separators.last()?;
            let (int, frac) = core.rsplit_once(decimal)?;
            if int.contains(decimal) {
                return None;
            }
            join(
                grouped(int, |c| c != decimal && matches!(c, '.' | ','))?,
                Some(frac),
            )
        }
        [sep, _, ..] => join(grouped(core, |c| c == *sep)?, None),
        [sep] => {
            let (int, frac) = core.split_once(*sep)?;
            let thousands =
                frac.len() == 3 && (1..=3).contains(&int.len()) && int.bytes().any(|b| b != b'0');
            if thousands {
                join(format!("{int}{frac}"), None)
            } else {
                join(int.to_owned(), Some(frac))
            }
        }
    }
}

/// The digits of `int` whose groups `is_sep` splits: a first group of one to three digits,
/// then groups of exactly three.
fn grouped(int: &str, is_sep: impl Fn(char) -> bool) -> Option<String> {
    let mut out = String::with_capacity(int.len());
    for (i, group) in int.split(is_sep).enumerate() {
        let size_ok = if i == 0 {
            (1..=3).contains(&group.len())
        } else {
            group.len() == 3
        };
        if !size_ok || !group.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        out.push_str(group);
    }
    Some(out)
}

/// `int.frac` when both are digits (`int` may be empty before a decimal mark: `.5`).
fn join(int: String, frac: Option<&str>) -> Option<String> {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    match frac {
        None if !int.is_empty() && digits(&int) => Some(int),
        Some(f) if !f.is_empty() && digits(f) && digits(&int) => {
            Some(format!("{}.{f}", if int.is_empty() { "0" } else { &int }))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_as_networks_and_spreadsheets_write_them() {
        let cases: &[(&str, Option<f64>)] = &[
            // Plain numbers.
            ("12", Some(12.0)),
            ("12.5", Some(12.5)),
            (" 7 ", Some(7.0)),
            ("0", Some(0.0)),
            (".5", Some(0.5)),
            // Two different separators: the last is the decimal mark.
            ("1,234.56", Some(1234.56)),
            ("1.234,56", Some(1234.56)),
            ("1,234,567.89", Some(1_234_567.89)),
            ("1.234.567,89", Some(1_234_567.89)),
            ("1,500.00", Some(1500.0)),
            // A lone separator before one or two digits: the decimal mark.
            ("12,50", Some(12.5)),
            ("12,5", Some(12.5)),
            ("12.50", Some(12.5)),
            // Before three digits after a non-zero integer part: thousands.
            ("1,500", Some(1500.0)),
            ("2.500", Some(2500.0)),
            ("999,999", Some(999_999.0)),
            ("0,125", Some(0.125)),
            ("0.125", Some(0.125)),
            // Before three digits after a longer integer part, or four or more: decimal.
            ("1234.567", Some(1234.567)),
            ("12.3456", Some(12.3456)),
            // One separator repeated: thousands.
            ("1,234,567", Some(1_234_567.0)),
            ("1.234.567", Some(1_234_567.0)),
            // Spaces inside: thousands.
            ("1 500", Some(1500.0)),
            ("1 234 567", Some(1_234_567.0)),
            ("1 500,25", Some(1500.25)),
            ("1\u{a0}500.25", Some(1500.25)),
            ("1\u{202f}500", Some(1500.0)),
            // Currency signs and codes around the number.
            ("$40", Some(40.0)),
            ("40$", Some(40.0)),
            ("12.50 USD", Some(12.5)),
            ("USD 12.50", Some(12.5)),
            ("usd12.50", Some(12.5)),
            ("€12,50", Some(12.5)),
            ("12,50 €", Some(12.5)),
            ("£1,234.56", Some(1234.56)),
            ("US$ 5", Some(5.0)),
            ("R$ 1.234,56", Some(1234.56)),
            ("1 500 EUR", Some(1500.0)),
            // Signs, with or without a currency mark.
            ("-12.50", Some(-12.5)),
            ("-12,50", Some(-12.5)),
            ("+3", Some(3.0)),
            ("-$12.50", Some(-12.5)),
            ("$-12.50", Some(-12.5)),
            ("USD -1,500", Some(-1500.0)),
            // Anything else.
            ("", None),
            ("ten", None),
            ("12.", None),
            ("1,2,3", None),
            ("1,23,456", None),
            ("12,34.56", None),
            ("1.234.56", None),
            ("1,,234", None),
            ("1.2e3", None),
            ("NaN", None),
            ("inf", None),
            ("0x10", None),
            ("12 50", None),
            ("1 50", None),
            ("12.50 XYZ", None),
            ("12.50 USD EUR", None),
            ("$12.50 USD", None),
            ("--5", None),
            ("-+5", None),
            ("5-", None),
            ("12.50abc", None),
            ("1'500", None),
            ("1e12", None),
            ("1000000000000", None),
            ("999999999999", Some(999_999_999_999.0)),
        ];
        for (raw, want) in cases {
            let got = parse_amount(raw).ok();
            assert_eq!(got, *want, "{raw:?}");
        }
    }

    #[test]
    fn the_error_says_what_is_expected() {
        let e = parse_amount("ten").unwrap_err();
        assert!(e.0.starts_with("must be a number such as 12.50"), "{e}");
    }
}
