//! HTTP plumbing shared by the routes: problem bodies, authentication and its failure limit,
//! strict parameter parsing, the client's address, and the request span.

pub mod auth;
pub mod auth_limit;
pub mod click_budget;
pub mod client_ip;
pub mod error;
pub mod framework_errors;
pub mod params;
pub mod proxy_hint;
pub mod rate_limit;
pub mod request_id;
pub mod request_span;

/// Largest request body any endpoint takes (an import upload has its own).
pub const BODY_LIMIT: usize = 64 * 1024;

pub use error::ApiError;
