//! Import: upload a CSV of offline conversions and watch it progress.

use actix_web::web;

pub fn configure(_cfg: &mut web::ServiceConfig) {}
