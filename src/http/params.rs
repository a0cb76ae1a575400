//! Request parameters as `http` reads them: the media type, and the parameters' parsing
//! (`domain::params`, shared with trackers and imports) with its refusals as 400 problems.

pub use crate::domain::params::{is_unfilled, BadParams, Params};

use super::ApiError;

/// The media type of a request body, lowercased, without parameters (`; charset=...`).
pub fn media_type(req: &actix_web::HttpRequest) -> String {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// The pairs of an urlencoded query or body; malformed input is a 400.
pub fn parse_urlencoded(input: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    Ok(crate::domain::params::parse_urlencoded(input)?)
}

impl From<BadParams> for ApiError {
    fn from(e: BadParams) -> Self {
        ApiError::bad_request(e.code, e.detail)
    }
}

impl Params {
    /// Flattens a JSON object body; numbers and booleans become their text.
    pub fn from_json_object(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request("invalid_json", format!("invalid JSON: {e}")))?;
        let serde_json::Value::Object(map) = value else {
            return Err(ApiError::bad_request(
                "invalid_json",
                "the body must be a JSON object",
            ));
        };
        let mut pairs = Vec::with_capacity(map.len());
        for (k, v) in map {
            let s = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Null => continue,
                _ => {
                    return Err(ApiError::bad_request(
                        "invalid_json",
                        format!("{k} must be a string or a number"),
                    ))
                }
            };
            pairs.push((k, s));
        }
        Ok(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_parameters_are_a_bad_request() {
        let err = parse_urlencoded(b"a=%zz").unwrap_err();
        assert!(matches!(
            err,
            ApiError::BadRequest {
                code: "bad_percent_encoding",
                ..
            }
        ));
    }

    #[test]
    fn json_bodies_flatten_scalars() {
        let pairs = Params::from_json_object(br#"{"subid":"a","payout":1.5,"x":null}"#).unwrap();
        assert_eq!(pairs.len(), 2);
        assert!(Params::from_json_object(b"[1]").is_err());
        assert!(Params::from_json_object(br#"{"a":{"b":1}}"#).is_err());
    }
}
