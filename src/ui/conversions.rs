//! Conversions: the filtered list, a conversion's page (postback, payload, attempts), retries,
//! and the refused postbacks.

pub(super) mod detail;
pub(super) mod filter;
pub(super) mod list;
mod pager;
pub(super) mod retry;

pub use filter::with_query;
pub use list::table;
