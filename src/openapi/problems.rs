//! Problem codes as enums, one per route family: each code's status lives with it, and the
//! documented answers of a route are generated from its family's enum and the common one.

use std::collections::BTreeMap;

use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

/// Declares a family's codes (`Variant = (status, "code")`) and their documented answers, merged
/// by status with those of `common` (a family declared the same way, or itself).
macro_rules! problems {
    ($(#[$doc:meta])* $name:ident $(: $common:ty)? {
        $($(#[$vdoc:meta])* $variant:ident = ($status:literal, $code:literal),)+
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)+
                }
            }

            pub fn status(self) -> u16 {
                match self {
                    $($name::$variant => $status,)+
                }
            }

            /// Every (status, code) a route of the family may answer.
            pub fn codes() -> Vec<(u16, &'static str)> {
                #[allow(unused_mut)]
                let mut all: Vec<(u16, &'static str)> =
                    Self::ALL.iter().map(|p| (p.status(), p.code())).collect();
                $(all.extend(<$common>::codes());)?
                all
            }
        }

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::Response>,
            > {
                $crate::openapi::problems::responses(&Self::codes())
            }
        }
    };
}
pub(crate) use problems;

/// One `application/problem+json` answer per status, its description listing the codes.
pub fn responses(codes: &[(u16, &str)]) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
    for (status, code) in codes {
        let list = by_status.entry(*status).or_default();
        if !list.contains(code) {
            list.push(code);
        }
    }
    by_status
        .into_iter()
        .map(|(status, list)| {
            let description = list
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let response = ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
}

problems! {
    /// What any route may answer: a wrong method, a request that never finishes, a body over
    /// 64 KiB, an unreachable database or a full write queue.
    Common {
        MethodNotAllowed = (405, "method_not_allowed"),
        RequestTimeout = (408, "request_timeout"),
        PayloadTooLarge = (413, "payload_too_large"),
        DatabaseUnavailable = (503, "database_unavailable"),
        Overloaded = (503, "overloaded"),
    }
}

problems! {
    /// What the public routes (clicks, postbacks) may answer, before their own: parameters or a
    /// body they cannot read, a wrong key, too many wrong keys.
    Public: Common {
        InvalidJson = (400, "invalid_json"),
        InvalidUtf8 = (400, "invalid_utf8"),
        BadPercentEncoding = (400, "bad_percent_encoding"),
        TooManyParameters = (400, "too_many_parameters"),
        InvalidValue = (400, "invalid_value"),
        BadRequest = (400, "bad_request"),
        Unauthorized = (401, "unauthorized"),
        RouteNotFound = (404, "route_not_found"),
        Conflict = (409, "conflict"),
        UnsupportedMediaType = (415, "unsupported_media_type"),
        InvalidField = (422, "invalid_field"),
        TooManyFailedAttempts = (429, "too_many_failed_attempts"),
    }
}

problems! {
    /// What any admin route may answer, before its own.
    Admin: Common {
        UnknownParameter = (400, "unknown_parameter"),
        InvalidParameter = (400, "invalid_parameter"),
        InvalidParameters = (400, "invalid_parameters"),
        InvalidBody = (400, "invalid_body"),
        BadRequest = (400, "bad_request"),
        Unauthorized = (401, "unauthorized"),
        TooManyFailedAttempts = (429, "too_many_failed_attempts"),
        RouteNotFound = (404, "route_not_found"),
        UnsupportedMediaType = (415, "unsupported_media_type"),
    }
}
