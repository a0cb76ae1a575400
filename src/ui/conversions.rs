//! Conversions: the filtered list, a conversion's page (postback, payload, attempts), retries.

use actix_web::web;

pub fn configure(_cfg: &mut web::ServiceConfig) {}
