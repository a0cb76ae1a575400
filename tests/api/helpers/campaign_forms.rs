//! The dashboard's campaign form as a browser submits it, field by field.

/// A full create form for `key`, as the browser submits it with the defaults left alone.
pub fn create_fields<'a>(csrf: &'a str, key: &'a str, token: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("key", key),
        ("name", ""),
        ("pixel_id", "1234567890"),
        ("access_token", token),
        ("status_0", "lead"),
        ("event_0", "Lead"),
        ("status_1", "sale"),
        ("event_1", "Purchase"),
        ("status_2", "rebill"),
        ("event_2", "Purchase"),
        ("status_3", "rejected"),
        ("event_3", ""),
        ("status_4", "ftd"),
        ("event_4", "Purchase"),
        ("status_5", ""),
        ("event_5", ""),
        ("action_source", "website"),
        ("currency", "EUR"),
        ("value_source", "fixed"),
        ("value_fixed", "12.5"),
        ("event_id_template", "{event_name}-{click_id}"),
        ("landing_url", "https://lp.example.com/form"),
        ("test_event_code", ""),
        ("late_pixel_twin", "skip"),
        ("limited_data_use", "on"),
        ("enabled", "on"),
    ]
}

/// The TikTok fieldset as the browser submits it, its map at the defaults the form shows.
pub fn tiktok_fields<'a>(code: &'a str, token: &'a str, test: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("tiktok_pixel_code", code),
        ("tiktok_access_token", token),
        ("tiktok_status_0", "lead"),
        ("tiktok_event_0", "Lead"),
        ("tiktok_status_1", "sale"),
        ("tiktok_event_1", "Purchase"),
        ("tiktok_status_2", "rebill"),
        ("tiktok_event_2", "Purchase"),
        ("tiktok_status_3", "rejected"),
        ("tiktok_event_3", ""),
        ("tiktok_status_4", ""),
        ("tiktok_event_4", ""),
        ("tiktok_test_event_code", test),
    ]
}

/// `fields` with `name` set to `value` (added when absent).
pub fn with<'a>(
    mut fields: Vec<(&'a str, &'a str)>,
    name: &'a str,
    value: &'a str,
) -> Vec<(&'a str, &'a str)> {
    fields.retain(|(k, _)| *k != name);
    fields.push((name, value));
    fields
}

/// The edit form's fields: the create form's without the key.
pub fn edit_fields<'a>(csrf: &'a str, meta_token: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut fields = create_fields(csrf, "", meta_token);
    fields.retain(|(k, _)| *k != "key");
    fields
}
