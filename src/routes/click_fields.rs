//! The fields of a click registration. A public call comes from a visitor's browser, which
//! controls every byte: a field it has no business setting (the address or User-Agent Meta
//! will see), an oversize value or a malformed Meta cookie is dropped and named in the answer's
//! `ignored`, and the click is still stored. A server-side caller (with the postback key) is
//! trusted to set those and gets a 422 naming the field instead, so its bugs surface.

use std::net::IpAddr;

use actix_web::http::header;
use actix_web::HttpRequest;
use chrono::Utc;

use super::clicks::ClickRequest;

use crate::domain::Campaign;
use crate::domain::{
    ClickId, CookieValue, CustomerData, CustomerField, EventIds, HttpUrl, ParseError, PixelFiredAt,
    UserAgent, PIXEL_EVENT_IDS_MAX, PIXEL_EVENT_ID_MAX, TIKTOK_ID_MAX,
};
use crate::http::client_ip::is_public;
use crate::http::ApiError;
use crate::storage::clicks::NewClick;

/// Stored caps, sized to real values, so one visitor's click stays small.
const FBCLID_MAX: usize = 300;
const URL_MAX: usize = 2048;
const USER_AGENT_MAX: usize = 512;

struct Intake {
    server_side: bool,
    ignored: Vec<&'static str>,
}

impl Intake {
    /// Blank is "not given" (pages often send `fbclid=`). Over `max`, or malformed when
    /// `droppable`, a public call loses the field; anything else is a 422.
    fn field<T>(
        &mut self,
        v: Option<String>,
        name: &'static str,
        max: usize,
        droppable: bool,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Result<Option<T>, ApiError> {
        let s = match v.as_deref().map(str::trim) {
            None | Some("") => return Ok(None),
            Some(s) => s,
        };
        let parsed = if s.len() > max {
            Err(ParseError::new(format!("must be at most {max} characters")))
        } else {
            parse(s)
        };
        match parsed {
            Ok(v) => Ok(Some(v)),
            Err(_) if !self.server_side && (droppable || s.len() > max) => {
                self.ignored.push(name);
                Ok(None)
            }
            Err(e) => Err(ApiError::invalid_field(name, e)),
        }
    }

    /// Values only a server-side caller may set.
    fn override_of<T>(
        &mut self,
        v: Option<String>,
        name: &'static str,
        max: usize,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Result<Option<T>, ApiError> {
        if !self.server_side && v.as_deref().is_some_and(|s| !s.trim().is_empty()) {
            self.ignored.push(name);
            return Ok(None);
        }
        self.field(v, name, max, false, parse)
    }
}

fn public_ip(s: &str) -> Result<IpAddr, ParseError> {
    let ip: IpAddr = s
        .parse()
        .map_err(|_| ParseError::new("is not an IPv4 or IPv6 address"))?;
    if !is_public(ip) {
        return Err(ParseError::new(
            "is not a public address (private, loopback, link-local, CGNAT and other \
             special-purpose ranges are refused)",
        ));
    }
    Ok(ip.to_canonical())
}

pub(super) fn parse_click(
    req: &HttpRequest,
    peer: Option<IpAddr>,
    server_side: bool,
    campaign: &Campaign,
    click_id: ClickId,
    r: ClickRequest,
) -> Result<(NewClick, Vec<&'static str>), ApiError> {
    let mut intake = Intake {
        server_side,
        ignored: Vec::new(),
    };
    let client_ip_address = intake
        .override_of(r.client_ip_address, "client_ip_address", 45, public_ip)?
        .or(peer);
    let header_ua = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .filter(|s| s.len() <= USER_AGENT_MAX)
        .and_then(|s| UserAgent::parse(s).ok());
    let client_user_agent = intake
        .override_of(
            r.client_user_agent,
            "client_user_agent",
            USER_AGENT_MAX,
            UserAgent::parse,
        )?
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
            customer
                .set_raw(field, &raw, &campaign.region())
                .map_err(|e| ApiError::invalid_field(field.name(), e))?;
        }
    }

    tiktok_digest(&mut intake, &mut customer, CustomerField::Ph, r.tiktok_ph)?;
    tiktok_digest(
        &mut intake,
        &mut customer,
        CustomerField::ExternalId,
        r.tiktok_external_id,
    )?;

    let event_ids = pixel_event_ids(&mut intake, r.event_ids, "event_ids")?;
    let tiktok_event_ids = pixel_event_ids(&mut intake, r.tiktok_event_ids, "tiktok_event_ids")?;
    // A browser's clock or a tag bug must not cost the click: dropped and named, like a
    // malformed cookie.
    let pixel_fired_at = match r
        .pixel_fired_at
        .as_ref()
        .map(|raw| PixelFiredAt::parse(raw, Utc::now()))
    {
        None => PixelFiredAt::default(),
        Some(Ok(p)) => p,
        Some(Err(_)) if !server_side => {
            intake.ignored.push("pixel_fired_at");
            PixelFiredAt::default()
        }
        Some(Err(e)) => return Err(ApiError::invalid_field("pixel_fired_at", e)),
    };
    let fbclid = intake.field(
        r.fbclid,
        "fbclid",
        FBCLID_MAX,
        false,
        CookieValue::parse_fbclid,
    )?;
    // Opaque to us, so no shape to get wrong: a malformed one is a bug worth a 422, like fbclid.
    let ttclid = intake.field(
        r.ttclid,
        "ttclid",
        TIKTOK_ID_MAX,
        false,
        CookieValue::parse_tiktok_id,
    )?;
    let ttp = intake.field(
        r.ttp,
        "ttp",
        TIKTOK_ID_MAX,
        false,
        CookieValue::parse_tiktok_id,
    )?;
    let fbc = intake.field(r.fbc, "fbc", usize::MAX, true, CookieValue::parse_cookie)?;
    let fbp = intake.field(r.fbp, "fbp", usize::MAX, true, CookieValue::parse_cookie)?;
    let event_source_url = intake.field(
        r.event_source_url,
        "event_source_url",
        URL_MAX,
        false,
        HttpUrl::parse,
    )?;
    let referrer_url = intake.field(
        r.referrer_url,
        "referrer_url",
        URL_MAX,
        false,
        HttpUrl::parse,
    )?;

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
    };
    Ok((click, intake.ignored))
}

/// TikTok's own digest of `field` made in the browser (`tiktok_ph`, `tiktok_external_id`). One
/// of no value we hold (none given, or another value's): a browser's is dropped and named, like
/// a malformed cookie; a server-side caller's is a 422.
fn tiktok_digest(
    intake: &mut Intake,
    customer: &mut CustomerData,
    field: CustomerField,
    digest: Option<String>,
) -> Result<(), ApiError> {
    let Some(digest) = digest.filter(|s| !s.trim().is_empty()) else {
        return Ok(());
    };
    let name = match field {
        CustomerField::Ph => "tiktok_ph",
        _ => "tiktok_external_id",
    };
    let kept = customer
        .set_tiktok_digest(field, &digest)
        .map_err(|e| ApiError::invalid_field(name, e))?;
    if !kept && intake.server_side {
        let given = field.name();
        return Err(ApiError::invalid_field(
            name,
            ParseError::new(format!(
                "is taken only with a hashed {given}, or equal to the raw {given}'s own digest"
            )),
        ));
    }
    if !kept {
        intake.ignored.push(name);
    }
    Ok(())
}

/// A pixel's event ids (Meta's or TikTok's): an oversize set from a browser is dropped and
/// named, anything else malformed is a 422 naming `name`.
fn pixel_event_ids(
    intake: &mut Intake,
    raw: Option<std::collections::BTreeMap<String, String>>,
    name: &'static str,
) -> Result<EventIds, ApiError> {
    let raw = raw.unwrap_or_default();
    let oversize =
        raw.len() > PIXEL_EVENT_IDS_MAX || raw.values().any(|id| id.len() > PIXEL_EVENT_ID_MAX);
    if oversize && !intake.server_side {
        intake.ignored.push(name);
        return Ok(EventIds::default());
    }
    EventIds::parse(raw).map_err(|e| ApiError::invalid_field(name, e))
}
