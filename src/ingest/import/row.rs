//! One line of an import file: the header, a row's fields, and the postback a row becomes. A
//! row is read exactly like a generic postback: its columns are the generic dialect's parameters.

use chrono::{DateTime, Duration, Utc};

use crate::domain::params::Params;
use crate::domain::{ActionSource, Region};
use crate::trackers::{self, Parsed, Postback, Tracker};

/// Longest line read; a longer one is an invalid row (no field needs anywhere near this).
pub const MAX_LINE: usize = 16 * 1024;

/// The columns of a file, from its header line, lowercased, Keitaro's names read as ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Each column's name (empty: the column is not read).
    names: Vec<String>,
    /// Columns left unread, with why: reported with the import as fields dropped from every row.
    pub ignored: Vec<IgnoredColumn>,
}

/// A column the header names but the rows are not read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredColumn {
    pub name: String,
    pub reason: String,
}

/// What to do when a file has both a Keitaro name and ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Both {
    /// Identifying input: two columns that may disagree refuse the file.
    Refuse,
    /// The alias is read, ours ignored (and reported).
    AliasWins,
}

/// Keitaro's export and postback names for our columns (`Status`, `Payout`, `Currency` are
/// ours already: names are case-insensitive). Keitaro's `Revenue` is the conversion's income,
/// so it wins over a `Payout` column.
const ALIASES: [(&str, &str, Both); 3] = [
    ("subid", "click_id", Both::Refuse),
    ("tid", "txid", Both::Refuse),
    ("revenue", "payout", Both::AliasWins),
];

impl Header {
    pub fn parse(line: &[u8]) -> Result<Header, String> {
        let line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
        let mut names: Vec<String> = fields(trim_eol(line))
            .map_err(|e| format!("the header line {e}"))?
            .into_iter()
            .map(|n| n.trim().to_ascii_lowercase())
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1] && !w[0].is_empty()) {
            return Err(format!("the header line names column {:?} twice", w[0]));
        }
        let mut ignored = Vec::new();
        for (alias, ours, both) in ALIASES {
            let Some(a) = names.iter().position(|n| n == alias) else {
                continue;
            };
            if let Some(o) = names.iter().position(|n| n == ours) {
                match both {
                    Both::Refuse => {
                        return Err(format!(
                            "the header line names both {ours} and {alias} (read as {ours}): \
                             keep one of them"
                        ))
                    }
                    Both::AliasWins => {
                        names[o] = String::new();
                        ignored.push(IgnoredColumn {
                            name: ours.to_owned(),
                            reason: format!(
                                "column not read: the file's {alias} column is read as the {ours}"
                            ),
                        });
                    }
                }
            }
            names[a] = ours.to_owned();
        }
        let missing: Vec<&str> = ["click_id", "status"]
            .into_iter()
            .filter(|r| !names.iter().any(|n| n == r))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the header line must name the columns click_id and status (missing: {}); \
                 optional: payout, currency, txid, event_time, campaign, em, ph and the other \
                 fields of the generic postback; Keitaro's subid, tid and revenue are read as \
                 click_id, txid and payout",
                missing.join(", ")
            ));
        }
        Ok(Header { names, ignored })
    }
}

/// The line without its `\n` or `\r\n`.
pub fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// A data line's parameters, as a generic postback's: the fields under the header's names.
/// An unreadable `event_time` is left out (the row is recorded at its arrival time) and its
/// reason returned, to be reported like a postback's.
pub fn params(header: &Header, line: &[u8]) -> Result<(Params, Option<String>), String> {
    let values = fields(trim_eol(line))?;
    if values.len() != header.names.len() {
        return Err(format!(
            "has {} fields, the header has {}",
            values.len(),
            header.names.len()
        ));
    }
    let mut bad_time = None;
    let pairs: Vec<(String, String)> = header
        .names
        .iter()
        .zip(values)
        .filter(|(name, _)| !name.is_empty())
        .filter_map(|(name, value)| match name.as_str() {
            "event_time" => match unix_seconds(&value) {
                Ok(v) => Some((name.clone(), v)),
                Err(e) => {
                    bad_time = Some(e);
                    None
                }
            },
            _ => Some((name.clone(), value)),
        })
        .collect();
    Ok((Params::from_pairs(pairs), bad_time))
}

/// Why a row cannot become a postback, and the column that says so when one does (its value
/// goes into the import's bad-lines file unless the column is personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub reason: String,
    pub field: Option<&'static str>,
}

impl Refused {
    fn about(field: &'static str, reason: String) -> Refused {
        Refused {
            reason,
            field: Some(field),
        }
    }
}

impl From<String> for Refused {
    fn from(reason: String) -> Refused {
        Refused {
            reason,
            field: None,
        }
    }
}

/// The column a refused postback's error is about.
fn field_of(e: &trackers::PostbackError) -> &'static str {
    match e {
        trackers::PostbackError::MissingClickId(f) | trackers::PostbackError::UnfilledStatus(f) => {
            f
        }
        trackers::PostbackError::Invalid { field, .. } => field,
    }
}

/// The postback a row's parameters become, or why they cannot become one. `region`: the row's
/// campaign's (its national phone numbers and dates); `default_source`: the import's action
/// source for rows that name none, which sets how old an event Meta still takes.
pub fn postback(
    (params, bad_time): (Params, Option<String>),
    region: &Region,
    default_source: Option<ActionSource>,
    now: DateTime<Utc>,
) -> Result<Postback, Refused> {
    let mut postback = match trackers::parse_in(Tracker::Generic, &params, now, region) {
        Ok(Parsed::Conversion(p)) => *p,
        Ok(Parsed::Ignored { raw_status }) => {
            return Err(Refused::about(
                "status",
                format!("status {raw_status:?} is ignored"),
            ))
        }
        Err(e) => return Err(Refused::about(field_of(&e), e.to_string())),
    };
    if let Some(e) = bad_time {
        postback.dropped.push("event_time", e);
    }
    // The postback path would record such a row and let delivery expire its event; an import
    // is a deliberate back-fill, so the row is refused with the reason instead.
    let source = postback
        .action_source
        .or(default_source)
        .unwrap_or(ActionSource::Website);
    let days = source.max_age_days();
    if postback
        .event_time
        .is_some_and(|t| t < now - Duration::days(days))
    {
        return Err(Refused::about(
            "event_time",
            format!(
                "event_time is older than Meta accepts for {} events ({days} days); not imported",
                source.as_str()
            ),
        ));
    }
    Ok(postback)
}

/// The value of the column named `name` (as the header reads it) in a data line, if the line
/// and the header agree.
pub fn raw_value(header: &Header, line: &[u8], name: &str) -> Option<String> {
    let at = header.names.iter().position(|n| n == name)?;
    fields(trim_eol(line)).ok()?.into_iter().nth(at)
}

/// `event_time` as the generic dialect reads it (Unix seconds), from Unix seconds or ISO 8601.
fn unix_seconds(value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() || v.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(v.to_owned());
    }
    let parsed = DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            // Spreadsheets drop the zone: read such a time as UTC.
            chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S")
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S"))
                .map(|t| t.and_utc())
        })
        .map_err(|_| {
            "must be ISO 8601 (2026-11-30T12:00:00Z) or Unix seconds; the arrival time applies"
                .to_owned()
        })?;
    Ok(parsed.timestamp().to_string())
}

/// The fields of one line, through the `csv` crate. That parser accepts stray quotes silently
/// (`"a"b` reads as `ab`) and lets an unclosed quote run on to the end of the file; here a row
/// is one line and its quoting must be proper (RFC 4180), else the row is refused, not guessed.
pub fn fields(line: &[u8]) -> Result<Vec<String>, String> {
    if let Some(e) = quoting_error(line) {
        return Err(format!("has malformed quoting: {e}"));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line);
    let mut record = csv::StringRecord::new();
    let mut rest = csv::ByteRecord::new();
    match reader.read_record(&mut record) {
        // A lone carriage return ends a record for the parser: never drop what follows it.
        Ok(_) if reader.read_byte_record(&mut rest).unwrap_or(true) => {
            Err("holds a carriage return inside the line".to_owned())
        }
        Ok(_) => Ok(record.iter().map(str::to_owned).collect()),
        Err(e) if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) => {
            Err("is not valid UTF-8".to_owned())
        }
        Err(e) => Err(format!("cannot be read: {e}")),
    }
}

/// Where a line's quoting breaks RFC 4180, if it does.
fn quoting_error(line: &[u8]) -> Option<&'static str> {
    let mut i = 0;
    loop {
        if line.get(i) == Some(&b'"') {
            i += 1;
            loop {
                let Some(close) = line[i..].iter().position(|&b| b == b'"') else {
                    return Some("a quoted field is not closed");
                };
                i += close + 1;
                if line.get(i) == Some(&b'"') {
                    i += 1;
                    continue;
                }
                break;
            }
            match line.get(i) {
                None => return None,
                Some(b',') => i += 1,
                Some(_) => return Some("text follows a closing quote"),
            }
        } else {
            let end = line[i..]
                .iter()
                .position(|&b| b == b',')
                .map_or(line.len(), |p| i + p);
            if line[i..end].contains(&b'"') {
                return Some("a quote inside an unquoted field");
            }
            if end == line.len() {
                return None;
            }
            i = end + 1;
        }
    }
}

#[cfg(test)]
#[path = "row_tests.rs"]
mod tests;
