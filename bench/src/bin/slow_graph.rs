//! A slow link in front of the fake Graph API, for the crash run (`bench/crash`).
//!
//! `slow_graph <port> <upstream-base-url> <delay-ms>`: passes `POST /{version}/{pixel}/events`
//! on to the upstream fake at once, then holds the answer back for `delay-ms` before returning
//! it. A server killed during that wait has had its events received (and counted) by the fake
//! but never learns it, as when Meta's answer is lost: after the lease expires it sends them
//! again, and the fake sees the re-send as a duplicate event id. TikTok's
//! `POST /open_api/v1.3/event/track/` is passed on the same way, with its `Access-Token` header.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

struct Upstream {
    base: String,
    delay: Duration,
    client: reqwest::Client,
}

async fn events(req: HttpRequest, body: web::Bytes, up: web::Data<Upstream>) -> HttpResponse {
    let url = format!("{}{}", up.base, req.uri());
    let mut request = up
        .client
        .post(url)
        .header("content-type", "application/json");
    if let Some(token) = req.headers().get("access-token") {
        request = request.header("access-token", token.as_bytes());
    }
    let sent = request.body(body.to_vec()).send().await;
    let (status, body) = match sent {
        Ok(resp) => {
            let status = resp.status().as_u16();
            (status, resp.bytes().await.unwrap_or_default().to_vec())
        }
        Err(e) => (502, format!("upstream: {e}").into_bytes()),
    };
    tokio::time::sleep(up.delay).await;
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY))
        .content_type("application/json")
        .body(body)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(port), Some(base), Some(delay)) = (
        args.get(1).and_then(|p| p.parse::<u16>().ok()),
        args.get(2).cloned(),
        args.get(3).and_then(|d| d.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: slow_graph <port> <upstream-base-url> <delay-ms>");
        std::process::exit(2);
    };
    let upstream = web::Data::new(Upstream {
        base: base.trim_end_matches('/').to_owned(),
        delay: Duration::from_millis(delay),
        client: reqwest::Client::new(),
    });
    HttpServer::new(move || {
        App::new()
            .app_data(upstream.clone())
            .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
            .route("/{version}/{pixel}/events", web::post().to(events))
            .route("/open_api/v1.3/event/track/", web::post().to(events))
    })
    .workers(1)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
