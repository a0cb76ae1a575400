//! Each field's label on the form and its name in the form's messages, keyed by the name the
//! campaign service gives it: an error names what the user sees, never a field id.

/// (the service's field, the label beside its input, its name in a message: with the platform
/// when the label sits in a platform's fieldset).
const LABELS: [(&str, &str, &str); 20] = [
    ("key", "Key", "Key"),
    ("name", "Name", "Name"),
    ("pixel_id", "Pixel id", "Meta pixel id"),
    ("access_token", "Access token", "Meta access token"),
    ("event_map", "Meta event map", "Meta event map"),
    (
        "meta_send_when",
        "Send conversions to Meta",
        "Send conversions to Meta",
    ),
    ("action_source", "Action source", "Meta action source"),
    ("test_event_code", "Test event code", "Meta test event code"),
    ("tiktok.pixel_code", "Pixel code", "TikTok pixel code"),
    ("tiktok.access_token", "Access token", "TikTok access token"),
    ("tiktok.event_map", "TikTok event map", "TikTok event map"),
    (
        "tiktok.send_when",
        "Send conversions to TikTok",
        "Send conversions to TikTok",
    ),
    (
        "tiktok.test_event_code",
        "Test event code",
        "TikTok test event code",
    ),
    ("currency", "Currency", "Currency"),
    ("value_source", "Event value", "Event value"),
    (
        "event_id_template",
        "Event id template",
        "Event id template",
    ),
    ("landing_url", "Landing URL", "Landing URL"),
    (
        "late_pixel_twin",
        "Events past the pixel's 48 h dedup window",
        "Events past the pixel's 48 h dedup window",
    ),
    ("default_country", "Visitors' country", "Visitors' country"),
    (
        "date_order",
        "Dates of birth like 01/02/1990",
        "Dates of birth like 01/02/1990",
    ),
];

fn entry(field: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    LABELS.iter().find(|(f, _, _)| *f == field)
}

/// The label beside `field`'s input.
pub fn label(field: &str) -> &'static str {
    entry(field).map_or("", |e| e.1)
}

/// `field` as a message names it (a field the form does not show keeps its own name).
pub fn named(field: &str) -> String {
    entry(field).map_or_else(|| field.to_owned(), |e| e.2.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_a_label_and_a_name_and_platform_fields_say_whose() {
        for (field, label, named) in LABELS {
            assert!(!label.is_empty() && !named.is_empty(), "{field}");
            if field.starts_with("tiktok.") {
                assert!(named.contains("TikTok"), "{field}");
            }
        }
        assert_eq!(named("pixel_id"), "Meta pixel id");
        assert_eq!(named("tiktok.access_token"), "TikTok access token");
        assert_eq!(named("unknown_field"), "unknown_field");
        assert_eq!(label("tiktok.pixel_code"), "Pixel code");
    }
}
