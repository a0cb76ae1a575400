//! Campaigns: list, create, edit, and a campaign's page (postback URLs, landing tag, quality, test event).

use actix_web::web;

pub fn configure(_cfg: &mut web::ServiceConfig) {}
