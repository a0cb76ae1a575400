//! capi-bridge: affiliate tracker postbacks to ad platforms' server events (Meta, TikTok).
//!
//! - [`routes`]: the HTTP surface (click capture, postbacks, admin, health)
//! - [`trackers`]: postback dialects of Keitaro, Binom, BeMob and others
//! - [`domain`]: parsed values (click ids, campaigns, hashed customer data)
//! - [`ingest`]: postback -> conversion -> outbox event, in one transaction
//! - [`campaigns`]: campaign rules and the side effects of changing one (admin API, dashboard)
//! - [`alerts`]: telling a person when something needs them (webhook, Telegram)
//! - [`delivery`]: the worker that drains the outbox, and its retry policy
//! - [`loops`]: the other background loops (retention, pruning, interrupted imports)
//! - [`platforms`]: each ad platform behind one trait: its event, its client, its answers
//! - [`export`]: CSV downloads of the lists, bounded and formula-safe
//! - [`quality`]: the match-quality report of a campaign
//! - [`health`]: what is wrong with each campaign and platform (banners, alerts)
//! - [`meta_quality`]: Meta's own verdict (EMQ, coverage, dedup) fetched per pixel
//! - [`storage`]: every SQL statement
//! - [`state`]: what every request handler shares
//! - [`config`], [`startup`], [`cli`], [`telemetry`]: running it

pub mod alerts;
pub mod campaigns;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod export;
pub mod health;
pub mod http;
pub mod ingest;
pub mod loops;
pub mod meta_quality;
pub mod metrics;
pub mod openapi;
pub mod platforms;
pub mod quality;
pub mod routes;
pub mod secrets;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod trackers;
pub mod ui;
pub mod upload;
