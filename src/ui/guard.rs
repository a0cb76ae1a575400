//! The dashboard's one guard, wrapped around every signed-in route: it opens the session (a
//! session signed in with another ADMIN_TOKEN is ended and refused) and, on every request that
//! can change something, checks the Origin and the session's CSRF token before any handler runs.
//! Handlers take the [`Session`] it leaves in the request; without the guard there is none.

use actix_multipart::Multipart;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::{stream, StreamExt, TryStreamExt};

use super::session::Session;
use super::UiError;
use crate::http::params::parse_urlencoded;

/// Enough of a multipart body to hold its first part, the token (64 hex digits, a boundary of
/// up to 70 characters and one header line).
const FIRST_PART: usize = 1024;

/// The middleware: the session, then for anything but GET/HEAD the Origin and the CSRF token.
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .cloned();
    let Some(state) = state else {
        return Ok(req.error_response(UiError::SignIn));
    };
    let session = match Session::require(req.request(), &state.pool).await {
        Ok(s) => s,
        Err(e) => return Ok(req.error_response(e)),
    };
    if !req.method().is_safe() {
        let token = match presented_token(&mut req).await {
            Ok(t) => t,
            Err(e) => return Ok(req.error_response(e)),
        };
        if let Err(e) = session.check_form(req.request(), &token) {
            return Ok(req.error_response(e));
        }
    }
    req.extensions_mut().insert(session);
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The `csrf` field of a urlencoded form, or the first part of a multipart one (browsers send
/// parts in document order, so it arrives before the file). The body is put back for the
/// handler. Any other body has no token.
async fn presented_token(req: &mut ServiceRequest) -> Result<String, actix_web::Error> {
    match req.content_type() {
        "application/x-www-form-urlencoded" => {
            // Bytes honours the app's body limit; its refusal (413) stands.
            let body = req.extract::<Bytes>().await?;
            let token = parse_urlencoded(&body)
                .ok()
                .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "csrf"))
                .map(|(_, v)| v);
            req.set_payload(Payload::from(body));
            Ok(token.ok_or(UiError::Csrf)?)
        }
        "multipart/form-data" => {
            let mut rest = req.take_payload();
            let mut head = BytesMut::new();
            while head.len() < FIRST_PART {
                match rest.next().await {
                    Some(chunk) => head.extend_from_slice(&chunk?),
                    None => break,
                }
            }
            let head = head.freeze();
            let once = |b: Bytes| stream::once(async move { Ok::<_, PayloadError>(b) });
            let mut form = Multipart::new(req.headers(), once(head.clone()));
            let token = first_csrf_part(&mut form).await;
            req.set_payload(Payload::Stream {
                payload: Box::pin(once(head).chain(rest)),
            });
            Ok(token.ok_or(UiError::Csrf)?)
        }
        _ => Err(UiError::Csrf.into()),
    }
}

/// The value of the form's first part when that part is `csrf` (a token is 64 hex digits).
async fn first_csrf_part(form: &mut Multipart) -> Option<String> {
    let mut field = form.try_next().await.ok()??;
    if field.name() != Some("csrf") {
        return None;
    }
    let mut value = Vec::new();
    while let Some(chunk) = field.next().await {
        value.extend_from_slice(&chunk.ok()?);
        if value.len() > 256 {
            return None;
        }
    }
    String::from_utf8(value).ok()
}

/// A handler's session: the one the guard opened. Outside the guard there is none, so a route
/// registered past the guard answers with the sign-in page, never with data.
impl FromRequest for Session {
    type Error = UiError;
    type Future = std::future::Ready<Result<Self, UiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.extensions().get::<Session>().cloned();
        std::future::ready(session.ok_or(UiError::SignIn))
    }
}
