//! The landing tag: `GET /v1/tag.js` (the script, embedded in the binary) and the small public
//! per-campaign configuration it loads, so one `<script>` line replaces a hand-edited snippet.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::domain::{Campaign, DateOrder, EventMap};
use crate::http::ApiError;
use crate::openapi::problems::{problems, Common};
use crate::state::AppState;

/// The tag's sources in the order they run: the pure decisions first, then tag.js, the part that
/// needs a browser. `node --test tests/tag/` loads the others from this list; the browser tests
/// in `tests/api/tag_*.rs` run the whole.
const TAG_SOURCES: [&str; 6] = [
    include_str!("../tag/sha256.js"),
    include_str!("../tag/cookies.js"),
    include_str!("../tag/normalise.js"),
    include_str!("../tag/click.js"),
    include_str!("../tag/send.js"),
    include_str!("../tag/tag.js"),
];

/// The script landers load: one function holds the hashing (sha256.js), the cookie rules
/// (cookies.js), the customer-data rules (normalise.js), the click and its event ids
/// (click.js), what is sent (send.js) and the tag, so none adds a page global. Built once, at
/// first use.
static TAG_JS: LazyLock<String> = LazyLock::new(|| {
    let mut js = String::from(
        "/*! capi-bridge landing tag: Meta and TikTok cookies, click registration, \
         pixel event ids. */\n(function () {\n'use strict';\n",
    );
    for source in TAG_SOURCES {
        js.push_str(&served(source));
    }
    js.push_str("})();\n");
    js
});

/// The script `GET /v1/tag.js` serves.
pub fn tag_js() -> &'static str {
    &TAG_JS
}

/// A source as served: without its comment lines, blank lines and indentation, which are for
/// readers of src/tag/ and would cost every lander bytes. The tag has no multi-line strings,
/// so a line starting with `//` is always a comment.
fn served(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for line in source.lines().map(str::trim) {
        if !line.is_empty() && !line.starts_with("//") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The tag's budget over the wire, gzipped: `tests/api/tag.rs` holds it to this.
pub const TAG_GZIP_BUDGET: usize = 8 * 1024;

/// The tag gzipped once, at first use: what every browser gets (they all accept gzip).
static TAG_GZIP: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(TAG_JS.as_bytes())
        .and_then(|()| gz.finish())
        .expect("gzip into memory cannot fail")
});

/// The gzipped bytes `GET /v1/tag.js` sends to a client that accepts gzip.
pub fn tag_js_gzip() -> &'static [u8] {
    &TAG_GZIP
}

/// Strong validators over the exact bytes served, one per encoding (a strong ETag names one
/// representation): a new release changes them, a restart does not.
static TAG_ETAG: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(TAG_JS.as_bytes());
    format!("\"{}\"", &hex::encode(digest)[..32])
});
static TAG_GZIP_ETAG: LazyLock<String> =
    LazyLock::new(|| format!("{}-gzip\"", TAG_ETAG.trim_end_matches('"')));

/// Browsers revalidate after an hour (a cheap 304), so an upgraded bridge reaches landers soon.
const TAG_CACHE: &str = "public, max-age=3600";
/// The campaign's settings change rarely and a stale copy only delays a template change.
const CONFIG_CACHE: &str = "public, max-age=300";

problems! {
    /// What the tag's routes may answer instead.
    TagProblem: Common {
        /// A malformed request (e.g. a header value with forbidden bytes), refused before
        /// routing.
        BadRequest = (400, "bad_request"),
        CampaignNotFound = (404, "campaign_not_found"),
    }
}

/// `GET /v1/campaigns/{key}/tag-config`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagConfig {
    campaign: String,
    /// Rendered by the tag as the server renders it (`{txid}` empty).
    event_id_template: String,
    /// The Meta event names the campaign's event map sends (empty without Meta).
    events: Vec<String>,
    /// The campaign's `require_consent`: the tag waits for `capiBridge.consent(true)`.
    consent_required: bool,
    /// `null` when the campaign does not send to TikTok.
    #[schema(required = true)]
    tiktok: Option<TagConfigTikTok>,
    /// The calling code of the campaign's `default_country` (`"44"`), for national phone
    /// numbers; `null` without one. The country itself is not sent.
    #[schema(required = true)]
    calling_code: Option<String>,
    /// `mdy` or `dmy`: how slashed dates of birth read; `null` when only unambiguous ones do.
    #[schema(required = true)]
    date_order: Option<&'static str>,
}

/// The TikTok part of the tag's settings.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagConfigTikTok {
    /// The TikTok event names the campaign's TikTok map sends.
    events: Vec<String>,
    /// Meta event -> the TikTok event the same status sends: `capiBridge.track(meta)` also
    /// fires `ttq.track` with it.
    from_meta: BTreeMap<String, String>,
}

/// `GET /v1/tag.js`: gzipped when the client accepts it, else as is.
#[utoipa::path(
    get, path = "/v1/tag.js", tag = "public", operation_id = "tag_script",
    description = "The landing tag (docs/landing.md): `<script async src=\".../v1/tag.js\" \
                   data-campaign=\"KEY\">`. Cached for an hour (`Cache-Control: public, \
                   max-age=3600`), then revalidated with its strong `ETag`. Gzipped for a \
                   client that accepts gzip (`Vary: Accept-Encoding`; an `ETag` per encoding). \
                   HEAD answers the same without the body.",
    params(("If-None-Match" = Option<String>, Header,
        description = "An ETag of an earlier answer: 304 when it is still current")),
    responses(
        (status = 200, description = "The script", content_type = "text/javascript",
            body = String, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Not modified",
            headers(("ETag" = String), ("Cache-Control" = String))),
        // Its one header parameter can carry bytes HTTP forbids: the HTTP layer refuses such a
        // request before any route, with no body.
        (status = 400, description = "A malformed request (e.g. a header value with forbidden \
            bytes), refused before routing"),
        Common,
    )
)]
pub async fn script(req: HttpRequest) -> HttpResponse {
    let gzip = accepts_gzip(
        req.headers()
            .get_all(header::ACCEPT_ENCODING)
            .filter_map(|v| v.to_str().ok()),
    );
    let etag = if gzip { &*TAG_GZIP_ETAG } else { &*TAG_ETAG };
    let fresh = if_none_match(&req, etag);
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag.as_str()))
        .insert_header((header::CACHE_CONTROL, TAG_CACHE))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if fresh {
        return res.finish();
    }
    res.content_type("text/javascript; charset=utf-8");
    if gzip {
        res.insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(tag_js_gzip())
    } else {
        res.body(tag_js())
    }
}

/// Whether `Accept-Encoding` (RFC 9110 12.5.3) takes gzip: `gzip` (or `x-gzip`) with a
/// non-zero weight, or `*` with one when gzip is not named.
fn accepts_gzip<'a>(values: impl Iterator<Item = &'a str>) -> bool {
    let mut star = false;
    for item in values.flat_map(|v| v.split(',')) {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let weight = parts
            .filter_map(|p| {
                let p = p.trim();
                p.strip_prefix("q=").or_else(|| p.strip_prefix("Q="))
            })
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match coding.as_str() {
            "gzip" | "x-gzip" => return weight > 0.0,
            "*" => star = weight > 0.0,
            _ => {}
        }
    }
    star
}

/// True when the client's `If-None-Match` lists `etag` (weak comparison, as RFC 9110 asks of
/// `If-None-Match`) or is `*`.
fn if_none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// `GET /v1/campaigns/{key}/tag-config`: what the tag needs to give the pixel the server's
/// eventIDs. Public and cacheable: the template and event names are on every lander anyway.
#[utoipa::path(
    get, path = "/v1/campaigns/{key}/tag-config", tag = "public", operation_id = "tag_config",
    description = "What the landing tag needs to give each pixel (Meta's, TikTok's) the \
                   server's event ids. Public (CORS open), cached for 5 minutes, nothing secret \
                   in it.",
    params(("key" = String, Path, example = "st-offer")),
    responses(
        (status = 200, body = TagConfig, description = "The campaign's tag settings",
            headers(("Cache-Control" = String))),
        TagProblem,
    )
)]
pub async fn config(
    key: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = key.into_inner();
    let campaign = (state.campaigns.enabled(&key).await?)
        .ok_or_else(|| ApiError::no_enabled_campaign(&key))?;
    // A campaign without Meta has no Meta events for the tag to hand `fbq`.
    let events: Vec<String> = match campaign.meta {
        Some(_) => names(&campaign.event_map),
        None => Vec::new(),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, CONFIG_CACHE))
        .json(TagConfig {
            campaign: campaign.key.as_str().to_owned(),
            event_id_template: campaign.event_id_template.as_str().to_owned(),
            events,
            consent_required: campaign.require_consent,
            tiktok: tiktok_config(&campaign),
            // For the tag's phone and date normalisation: the digits national numbers get
            // (`"44"`), and how slashed dates read; the country itself is not sent.
            calling_code: campaign
                .default_country
                .and_then(|c| c.calling_code())
                .map(|code| code.to_string()),
            date_order: campaign.region().date_order.map(DateOrder::as_str),
        }))
}

fn names(map: &EventMap) -> Vec<String> {
    map.event_names()
        .into_iter()
        .map(|n| n.as_str().to_owned())
        .collect()
}

/// TikTok's part: the events its map sends (each gets an id on the click), and for each Meta
/// event the TikTok event the same status sends, so `track('Lead')` fires both pixels. When one
/// Meta event's statuses send different TikTok events, the one named alike wins, else the
/// first status word's. `null` without TikTok.
fn tiktok_config(campaign: &Campaign) -> Option<TagConfigTikTok> {
    let tiktok = campaign.tiktok.as_ref()?;
    let mut from_meta: BTreeMap<&str, &str> = BTreeMap::new();
    if campaign.meta.is_some() {
        for (word, meta) in campaign.event_map.sending() {
            let Some(Some(tt)) = tiktok.event_map.get(word) else {
                continue;
            };
            let chosen = from_meta.entry(meta.as_str()).or_insert(tt.as_str());
            if tt.as_str() == meta.as_str() {
                *chosen = tt.as_str();
            }
        }
    }
    Some(TagConfigTikTok {
        events: names(&tiktok.event_map),
        from_meta: from_meta
            .into_iter()
            .map(|(m, t)| (m.to_owned(), t.to_owned()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::{accepts_gzip, served, TAG_SOURCES};

    #[test]
    fn the_served_tag_drops_comment_lines_and_indentation_only() {
        let source = "// why\n  var a = 'http://x'; // kept\n\n    // more\n  if (a) {\n    f(/\\/\\//);\n  }\n";
        assert_eq!(
            served(source),
            "var a = 'http://x'; // kept\nif (a) {\nf(/\\/\\//);\n}\n"
        );
        // What would make a dropped line code: a string over lines (the comments may quote).
        for source in TAG_SOURCES.map(served) {
            assert!(!source.contains('`'), "a template literal in the tag");
            assert!(
                !source.lines().any(|l| l.ends_with('\\')),
                "a string over lines"
            );
        }
    }

    #[test]
    fn gzip_is_sent_only_where_accept_encoding_takes_it() {
        let cases = [
            ("gzip, deflate, br, zstd", true),
            ("br;q=1.0, gzip;q=0.8, *;q=0.1", true),
            ("GZIP", true),
            ("x-gzip", true),
            ("*", true),
            ("gzip;q=0", false),
            ("gzip;q=0, *", false),
            ("*;q=0", false),
            ("br, deflate", false),
            ("identity", false),
            ("", false),
        ];
        for (header, gzip) in cases {
            assert_eq!(accepts_gzip(std::iter::once(header)), gzip, "{header:?}");
        }
        assert!(!accepts_gzip(std::iter::empty()));
        assert!(accepts_gzip(["br", "gzip"].into_iter()));
    }
}
