//! The campaign form (create and edit): the values as typed, turned into the admin API's
//! [`CampaignInput`] so [`crate::campaigns`] checks them, and rendered back with its error.

use maud::{html, Markup};
use serde_json::Value;

use crate::campaigns::{CampaignError, CampaignInput};
use crate::domain::{ActionSource, Campaign, EventMap, LatePixelTwin, PlatformKind, ValueSource};

mod labels;
mod map;
mod send_when;
mod tiktok;

use labels::{label, named};

use map::{map_editor, map_rows, rows_from_pairs, rows_to_map};

pub use tiktok::TikTokValues;

/// Meta's standard events, offered as suggestions; any valid name is accepted.
const META_EVENTS: [&str; 10] = [
    "Lead",
    "Purchase",
    "CompleteRegistration",
    "Subscribe",
    "StartTrial",
    "AddToCart",
    "InitiateCheckout",
    "AddPaymentInfo",
    "Contact",
    "SubmitApplication",
];

/// Create (the key is typed) or edit (the key is fixed; `meta`/`tiktok`: the campaign sends
/// there already, so its token is set).
#[derive(Clone, Copy)]
pub enum Mode<'a> {
    Create,
    Edit {
        key: &'a str,
        meta: bool,
        tiktok: bool,
    },
}

impl<'a> Mode<'a> {
    pub fn edit(c: &'a Campaign) -> Self {
        Mode::Edit {
            key: c.key.as_str(),
            meta: c.meta.is_some(),
            tiktok: c.tiktok.is_some(),
        }
    }

    fn has_meta(self) -> bool {
        matches!(self, Mode::Edit { meta: true, .. })
    }

    fn has_tiktok(self) -> bool {
        matches!(self, Mode::Edit { tiktok: true, .. })
    }
}

/// The form's values as text, never the access token: a re-rendered form shows what was typed.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FormValues {
    pub key: String,
    pub name: String,
    pub pixel_id: String,
    pub test_event_code: String,
    pub action_source: String,
    /// Event map rows: status word, Meta event (empty: not sent).
    pub rows: Vec<(String, String)>,
    pub currency: String,
    /// `payout`, `none` or `fixed` (with `value_fixed`).
    pub value_source: String,
    pub value_fixed: String,
    pub event_id_template: String,
    pub landing_url: String,
    pub late_pixel_twin: String,
    pub require_consent: bool,
    pub limited_data_use: bool,
    pub enabled: bool,
    pub tiktok: TikTokValues,
    /// ISO alpha-2, empty: none.
    pub default_country: String,
    /// `mdy`, `dmy`, empty: derived from the country.
    pub date_order: String,
    /// Meta's `send_when`: `always`, `platform_click`, empty: the default.
    pub meta_send_when: String,
}

/// A refused form: the field to mark (empty: the form as a whole) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct FormError {
    pub field: &'static str,
    pub message: String,
}

impl FormError {
    /// The service's refusal, next to the field it names, in the words of the form's labels.
    pub fn from_campaign(e: &CampaignError) -> Self {
        let (field, message) = match e {
            CampaignError::Missing(f) => (*f, format!("{} is required", named(f))),
            CampaignError::Invalid { field, error } => (*field, format!("{}: {error}", named(field))),
            CampaignError::Exists => ("key", e.to_string()),
            CampaignError::NoPlatform => (
                "",
                format!(
                    "fill the {} and {}, or the {} and {}: a campaign sends to Meta, TikTok or both",
                    named("pixel_id"),
                    named("access_token"),
                    named("tiktok.pixel_code"),
                    named("tiktok.access_token"),
                ),
            ),
            _ => ("", e.to_string()),
        };
        FormError { field, message }
    }
}

impl FormValues {
    /// A new campaign's form, with the service's defaults.
    pub fn new_campaign() -> Self {
        FormValues {
            action_source: ActionSource::Website.as_str().to_owned(),
            rows: map_rows(&EventMap::default()),
            currency: "USD".to_owned(),
            value_source: "payout".to_owned(),
            event_id_template: "{event_name}-{click_id}".to_owned(),
            late_pixel_twin: LatePixelTwin::Send.as_str().to_owned(),
            enabled: true,
            tiktok: TikTokValues::from_settings(None),
            ..FormValues::default()
        }
    }

    pub fn from_campaign(c: &Campaign) -> Self {
        let (value_source, value_fixed) = match c.value_source {
            ValueSource::Payout => ("payout", String::new()),
            ValueSource::None => ("none", String::new()),
            ValueSource::Fixed(f) => ("fixed", f.to_string()),
        };
        FormValues {
            key: c.key.as_str().to_owned(),
            name: c.name.clone(),
            pixel_id: c
                .meta
                .as_ref()
                .map_or(String::new(), |m| m.pixel_id.as_str().to_owned()),
            test_event_code: c.test_event_code.clone().unwrap_or_default(),
            action_source: c.action_source.as_str().to_owned(),
            rows: map_rows(&c.event_map),
            currency: c.currency.as_str().to_owned(),
            value_source: value_source.to_owned(),
            value_fixed,
            event_id_template: c.event_id_template.as_str().to_owned(),
            landing_url: c
                .landing_url
                .as_ref()
                .map(|u| u.as_str().to_owned())
                .unwrap_or_default(),
            late_pixel_twin: c.late_pixel_twin.as_str().to_owned(),
            require_consent: c.require_consent,
            limited_data_use: c.limited_data_use,
            enabled: c.enabled,
            tiktok: TikTokValues::from_settings(c.tiktok.as_ref()),
            default_country: c
                .default_country
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
            date_order: c
                .date_order
                .map(|o| o.as_str().to_owned())
                .unwrap_or_default(),
            meta_send_when: send_when::value(c.meta.as_ref().and_then(|m| m.send_when)),
        }
    }

    /// The values of a submitted form (`status_N` / `event_N` rows in order of N).
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let get = |name: &str| form_value(pairs, name);
        let has = |name: &str| pairs.iter().any(|(k, _)| k == name);
        FormValues {
            key: get("key"),
            name: get("name"),
            pixel_id: get("pixel_id"),
            test_event_code: get("test_event_code"),
            action_source: get("action_source"),
            rows: rows_from_pairs(pairs, ""),
            currency: get("currency"),
            value_source: get("value_source"),
            value_fixed: get("value_fixed"),
            event_id_template: get("event_id_template"),
            landing_url: get("landing_url"),
            late_pixel_twin: get("late_pixel_twin"),
            require_consent: has("require_consent"),
            limited_data_use: has("limited_data_use"),
            enabled: has("enabled"),
            tiktok: TikTokValues::from_pairs(pairs),
            default_country: get("default_country"),
            date_order: get("date_order"),
            meta_send_when: get("meta_send_when"),
        }
    }

    /// What the admin API would have been sent. Tokens: empty keeps the current one (edit) or
    /// is missing (create). Empty optional texts clear them; an empty name keeps the current
    /// one (create: the key). Meta's pixel and token may both stay empty when TikTok is
    /// filled: the campaign then has no Meta.
    pub fn to_input(
        &self,
        meta_token: &str,
        tiktok_token: &str,
        mode: Mode<'_>,
    ) -> Result<CampaignInput, FormError> {
        let creating = matches!(mode, Mode::Create);
        if mode.has_meta() && self.pixel_id.is_empty() {
            return Err(FormError {
                field: "pixel_id",
                message: format!(
                    "{} is required: Meta's pixel can be changed, not removed",
                    named("pixel_id")
                ),
            });
        }
        let tiktok = self.tiktok.to_input(tiktok_token, mode.has_tiktok())?;
        let value_source = match self.value_source.as_str() {
            "fixed" => match self.value_fixed.parse::<f64>() {
                Ok(f) if f.is_finite() => Value::from(f),
                _ => {
                    return Err(FormError {
                        field: "value_source",
                        message: format!(
                            "{}: a fixed value must be a number >= 0, like 25.50",
                            named("value_source")
                        ),
                    })
                }
            },
            other => Value::from(other),
        };
        let event_map = rows_to_map(&self.rows);
        Ok(CampaignInput {
            key: if creating {
                Some(self.key.clone())
            } else {
                None
            },
            name: opt(&self.name),
            pixel_id: opt(&self.pixel_id),
            access_token: opt(meta_token.trim()),
            test_event_code: Some(opt(&self.test_event_code)),
            action_source: Some(self.action_source.clone()),
            event_map: Some(event_map),
            currency: Some(self.currency.clone()),
            value_source: Some(value_source),
            event_id_template: Some(self.event_id_template.clone()),
            landing_url: Some(opt(&self.landing_url)),
            late_pixel_twin: Some(self.late_pixel_twin.clone()),
            require_consent: Some(self.require_consent),
            limited_data_use: Some(self.limited_data_use),
            enabled: Some(self.enabled),
            tiktok,
            default_country: Some(opt(&self.default_country)),
            date_order: Some(opt(&self.date_order)),
            meta_send_when: Some(opt(&self.meta_send_when)),
        })
    }
}

/// `Some` of a non-empty text.
fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// A submitted field's value, trimmed; empty when absent.
fn form_value(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

/// The error line under field `name` (`tiktok.pixel_code` gets the id `tiktok_pixel_code-error`),
/// when it is the refused one.
fn error_for(error: Option<&FormError>, name: &str) -> Markup {
    html! {
        @if let Some(e) = error.filter(|e| e.field == name) {
            p.error id=(format!("{}-error", name.replace('.', "_"))) role="alert" { (e.message) }
        }
    }
}

/// A text input `id` (also its name) whose refusals (and label) name `field`.
fn text_input(
    error: Option<&FormError>,
    (id, field): (&str, &str),
    value: &str,
    hint: &str,
) -> Markup {
    html! {
        div.field {
            label for=(id) { (label(field)) }
            input id=(id) type="text" name=(id) value=(value) autocomplete="off";
            @if !hint.is_empty() { p.hint { (hint) } }
            (error_for(error, field))
        }
    }
}

fn text_field(error: Option<&FormError>, name: &str, value: &str, hint: &str) -> Markup {
    text_input(error, (name, name), value, hint)
}

/// A write-only token field: never filled in, "set"/"not set" when editing.
fn token_field(
    error: Option<&FormError>,
    (id, field): (&str, &str),
    editing: bool,
    set: bool,
    hint: &str,
) -> Markup {
    html! {
        div.field {
            label for=(id) { (label(field)) }
            input id=(id) type="password" name=(id) autocomplete="new-password";
            @if editing {
                p.hint {
                    "Currently " strong { (if set { "set" } else { "not set" }) } ". "
                    @if set {
                        "Leave empty to keep it; a new one replaces it (events parked on a token error are re-queued)."
                    } @else { (hint) }
                }
            }
            (error_for(error, field))
        }
    }
}

/// Meta's settings; all of them may stay empty on a campaign that sends to TikTok only.
fn meta_fieldset(v: &FormValues, mode: Mode<'_>, error: Option<&FormError>) -> Markup {
    let editing = !matches!(mode, Mode::Create);
    html! {
        fieldset.field.platform #meta {
            legend { "Meta" }
            p.hint {
                @if mode.has_meta() { "This campaign sends to Meta's Conversions API." }
                @else { "Fill the pixel id and the access token to send to Meta; leave both empty for a TikTok-only campaign." }
            }
            div.field {
                label for="pixel_id" { (label("pixel_id")) }
                input #pixel_id type="text" name="pixel_id" value=(v.pixel_id) required[mode.has_meta()]
                    inputmode="numeric" autocomplete="off";
                (error_for(error, "pixel_id"))
            }
            (token_field(error, ("access_token", "access_token"), editing, mode.has_meta(),
                "Give it with the pixel id to add Meta."))
            (map_editor(error, ("", "event_map"), "Meta", &v.rows, &META_EVENTS))
            (send_when::select(error, ("meta_send_when", "meta_send_when"), PlatformKind::Meta, &v.meta_send_when))
            div.field {
                label for="action_source" { (label("action_source")) }
                select #action_source name="action_source" {
                    @for a in ActionSource::ALL {
                        option value=(a.as_str()) selected[v.action_source == a.as_str()] { (a.as_str()) }
                    }
                }
                (error_for(error, "action_source"))
            }
            (text_field(error, "test_event_code", &v.test_event_code,
                "From Events Manager > Test events. While set, every Meta event goes to Test Events, not to optimisation: clear it for production."))
        }
    }
}

/// The whole form; `action` is where it posts.
pub fn render(
    v: &FormValues,
    mode: Mode<'_>,
    error: Option<&FormError>,
    csrf: &str,
    action: &str,
) -> Markup {
    let creating = matches!(mode, Mode::Create);
    html! {
        form.card.wide method="post" action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            @if let Some(e) = error {
                p.error role="alert" { "Not saved: " (e.message) }
            }
            @if creating {
                div.field {
                    label for="key" { (label("key")) }
                    input #key type="text" name="key" value=(v.key) required
                        autocomplete="off" pattern="[a-z0-9_\\-]{1,64}";
                    p.hint #key-hint {
                        "Lowercase letters, digits, - and _; it cannot change. The postback URLs on the campaign's page carry it as "
                        code { "&campaign=<key>" } ": a conversion then joins this campaign's click only, and still reaches this campaign when its click was never registered. The landing tag carries it too."
                    }
                    (error_for(error, "key"))
                }
            }
            (text_field(error, "name", &v.name, "Optional; defaults to the key."))
            p.hint { "A campaign sends each conversion to Meta, TikTok or both: fill at least one of them." }
            (meta_fieldset(v, mode, error))
            (tiktok::render(&v.tiktok, mode, error))
            (text_field(error, "currency", &v.currency, "ISO 4217, like USD or EUR: used when the postback names none."))
            div.field {
                label for="value_source" { (label("value_source")) }
                select #value_source name="value_source" {
                    option value="payout" selected[v.value_source == "payout"] { "the postback's payout" }
                    option value="none" selected[v.value_source == "none"] { "no value" }
                    option value="fixed" selected[v.value_source == "fixed"] { "a fixed value" }
                }
                label for="value_fixed" { "Fixed value (when \"a fixed value\")" }
                input #value_fixed type="text" name="value_fixed" value=(v.value_fixed) inputmode="decimal";
                (error_for(error, "value_source"))
            }
            (text_field(error, "event_id_template", &v.event_id_template,
                "{event_name}, {click_id}, {txid}, {campaign}: must match the pixel's eventID (each platform's event name)."))
            (text_field(error, "landing_url", &v.landing_url,
                "The page URL the platforms get when neither the click nor the postback has one."))
            div.field {
                label for="late_pixel_twin" { (label("late_pixel_twin")) }
                select #late_pixel_twin name="late_pixel_twin" {
                    option value="send" selected[v.late_pixel_twin == "send"] { "send anyway (may count twice)" }
                    option value="skip" selected[v.late_pixel_twin == "skip"] { "skip (may under-count)" }
                }
                (error_for(error, "late_pixel_twin"))
            }
            (text_field(error, "default_country", &v.default_country,
                "ISO code like gb or us, optional: phone numbers written without +country code get its calling code. Never sent as the visitor's country."))
            div.field {
                label for="date_order" { (label("date_order")) }
                select #date_order name="date_order" {
                    option value="" selected[v.date_order.is_empty()] { "by the visitors' country (us: month first; others: day first; none: only unambiguous dates)" }
                    option value="mdy" selected[v.date_order == "mdy"] { "month first (mdy)" }
                    option value="dmy" selected[v.date_order == "dmy"] { "day first (dmy)" }
                }
                (error_for(error, "date_order"))
            }
            div.check {
                input #require_consent type="checkbox" name="require_consent" value="on" checked[v.require_consent];
                label for="require_consent" { "Require consent (clicks without it are never sent)" }
            }
            div.check {
                input #limited_data_use type="checkbox" name="limited_data_use" value="on" checked[v.limited_data_use];
                label for="limited_data_use" { "Limited Data Use (LDU)" }
            }
            p.hint #limited_data_use-hint {
                "Meta only: its events carry " code { "data_processing_options: [\"LDU\"]" }
                " with country and state 0 (Meta geolocates the visitor), so Meta limits its use of the data of visitors in US states with privacy laws, such as California."
            }
            div.check {
                input #enabled type="checkbox" name="enabled" value="on" checked[v.enabled];
                label for="enabled" { "Enabled" }
            }
            button type="submit" { (if creating { "Create campaign" } else { "Save" }) }
        }
    }
}

#[cfg(test)]
mod tests;
