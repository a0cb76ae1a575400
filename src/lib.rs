//! capi-bridge: affiliate tracker postbacks to Meta Conversions API events.
//!
//! - [`routes`]: the HTTP surface (click capture, postbacks, admin, health)
//! - [`trackers`]: postback dialects of Keitaro, Binom, BeMob and others
//! - [`capi`]: the Meta server event, its event id and fbc
//! - [`domain`]: parsed values (click ids, campaigns, hashed customer data)
//! - [`ingest`]: postback -> conversion -> outbox event, in one transaction
//! - [`campaigns`]: campaign rules and the side effects of changing one (admin API, dashboard)
//! - [`delivery`]: the worker that drains the outbox, and its retry policy
//! - [`platforms`]: each ad platform's API behind one trait (Meta)
//! - [`quality`]: the match-quality report of a campaign
//! - [`storage`]: every SQL statement
//! - [`config`], [`startup`], [`cli`], [`telemetry`]: running it

pub mod campaigns;
pub mod capi;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod http;
pub mod ingest;
pub mod metrics;
pub mod openapi;
pub mod platforms;
pub mod quality;
pub mod routes;
pub mod secrets;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod trackers;
pub mod ui;
