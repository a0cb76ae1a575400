//! A strict fake of Meta's `GET /{version}/dataset_quality` (Dataset Quality API): it answers
//! only the fields asked for (a bare object name gets Meta's default sub-fields), answers
//! Graph's error objects, and records every request Meta would not take as Meta documents it
//! (path, `dataset_id`, bearer token, field names): [`FakeQuality::requests`] fails the test on
//! any of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Map, Value};
use wiremock::matchers::path_regex;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Meta's documented `web` tree (our own statement of it, in the reference's order).
const SCHEMA: &str = "web{event_name,event_match_quality{composite_score,\
match_key_feedback{identifier,coverage{percentage},potential_aly_acr_increase{percentage,description}},\
diagnostics{name,description,solution,percentage,affected_event_count,total_event_count}},\
event_potential_aly_acr_increase{percentage,description},acr{percentage,description},\
event_coverage{percentage,goal_percentage,description,potential_aly_acr_increase{percentage,description}},\
dedupe_key_feedback{dedupe_key,browser_events_with_dedupe_key{percentage,description},\
server_events_with_dedupe_key{percentage,description},\
overall_browser_coverage_from_dedupe_key{percentage,description}},\
data_freshness{upload_frequency,description}}";

/// What Meta returns for an object named without braces.
fn defaults(name: &str) -> &'static str {
    match name {
        "event_match_quality" => {
            "composite_score,match_key_feedback{identifier,coverage{percentage}}"
        }
        "event_coverage" | "coverage" => "percentage",
        "data_freshness" => "upload_frequency",
        "dedupe_key_feedback" => {
            "dedupe_key,browser_events_with_dedupe_key{percentage,description},\
             server_events_with_dedupe_key{percentage,description},\
             overall_browser_coverage_from_dedupe_key{percentage,description}"
        }
        _ => "percentage,description",
    }
}

/// One selected field, with its sub-selection if braces gave one.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub sub: Option<Selection>,
}

/// A parsed field selection.
pub type Selection = Vec<Field>;

/// Graph's field-expansion syntax: `a,b{c,d{e}}`.
pub fn parse_fields(s: &str) -> Result<Selection, String> {
    let (sel, rest) = parse_list(s)?;
    if rest.is_empty() {
        Ok(sel)
    } else {
        Err(format!("unbalanced braces at {rest:?}"))
    }
}

fn parse_list(mut s: &str) -> Result<(Selection, &str), String> {
    let mut out = Vec::new();
    loop {
        let end = s.find([',', '{', '}']).unwrap_or(s.len());
        let name = s[..end].trim();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(format!("bad field name {name:?}"));
        }
        s = &s[end..];
        let sub = if let Some(inner) = s.strip_prefix('{') {
            let (sub, rest) = parse_list(inner)?;
            s = rest.strip_prefix('}').ok_or("missing }")?;
            Some(sub)
        } else {
            None
        };
        out.push(Field {
            name: name.to_owned(),
            sub,
        });
        match s.strip_prefix(',') {
            Some(rest) => s = rest,
            None => return Ok((out, s)),
        }
    }
}

/// Every name in `sel` exists in `schema` at its level.
fn check_names(sel: &Selection, schema: &Selection) -> Result<(), String> {
    for Field { name, sub } in sel {
        let Some(Field { sub: known, .. }) = schema.iter().find(|f| &f.name == name) else {
            return Err(format!("(#100) Tried accessing nonexisting field ({name})"));
        };
        match (sub, known) {
            (Some(sub), Some(known)) => check_names(sub, known)?,
            (Some(_), None) => return Err(format!("(#100) {name} is not an object")),
            _ => {}
        }
    }
    Ok(())
}

/// `data` cut to what `sel` asks for.
fn project(data: &Value, sel: &Selection) -> Value {
    match data {
        Value::Array(items) => Value::Array(items.iter().map(|i| project(i, sel)).collect()),
        Value::Object(obj) => {
            let mut out = Map::new();
            for Field { name, sub } in sel {
                let Some(v) = obj.get(name) else { continue };
                let v = match sub {
                    Some(sub) => project(v, sub),
                    None if v.is_object()
                        || v.as_array().is_some_and(|a| a.iter().any(Value::is_object)) =>
                    {
                        project(v, &parse_fields(defaults(name)).unwrap())
                    }
                    None => v.clone(),
                };
                out.insert(name.clone(), v);
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// How the fake treats a token.
#[derive(Debug, Clone)]
pub enum TokenAccess {
    /// Reads every configured pixel.
    Reads,
    /// Sends events but may not read quality (Graph 100/33, as for an object it cannot see).
    NoRights,
}

#[derive(Default)]
struct State {
    /// Pixel id -> its `web` array.
    pixels: HashMap<String, Value>,
    tokens: HashMap<String, TokenAccess>,
    delay: Option<Duration>,
}

/// A request as the fake read it.
#[derive(Debug, Clone)]
pub struct QualityRequest {
    pub dataset_id: String,
    pub token: String,
    pub agent_name: Option<String>,
    pub fields: Selection,
}

#[derive(Clone, Default)]
pub struct FakeQuality {
    state: Arc<Mutex<State>>,
    version: String,
}

impl FakeQuality {
    pub async fn mount(graph: &MockServer, version: &str) -> FakeQuality {
        let fake = FakeQuality {
            version: version.to_owned(),
            ..Default::default()
        };
        Mock::given(path_regex("dataset_quality"))
            .respond_with(fake.clone())
            .mount(graph)
            .await;
        fake
    }

    pub fn pixel(&self, pixel: &str, web: Value) -> &Self {
        self.state.lock().unwrap().pixels.insert(pixel.into(), web);
        self
    }

    pub fn token(&self, token: &str, access: TokenAccess) -> &Self {
        self.state
            .lock()
            .unwrap()
            .tokens
            .insert(token.into(), access);
        self
    }

    /// Forgets a token: Meta answers 190 from now on (revoked).
    pub fn revoke(&self, token: &str) {
        self.state.lock().unwrap().tokens.remove(token);
    }

    /// Answers only after `delay` (a hanging Meta).
    pub fn hang(&self, delay: Duration) {
        self.state.lock().unwrap().delay = Some(delay);
    }

    /// Every request to dataset_quality, each checked to be one Meta takes.
    pub async fn requests(&self, graph: &MockServer) -> Vec<QualityRequest> {
        let all = graph.received_requests().await.unwrap_or_default();
        all.iter()
            .filter(|r| r.url.path().ends_with("dataset_quality"))
            .map(|r| {
                self.check(r)
                    .unwrap_or_else(|e| panic!("{} {}: {e}", r.method, r.url))
            })
            .collect()
    }

    /// What Meta documents for the request, our own rules on top (the token never in the URL).
    fn check(&self, r: &Request) -> Result<QualityRequest, String> {
        if r.method.as_str() != "GET" {
            return Err("dataset_quality is read with GET".into());
        }
        let want = format!("/{}/dataset_quality", self.version);
        if r.url.path() != want {
            return Err(format!(
                "the path must be {want} (the pixel is a parameter)"
            ));
        }
        let query: HashMap<String, String> = r.url.query_pairs().into_owned().collect();
        if query.contains_key("access_token") {
            return Err("the token travelled in the URL".into());
        }
        let dataset_id = query.get("dataset_id").ok_or("no dataset_id")?;
        if dataset_id.is_empty() || !dataset_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("dataset_id {dataset_id:?} is not an integer"));
        }
        let token = r
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or("no Authorization: Bearer token")?;
        let fields = parse_fields(query.get("fields").ok_or("no fields: web is required")?)?;
        check_names(&fields, &parse_fields(SCHEMA).unwrap())?;
        if !fields.iter().any(|f| f.name == "web") {
            return Err("fields must select web".into());
        }
        Ok(QualityRequest {
            dataset_id: dataset_id.clone(),
            token: token.to_owned(),
            agent_name: query.get("agent_name").cloned(),
            fields,
        })
    }
}

fn error(status: u16, code: i64, subcode: Option<i64>, message: &str) -> ResponseTemplate {
    let mut e = json!({"message": message, "type": "OAuthException", "code": code,
                       "fbtrace_id": "AqFakeQuality"});
    if let Some(s) = subcode {
        e["error_subcode"] = json!(s);
    }
    ResponseTemplate::new(status).set_body_json(json!({ "error": e }))
}

impl Respond for FakeQuality {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let state = self.state.lock().unwrap();
        let answer = match self.check(r) {
            Err(e) => error(400, 100, None, &e),
            Ok(q) => match (state.tokens.get(&q.token), state.pixels.get(&q.dataset_id)) {
                (None, _) => error(400, 190, Some(460), "Error validating access token: the session has been invalidated"),
                (Some(TokenAccess::NoRights), _) | (_, None) => error(
                    400,
                    100,
                    Some(33),
                    &format!("Unsupported get request. Object with ID '{}' does not exist, cannot be loaded due to missing permissions, or does not support this operation", q.dataset_id),
                ),
                (Some(TokenAccess::Reads), Some(web)) => ResponseTemplate::new(200)
                    .set_body_json(project(&json!({ "web": web }), &q.fields)),
            },
        };
        match state.delay {
            Some(d) => answer.set_delay(d),
            None => answer,
        }
    }
}

/// One event as Meta documents it, every metric present: EMQ `emq`, event coverage `coverage`.
pub fn full_event(name: &str, emq: f64, coverage: f64) -> Value {
    json!({
        "event_name": name,
        "event_match_quality": {
            "composite_score": emq,
            "match_key_feedback": [
                {"identifier": "email", "coverage": {"percentage": 62.5},
                 "potential_aly_acr_increase": {"percentage": 12.0, "description": "Similar advertisers saw more."}},
                {"identifier": "ip_address", "coverage": {"percentage": 99.9}},
                {"identifier": "fbc", "coverage": {"percentage": 20.0}}
            ],
            "diagnostics": [{"name": "Server sending mismatched IP addresses",
                "description": "Client IPs differ from the pixel's.",
                "solution": "Send the client_ip_address retrieved from customer interactions.",
                "percentage": 61.5, "affected_event_count": 195, "total_event_count": 318}]
        },
        "event_coverage": {"percentage": coverage, "goal_percentage": 75,
            "description": "Conversions API events compared to pixel events.",
            "potential_aly_acr_increase": {"percentage": 35.8, "description": "More."}},
        "dedupe_key_feedback": [{"dedupe_key": "event_id",
            "browser_events_with_dedupe_key": {"percentage": 80, "description": "Browser."},
            "server_events_with_dedupe_key": {"percentage": 100, "description": "Server."},
            "overall_browser_coverage_from_dedupe_key": {"percentage": 14.8, "description": "All."}}],
        "data_freshness": {"upload_frequency": "real_time", "description": "How often."},
        "acr": {"percentage": 37.9, "description": "In the last 7 days, 37.9% more."}
    })
}

#[test]
fn the_fake_answers_only_what_was_asked_and_refuses_unknown_fields() {
    let web = json!([full_event("Lead", 7.2, 40.0)]);
    let bare = parse_fields("web{event_name,event_match_quality,event_coverage}").unwrap();
    let got = project(&json!({ "web": web }), &bare);
    let lead = &got["web"][0];
    assert_eq!(lead["event_match_quality"]["composite_score"], 7.2);
    assert!(
        lead["event_match_quality"].get("diagnostics").is_none(),
        "{lead}"
    );
    assert_eq!(
        lead["event_match_quality"]["match_key_feedback"][0],
        json!({"identifier": "email", "coverage": {"percentage": 62.5}})
    );
    assert_eq!(lead["event_coverage"], json!({"percentage": 40.0}));
    assert!(lead.get("acr").is_none());
    let schema = parse_fields(SCHEMA).unwrap();
    assert!(
        check_names(&parse_fields("web{dedup_key_feedback}").unwrap(), &schema)
            .unwrap_err()
            .contains("nonexisting field")
    );
    assert!(check_names(
        &parse_fields("web{event_name,acr{percentage}}").unwrap(),
        &schema
    )
    .is_ok());
    assert!(parse_fields("web{event_name").is_err());
}
