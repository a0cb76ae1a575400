//! Clicks: look up a click by id (hashes only), erase it.

use actix_web::web;

pub fn configure(_cfg: &mut web::ServiceConfig) {}
