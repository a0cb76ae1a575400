//! The fields of a click registration. Only the campaign and the click id identify a click;
//! any other field that cannot be used is dropped, named in the answer's `ignored` and
//! described in its `dropped` (field and reason), and the click is still stored, whoever the
//! caller. A public call comes from a visitor's browser, which controls every byte: a field it
//! has no business setting (the address or User-Agent the platforms will see) is ignored too.

use std::net::IpAddr;

use actix_web::http::header;
use actix_web::HttpRequest;
use chrono::Utc;

use super::clicks::ClickRequest;

use crate::domain::caps::{URL_MAX, USER_AGENT_MAX};
use crate::domain::parse_public_ip;
use crate::domain::Campaign;
use crate::domain::{
    Cleaned, ClickId, CookieValue, CustomerData, CustomerField, DropReport, EventIds, HttpUrl,
    ParseError, PixelFiredAt, UpdateToken, UserAgent, PIXEL_EVENT_IDS_MAX, PIXEL_EVENT_ID_MAX,
};
use crate::storage::clicks::{NewClick, Registrant};

/// What one registration's fields came to: the names not used, and why each was dropped.
#[derive(Default)]
pub(super) struct Intake {
    server_side: bool,
    pub(super) ignored: Vec<&'static str>,
    pub(super) dropped: DropReport,
}

impl Intake {
    /// Blank is "not given" (pages often send `fbclid=`); malformed or over `max` is dropped.
    fn field<T>(
        &mut self,
        v: Option<String>,
        name: &'static str,
        max: usize,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Option<T> {
        let s = match v.as_deref().map(str::trim) {
            None | Some("") => return None,
            Some(s) => s,
        };
        let parsed = if s.chars().count() > max {
            Err(ParseError::new(format!("is longer than {max} characters")))
        } else {
            parse(s)
        };
        self.keep(name, parsed)
    }

    fn keep<T>(&mut self, name: &'static str, parsed: Result<T, ParseError>) -> Option<T> {
        let kept = self.dropped.keep(name, parsed);
        if kept.is_none() {
            self.ignored.push(name);
        }
        kept
    }

    /// An opaque id (fbclid, cookies, TikTok's ids): sanitised; a change is reported.
    fn opaque(
        &mut self,
        v: Option<String>,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<Cleaned, ParseError>,
    ) -> Option<CookieValue> {
        let cleaned = self.field(v, name, usize::MAX, parse)?;
        Some(cleaned.reported(name, &mut self.dropped))
    }

    /// Values only a server-side caller may set.
    fn override_of<T>(
        &mut self,
        v: Option<String>,
        name: &'static str,
        max: usize,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Option<T> {
        if !self.server_side && v.as_deref().is_some_and(|s| !s.trim().is_empty()) {
            self.ignored.push(name);
            return None;
        }
        self.field(v, name, max, parse)
    }
}

/// The click to store, what was dropped, and the click's update token: the one offered, else
/// (none, or malformed) a new one.
pub(super) fn parse_click(
    req: &HttpRequest,
    peer: Option<IpAddr>,
    server_side: bool,
    campaign: &Campaign,
    click_id: ClickId,
    r: ClickRequest,
) -> (NewClick, Intake, UpdateToken) {
    let mut intake = Intake {
        server_side,
        ..Intake::default()
    };
    // A server-side caller's own address is not the visitor's: when the address it gave is
    // dropped, none is stored.
    let ip_given = r
        .client_ip_address
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty());
    let client_ip_address = intake
        .override_of(
            r.client_ip_address,
            "client_ip_address",
            45,
            parse_public_ip,
        )
        .or(peer.filter(|_| !(server_side && ip_given)));
    let header_ua = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| UserAgent::parse(s).ok());
    let client_user_agent = intake
        .override_of(
            r.client_user_agent,
            "client_user_agent",
            USER_AGENT_MAX,
            UserAgent::parse,
        )
        .or(header_ua);

    let mut customer = CustomerData::default();
    for (field, raw) in [
        (CustomerField::Em, r.em),
        (CustomerField::Ph, r.ph),
        (CustomerField::Fn, r.fn_),
        (CustomerField::Ln, r.ln),
        (CustomerField::Ge, r.ge),
        (CustomerField::Db, r.db),
        (CustomerField::Ct, r.ct),
        (CustomerField::St, r.st),
        (CustomerField::Zp, r.zp),
        (CustomerField::Country, r.country),
        (CustomerField::ExternalId, r.external_id),
    ] {
        if let Some(raw) = raw {
            let set = customer.set_raw(field, &raw, &campaign.region());
            intake.keep(field.name(), set);
        }
    }

    tiktok_digest(&mut intake, &mut customer, CustomerField::Ph, r.tiktok_ph);
    tiktok_digest(
        &mut intake,
        &mut customer,
        CustomerField::ExternalId,
        r.tiktok_external_id,
    );

    let event_ids = pixel_event_ids(&mut intake, r.event_ids, "event_ids");
    let tiktok_event_ids = pixel_event_ids(&mut intake, r.tiktok_event_ids, "tiktok_event_ids");
    // A browser's clock or a tag bug must not cost the click.
    let pixel_fired_at = r
        .pixel_fired_at
        .as_ref()
        .and_then(|raw| intake.keep("pixel_fired_at", PixelFiredAt::parse(raw, Utc::now())))
        .unwrap_or_default();
    let fbclid = intake.opaque(r.fbclid, "fbclid", CookieValue::parse_fbclid);
    let ttclid = intake.opaque(r.ttclid, "ttclid", CookieValue::parse_tiktok_id);
    let ttp = intake.opaque(r.ttp, "ttp", CookieValue::parse_tiktok_id);
    let fbc = intake.opaque(r.fbc, "fbc", CookieValue::parse_cookie);
    let fbp = intake.opaque(r.fbp, "fbp", CookieValue::parse_cookie);
    let event_source_url = intake.field(
        r.event_source_url,
        "event_source_url",
        URL_MAX,
        HttpUrl::parse,
    );
    let referrer_url = intake.field(r.referrer_url, "referrer_url", URL_MAX, HttpUrl::parse);
    let update_token = intake
        .field(
            r.update_token,
            "update_token",
            usize::MAX,
            UpdateToken::parse,
        )
        .unwrap_or_else(UpdateToken::generate);

    let click = NewClick {
        click_id,
        campaign_id: campaign.id,
        fbclid,
        fbc,
        fbp,
        event_source_url,
        referrer_url,
        client_ip_address,
        client_user_agent,
        consent: r.consent,
        event_ids,
        pixel_fired_at,
        customer,
        ttclid,
        ttp,
        tiktok_event_ids,
        dropped: intake.dropped.clone(),
        registrant: if server_side {
            Registrant::Key
        } else {
            Registrant::Public
        },
        update_token: update_token.hash(),
    };
    (click, intake, update_token)
}

/// TikTok's own digest of `field` made in the browser (`tiktok_ph`, `tiktok_external_id`). One
/// of no value we hold (none given, or another value's) is dropped and named.
fn tiktok_digest(
    intake: &mut Intake,
    customer: &mut CustomerData,
    field: CustomerField,
    digest: Option<String>,
) {
    let Some(digest) = digest.filter(|s| !s.trim().is_empty()) else {
        return;
    };
    let name = match field {
        CustomerField::Ph => "tiktok_ph",
        _ => "tiktok_external_id",
    };
    let given = field.name();
    let kept = customer.set_tiktok_digest(field, &digest).and_then(|kept| {
        kept.then_some(()).ok_or_else(|| {
            ParseError::new(format!(
                "is taken only with a hashed {given}, or equal to the raw {given}'s own digest"
            ))
        })
    });
    intake.keep(name, kept);
}

/// A pixel's event ids (Meta's or TikTok's): a malformed or oversize set is dropped and named.
fn pixel_event_ids(
    intake: &mut Intake,
    raw: Option<std::collections::BTreeMap<String, String>>,
    name: &'static str,
) -> EventIds {
    let raw = raw.unwrap_or_default();
    let oversize =
        raw.len() > PIXEL_EVENT_IDS_MAX || raw.values().any(|id| id.len() > PIXEL_EVENT_ID_MAX);
    let parsed = if oversize {
        Err(ParseError::new(format!(
            "holds more than {PIXEL_EVENT_IDS_MAX} ids or an id over {PIXEL_EVENT_ID_MAX} characters"
        )))
    } else {
        EventIds::parse(raw)
    };
    intake.keep(name, parsed).unwrap_or_default()
}
