use chrono::{DateTime, TimeZone, Utc};
use sha2::{Digest, Sha256};

use super::{normalise_status, Parsed, Postback, PostbackError, Tracker};
use crate::domain::caps::{STATUS_MAX, TXID_MAX};
use crate::domain::params::Params;
use crate::domain::parse_public_ip;
use crate::domain::{
    CampaignKey, ClickId, CookieValue, Currency, CustomerData, CustomerField, DropReport, HttpUrl,
    ParseError, Region, UserAgent,
};

/// The parameter names of one tracker.
struct Names {
    click_id: &'static [&'static str],
    status: &'static [&'static str],
    payout: &'static [&'static str],
    currency: &'static [&'static str],
    txid: &'static [&'static str],
}

fn names(t: Tracker) -> Names {
    match t {
        Tracker::Keitaro => Names {
            click_id: &["subid"],
            status: &["status"],
            payout: &["payout", "revenue"],
            currency: &["currency"],
            txid: &["tid"],
        },
        Tracker::Binom => Names {
            click_id: &["cnv_id", "clickid"],
            status: &["cnv_status"],
            payout: &["payout"],
            currency: &["cnv_currency"],
            txid: &["txid"],
        },
        Tracker::Bemob => Names {
            click_id: &["cid"],
            status: &["status"],
            payout: &["payout"],
            currency: &["currency"],
            txid: &["txid"],
        },
        Tracker::Voluum => Names {
            click_id: &["cid"],
            status: &["et"],
            payout: &["payout"],
            currency: &["currency"],
            txid: &["txid"],
        },
        Tracker::Redtrack => Names {
            click_id: &["clickid"],
            status: &["type"],
            payout: &["sum"],
            currency: &["currency"],
            txid: &["txid"],
        },
        Tracker::Clickflare => Names {
            click_id: &["cid", "click_id"],
            status: &["status"],
            payout: &["payout"],
            currency: &["currency"],
            txid: &["txid"],
        },
        Tracker::Generic => Names {
            click_id: &["click_id"],
            status: &["status", "event"],
            payout: &["value", "payout"],
            currency: &["currency"],
            txid: &["txid"],
        },
    }
}

/// Reads a postback in `tracker`'s dialect. `now` bounds the generic dialect's `event_time`.
/// Only what identifies the conversion (the click id, a status present but unfilled or
/// malformed, the campaign) refuses it; any other field that cannot be used is dropped and
/// reported in [`Postback::dropped`].
pub fn parse(tracker: Tracker, p: &Params, now: DateTime<Utc>) -> Result<Parsed, PostbackError> {
    parse_in(tracker, p, now, &Region::default())
}

/// [`parse`] with the region of the campaign the postback names (`campaign=`): a national
/// phone number gets its calling code, a slashed date its day order.
pub fn parse_in(
    tracker: Tracker,
    p: &Params,
    now: DateTime<Utc>,
    region: &Region,
) -> Result<Parsed, PostbackError> {
    let n = names(tracker);
    let click_name = n.click_id[0];
    let click_id = p
        .first_of(n.click_id)
        .ok_or(PostbackError::MissingClickId(click_name))?;
    let click_id = ClickId::parse(click_id).map_err(|error| PostbackError::Invalid {
        field: click_name,
        error,
    })?;

    // Only a truly absent status takes the default; `status={status}` means the tracker had no
    // value, and a guessed sale would reach Meta as a false Purchase.
    let raw_status = match p.first_of(n.status) {
        Some(s) => s.to_owned(),
        None => match n.status.iter().find(|name| p.raw(name).is_some()) {
            Some(name) => return Err(PostbackError::UnfilledStatus(name)),
            None => super::DEFAULT_STATUS.to_owned(),
        },
    };
    if raw_status.len() > STATUS_MAX || raw_status.chars().any(char::is_control) {
        return Err(invalid(
            n.status.first().copied().unwrap_or("status"),
            &format!("must be at most {STATUS_MAX} characters without control characters"),
        ));
    }
    let mut status = normalise_status(&raw_status);
    if tracker == Tracker::Keitaro {
        let lower = raw_status.trim().to_lowercase();
        if in_list(p.get("ignore_status"), &lower) {
            return Ok(Parsed::Ignored { raw_status });
        }
        for (list, target) in [
            ("lead_status", "lead"),
            ("sale_status", "sale"),
            ("rejected_status", "rejected"),
        ] {
            if in_list(p.get(list), &lower) {
                status = target.to_owned();
            }
        }
    }
    let campaign = p
        .get("campaign")
        .map(CampaignKey::parse)
        .transpose()
        .map_err(|error| PostbackError::Invalid {
            field: "campaign",
            error,
        })?;

    let mut dropped = DropReport::default();
    let d = &mut dropped;
    let txid = txid(p.first_of(n.txid).unwrap_or_default(), n.txid[0], d);
    let payout = first_named(p, n.payout).and_then(|(name, v)| d.keep(name, parse_amount(v)));
    let currency = first_named(p, n.currency).and_then(|(name, v)| {
        let parsed = Currency::parse(v)
            .map_err(|e| ParseError::new(format!("{e}; the campaign's currency applies")));
        d.keep(name, parsed)
    });
    let event_time = match (tracker, p.get("event_time")) {
        (Tracker::Generic, Some(t)) => d.keep("event_time", parse_event_time(t, now)),
        _ => None,
    };
    let ip = p.get("ip").and_then(|v| d.keep("ip", parse_public_ip(v)));
    let user_agent = p
        .first_of(&["user_agent", "ua"])
        .and_then(|v| d.keep("user_agent", UserAgent::parse(v)));
    let fbclid = p
        .get("fbclid")
        .and_then(|v| d.keep("fbclid", CookieValue::parse_fbclid(v)))
        .map(|c| c.reported("fbclid", d));
    let ttclid = p
        .get("ttclid")
        .and_then(|v| d.keep("ttclid", CookieValue::parse_tiktok_id(v)))
        .map(|c| c.reported("ttclid", d));
    let url_name = match p.get("event_source_url") {
        Some(_) => "event_source_url",
        None => "url",
    };
    let event_source_url = p
        .get(url_name)
        .and_then(|v| d.keep(url_name, HttpUrl::parse(v)));
    let customer = customer(p, region, d);
    // Meta's channel for a conversion that did not happen on a web page (a call, a shop).
    let action_source = p.get("action_source").and_then(|v| {
        d.keep(
            "action_source",
            crate::domain::ActionSource::parse(v.trim()),
        )
    });

    Ok(Parsed::Conversion(Box::new(Postback {
        tracker,
        click_id,
        raw_status,
        status,
        txid,
        payout,
        currency,
        event_time,
        campaign,
        ip,
        user_agent,
        fbclid,
        ttclid,
        event_source_url,
        action_source,
        customer,
        params: super::kept_params(p),
        dropped,
    })))
}

/// The first of `names` present, with its name (a report names the parameter as sent).
/// Whether some dialect reads `name` as the payout (an amount: never personal data, so a page
/// may show its raw value).
pub fn is_payout_name(name: &str) -> bool {
    Tracker::ALL
        .iter()
        .any(|&t| names(t).payout.contains(&name))
}

fn first_named<'a>(p: &'a Params, names: &[&'static str]) -> Option<(&'static str, &'a str)> {
    names.iter().find_map(|&n| p.get(n).map(|v| (n, v)))
}

fn invalid(field: &'static str, msg: &str) -> PostbackError {
    PostbackError::Invalid {
        field,
        error: ParseError::new(msg),
    }
}

fn in_list(list: Option<&str>, word: &str) -> bool {
    list.is_some_and(|l| l.split(',').any(|w| w.trim().to_lowercase() == word))
}

/// A transaction id as stored: without control characters, and one over [`TXID_MAX`]
/// characters replaced by its SHA-256 hex, which is stable, so a repeat still matches.
fn txid(raw: &str, name: &str, d: &mut DropReport) -> String {
    let clean: String = raw.chars().filter(|c| !c.is_control()).collect();
    if clean.len() != raw.len() {
        d.push(name, "had control characters: removed");
    }
    if clean.chars().count() <= TXID_MAX {
        return clean;
    }
    d.push(
        name,
        format!("is longer than {TXID_MAX} characters: replaced by its SHA-256 hex"),
    );
    hex::encode(Sha256::digest(clean.as_bytes()))
}

fn customer(p: &Params, region: &Region, d: &mut DropReport) -> CustomerData {
    let mut data = CustomerData::default();
    for field in CustomerField::ALL {
        if let Some(raw) = p.get(field.name()) {
            let set = data.set_raw(field, raw, region);
            d.keep(field.name(), set);
        }
    }
    data
}

/// A payout as networks write it (`12,50`, `1,500`, `$40`): the one reading imports share.
fn parse_amount(s: &str) -> Result<f64, ParseError> {
    crate::domain::amount::parse_amount(s)
}

fn parse_event_time(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, ParseError> {
    let bad = || ParseError::new("must be unix seconds; the arrival time applies");
    let secs: i64 = s.trim().parse().map_err(|_| bad())?;
    let t = Utc.timestamp_opt(secs, 0).single().ok_or_else(bad)?;
    // A clock ahead of ours, or milliseconds: Meta refuses future times, use the arrival.
    Ok(t.min(now))
}

#[cfg(test)]
#[path = "dialect_tests.rs"]
mod tests;
