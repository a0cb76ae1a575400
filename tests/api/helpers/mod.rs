//! Test helpers, by subject: the app under test (`app`, `requests`), its database
//! (`database`, `outbox`), fakes of Meta (`meta`, `dataset_quality`), TikTok (`tiktok`) and
//! alert channels (`alerts`), the dashboard (`ui`), clicks and leads (`leads`), problem answers
//! (`problems`), the deployed binary (`serve`) and waiting on it (`wait`), and a gate in front
//! of a fake (`gate`). The common ones are re-exported here, so tests `use crate::helpers::*`.

pub mod admin_campaigns;
pub mod alerts;
mod app;
pub mod browser;
pub mod browser_ui;
pub mod campaign_forms;
pub mod clicks;
pub mod csv;
mod database;
pub mod dataset_quality;
pub mod delivery;
pub mod errors;
pub mod gate;
pub mod imports;
pub mod leads;
pub mod meta;
pub mod ops;
pub mod outbox;
pub mod postbacks;
pub mod problems;
pub mod properties;
pub mod quality;
mod requests;
pub mod serve;
pub mod tiktok;
pub mod tiktok_capture;
pub mod tiktok_delivery;
pub mod ui;
pub mod ui_campaigns;
mod wait;

pub use app::{spawn_app, spawn_app_with, spawn_on, TestApp};
pub use database::{fresh_database, migrated_database, TestDatabase};
pub use leads::{lead_via, queue_lead, queue_lead_via, take_update_token, Queued};
pub use meta::{graph_error, mount_graph_ok, received, GraphOk};
pub use problems::{assert_problem, assert_problem_headers};
pub use requests::urlencode;
pub use serve::{binary, free_port, spawn_serve};
pub use wait::wait_for;

pub const ADMIN_TOKEN: &str = "test-admin-ca4ddd315e3f24c17a0a8332817682ce";
pub const POSTBACK_KEY: &str = "test-postback-406bf47557725e37438f9e564d014fd2";
pub const METRICS_TOKEN: &str = "test-metrics-7c1e0b9f42d86a53e1f0c4b2a9d7e635";
/// In `spawn_app_with`'s arguments: start without METRICS_TOKEN (not passed to the server).
pub const NO_METRICS_TOKEN: &str = "--test-no-metrics-token";
pub const ACCESS_TOKEN: &str = "EAAtest-access-token-987654321";
/// The landing page `create_campaign` gives every campaign: the `event_source_url` of events
/// whose click registered none.
pub const LANDING_URL: &str = "https://lp.example.com/offer";
/// A random AES-256 key: every test server's SECRETS_KEY unless the test chooses another.
pub const TEST_SECRETS_KEY: &str =
    "0265f25df38ba7b214fcce02add73d8f1921ae822574b76937ccd641b0d6700a";
pub const BROWSER_UA: &str =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
