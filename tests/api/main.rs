//! Integration tests: one binary, a fresh database per test, the real server on port 0 and a
//! fake Graph API (wiremock) that speaks Meta's request and error formats, and a fake TikTok.

mod helpers;

mod admin_campaigns;
mod browser;
mod click_intake;
mod clicks;
mod delivery;
mod deployment;
mod edge;
mod health_and_errors;
mod imports;
mod late_twins;
mod openapi;
mod ops;
mod platform_reads;
mod platform_retry;
mod platform_rules;
mod platforms;
mod postbacks;
mod properties;
mod quality;
mod readme;
mod real_inputs;
mod request_ids;
mod slow_target;
mod startup_checks;
mod tag;
mod tag_browser;
mod tag_install;
mod tag_tiktok_browser;
mod test_event;
mod tiktok_capture;
mod tiktok_client;
mod tiktok_delivery;
mod token_encryption;
mod ui_browser;
mod ui_campaigns;
mod ui_clicks;
mod ui_conversions;
mod ui_imports;
mod ui_overview;
mod ui_session;
