//! Dates of birth, as Meta hashes them: `YYYYMMDD`. Written dates come in three orders; the
//! year-first and day-dotted ones read one way, a slashed or dashed date with the year last is
//! read by the campaign's `date_order`.

use chrono::{Datelike, NaiveDate};

use super::ParseError;

/// How a campaign's visitors write `01/02/1990`: month first (`mdy`, the US) or day first (`dmy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    Mdy,
    Dmy,
}

impl DateOrder {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s.trim() {
            "mdy" => Ok(DateOrder::Mdy),
            "dmy" => Ok(DateOrder::Dmy),
            _ => Err(ParseError::new("must be mdy or dmy")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DateOrder::Mdy => "mdy",
            DateOrder::Dmy => "dmy",
        }
    }

    /// The order a country writes dates in when the campaign sets none: month first in the US,
    /// day first elsewhere (true of most of the world; set `date_order` where it is not).
    pub fn of_country(country: super::Country) -> Self {
        if country.as_str() == "us" {
            DateOrder::Mdy
        } else {
            DateOrder::Dmy
        }
    }
}

/// Meta's param builder accepts no year before this one.
const FIRST_YEAR: i32 = 1800;

/// `YYYYMMDD` from `YYYYMMDD`, `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD`, `DD.MM.YYYY`, and
/// `MM/DD/YYYY` or `DD/MM/YYYY` (or with dashes) by `order`; months and days may have one digit.
/// `None` reads a year-last slashed date only when one of its numbers is over 12.
pub fn birth_date(s: &str, order: Option<DateOrder>) -> Result<String, ParseError> {
    let s = s.trim();
    let date = if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(0);
        ymd(n(0..4), n(4..6), n(6..8))
    } else {
        written(s, order)?
    };
    date.filter(|d| d.year() >= FIRST_YEAR)
        .map(|d| d.format("%Y%m%d").to_string())
        .ok_or_else(|| ParseError::new("is not a date that exists (such as 1990-02-28)"))
}

fn ymd(y: u32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

/// A date written with separators: `None` when its numbers make no date.
fn written(s: &str, order: Option<DateOrder>) -> Result<Option<NaiveDate>, ParseError> {
    let shape = || {
        ParseError::new(
            "must be a date such as 1990-02-28, 28.02.1990 or 02/28/1990 (by the campaign's date_order)",
        )
    };
    let sep = s.chars().find(|c| !c.is_ascii_digit()).ok_or_else(shape)?;
    if !matches!(sep, '-' | '/' | '.') {
        return Err(shape());
    }
    let parts: Vec<&str> = s.split(sep).collect();
    let well_formed = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        return Err(shape());
    }
    let n: Vec<u32> = parts.iter().map(|p| p.parse().unwrap_or(0)).collect();
    let (first, second) = (n[0], n[1]);
    if parts[0].len() == 4 && parts[1].len() <= 2 && parts[2].len() <= 2 {
        return Ok(ymd(first, second, n[2]));
    }
    if parts[2].len() != 4 || parts[0].len() > 2 || parts[1].len() > 2 {
        return Err(shape());
    }
    let year = n[2];
    let dmy = ymd(year, second, first);
    let mdy = ymd(year, first, second);
    // Dots put the day first wherever they are used (`28.02.1990`).
    let order = if sep == '.' {
        Some(DateOrder::Dmy)
    } else {
        order
    };
    Ok(match order {
        // The campaign's order, unless the date only exists read the other way (a `28/02/1990`
        // in a US campaign is still the 28th of February).
        Some(DateOrder::Dmy) => dmy.or(mdy),
        Some(DateOrder::Mdy) => mdy.or(dmy),
        None if first == second || dmy.is_none() || mdy.is_none() => dmy.or(mdy),
        None => {
            return Err(ParseError::new(
                "reads as two dates (day or month first): set the campaign's date_order",
            ))
        }
    })
}
