//! The campaign form's TikTok fieldset: pixel code, write-only token, test event code, its own
//! status map and, on a campaign that has TikTok, the box that removes it.

use maud::{html, Markup};

use super::map::{map_editor, map_rows, rows_from_pairs, rows_to_map};
use super::{form_value, opt, text_input, token_field, FormError, Mode};
use crate::campaigns::TikTokInput;
use crate::domain::{EventMap, PlatformKind, TikTokSettings};

/// TikTok's current standard web events (renamed in May 2025: SubmitForm -> Lead,
/// CompletePayment -> Purchase; the old names are still accepted), offered as suggestions.
const TIKTOK_EVENTS: [&str; 12] = [
    "Lead",
    "Purchase",
    "CompleteRegistration",
    "Subscribe",
    "StartTrial",
    "SubmitApplication",
    "Contact",
    "AddToCart",
    "InitiateCheckout",
    "AddPaymentInfo",
    "Download",
    "ViewContent",
];

/// The TikTok fields as typed, never the token.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TikTokValues {
    pub pixel_code: String,
    pub test_event_code: String,
    /// Status word, TikTok event (empty: not sent).
    pub rows: Vec<(String, String)>,
    /// "Remove TikTok" ticked.
    pub remove: bool,
    /// `always`, `platform_click`, empty: the default.
    pub send_when: String,
}

impl TikTokValues {
    /// The stored settings, or empty fields over TikTok's default map.
    pub fn from_settings(t: Option<&TikTokSettings>) -> Self {
        match t {
            Some(t) => TikTokValues {
                pixel_code: t.pixel_code.as_str().to_owned(),
                test_event_code: t.test_event_code.clone().unwrap_or_default(),
                rows: map_rows(&t.event_map),
                remove: false,
                send_when: super::send_when::value(t.send_when),
            },
            None => TikTokValues {
                rows: map_rows(&EventMap::tiktok_default()),
                ..TikTokValues::default()
            },
        }
    }

    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        TikTokValues {
            pixel_code: form_value(pairs, "tiktok_pixel_code"),
            test_event_code: form_value(pairs, "tiktok_test_event_code"),
            rows: rows_from_pairs(pairs, "tiktok_"),
            remove: pairs.iter().any(|(k, _)| k == "tiktok_remove"),
            send_when: form_value(pairs, "tiktok_send_when"),
        }
    }

    /// `CampaignInput.tiktok`: `None` leaves TikTok alone (nothing typed on a campaign without
    /// it; the map's defaults alone do not add it), `Some(None)` removes it, else its fields.
    pub fn to_input(
        &self,
        token: &str,
        has_tiktok: bool,
    ) -> Result<Option<Option<TikTokInput>>, FormError> {
        let token = token.trim();
        if has_tiktok && self.remove {
            return Ok(Some(None));
        }
        let typed = [
            self.pixel_code.as_str(),
            token,
            self.test_event_code.as_str(),
        ];
        if !has_tiktok && typed.iter().all(|s| s.is_empty()) {
            return Ok(None);
        }
        if has_tiktok && self.pixel_code.is_empty() {
            return Err(FormError {
                field: "tiktok.pixel_code",
                message: format!(
                    "{} is required; tick \"Remove TikTok\" to stop sending to TikTok",
                    super::named("tiktok.pixel_code")
                ),
            });
        }
        Ok(Some(Some(TikTokInput {
            pixel_code: opt(&self.pixel_code),
            access_token: opt(token),
            test_event_code: Some(opt(&self.test_event_code)),
            event_map: Some(rows_to_map(&self.rows)),
            send_when: Some(opt(&self.send_when)),
        })))
    }
}

/// The TikTok fieldset of the campaign form.
pub fn render(v: &TikTokValues, mode: Mode<'_>, error: Option<&FormError>) -> Markup {
    let editing = !matches!(mode, Mode::Create);
    let has = mode.has_tiktok();
    html! {
        fieldset.field.platform #tiktok {
            legend { "TikTok" }
            p.hint {
                @if has { "This campaign sends to TikTok's Events API." }
                @else { "Fill the pixel code and the access token (Events Manager > the pixel > Settings) to send to TikTok too, or instead of Meta." }
            }
            (text_input(error, ("tiktok_pixel_code", "tiktok.pixel_code"), &v.pixel_code,
                "Letters and digits, like C4ABCDEF0123456789."))
            (token_field(error, ("tiktok_access_token", "tiktok.access_token"), editing, has,
                "Give it with the pixel code to add TikTok."))
            (map_editor(error, ("tiktok_", "tiktok.event_map"), "TikTok", &v.rows, &TIKTOK_EVENTS))
            (super::send_when::select(error, ("tiktok_send_when", "tiktok.send_when"), PlatformKind::TikTok, &v.send_when))
            (text_input(error, ("tiktok_test_event_code", "tiktok.test_event_code"), &v.test_event_code,
                "From TikTok Events Manager > Test events. While set, every TikTok event goes to Test Events, not to optimisation: clear it for production."))
            @if has {
                div.check {
                    input #tiktok_remove type="checkbox" name="tiktok_remove" value="on" checked[v.remove];
                    label for="tiktok_remove" { "Remove TikTok from this campaign" }
                }
                p.hint { "Saving with this ticked stops sending to TikTok and cancels the TikTok events still waiting to be sent (Meta's are untouched)." }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(code: &str, test: &str) -> TikTokValues {
        TikTokValues {
            pixel_code: code.to_owned(),
            test_event_code: test.to_owned(),
            ..TikTokValues::from_settings(None)
        }
    }

    #[test]
    fn nothing_typed_leaves_tiktok_alone_and_the_default_map_is_tiktoks() {
        let v = values("", "");
        assert!(v.to_input("  ", false).unwrap().is_none());
        let map = rows_to_map(&v.rows);
        assert_eq!(map["lead"].as_deref(), Some("Lead"));
        assert_eq!(map["sale"].as_deref(), Some("Purchase"));
        assert_eq!(map["rebill"].as_deref(), Some("Purchase"));
        assert_eq!(map["rejected"], None);
    }

    #[test]
    fn typed_fields_become_the_tiktok_object() {
        let Some(Some(t)) = values("C4ABC", "")
            .to_input(" tok-0123456789 ", false)
            .unwrap()
        else {
            panic!("TikTok given");
        };
        assert_eq!(t.pixel_code.as_deref(), Some("C4ABC"));
        assert_eq!(t.access_token.as_deref(), Some("tok-0123456789"));
        assert_eq!(t.test_event_code, Some(None));
        assert_eq!(t.event_map.unwrap().len(), 4);
        // A token alone is still TikTok being added: the service names the missing pixel code.
        let Some(Some(t)) = values("", "").to_input("tok-0123456789", false).unwrap() else {
            panic!("TikTok given");
        };
        assert_eq!(t.pixel_code, None);
    }

    #[test]
    fn remove_wins_and_an_emptied_pixel_code_is_refused() {
        let mut v = values("", "");
        v.remove = true;
        assert!(matches!(v.to_input("", true), Ok(Some(None))));
        v.remove = false;
        assert_eq!(v.to_input("", true).unwrap_err().field, "tiktok.pixel_code");
        let kept = values("C4ABC", "TEST1").to_input("", true).unwrap();
        let Some(Some(t)) = kept else { panic!("kept") };
        assert_eq!(t.access_token, None, "empty keeps the token");
        assert_eq!(t.test_event_code, Some(Some("TEST1".to_owned())));
    }
}
