//! Conversions: the filtered list, a conversion's page (postback, payload, attempts), retries,
//! and the refused postbacks.

mod detail;
mod filter;
mod list;
mod pager;
mod retry;

use actix_web::web;

pub use filter::with_query;
pub use list::table;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Fixed paths first: `{id}` would take "refused" and "retry-failed" as ids.
    cfg.service(web::resource("/ui/conversions").get(list::list))
        .service(web::resource("/ui/conversions/refused").get(list::refused))
        .service(web::resource(filter::EXPORT_PATH).get(list::export_csv))
        .service(web::resource("/ui/conversions/retry-failed").post(retry::retry_failed))
        .service(web::resource("/ui/conversions/{id}").get(detail::show))
        .service(web::resource("/ui/conversions/{id}/retry").post(retry::retry));
}
