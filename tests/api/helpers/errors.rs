//! Helpers of the routing-error and malformed-request tests.

use reqwest::Method;

/// One malformed request against a public endpoint.
pub struct Bad {
    pub method: Method,
    pub path: String,
    pub content_type: Option<&'static str>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

pub fn get(path: impl Into<String>) -> Bad {
    Bad {
        method: Method::GET,
        path: path.into(),
        content_type: None,
        headers: vec![],
        body: vec![],
    }
}

pub fn post(path: impl Into<String>, content_type: &'static str, body: impl Into<Vec<u8>>) -> Bad {
    Bad {
        method: Method::POST,
        path: path.into(),
        content_type: Some(content_type),
        headers: vec![],
        body: body.into(),
    }
}
