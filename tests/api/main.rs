//! Integration tests: one binary, a fresh database per test, the real server on port 0 and a
//! fake Graph API (wiremock) that speaks Meta's request and error formats.

mod helpers;

mod admin_campaigns;
mod clicks;
mod delivery;
mod deployment;
mod health_and_errors;
mod ops;
mod postbacks;
mod properties;
mod startup_checks;
mod token_encryption;
