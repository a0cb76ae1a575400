//! A gate in front of a fake platform: a request that mentions a chosen string (a Meta pixel in
//! the path, a TikTok pixel code in the body) waits until the test opens the gate; every other
//! request goes straight through to the fake. So a test can hang one endpoint for as long as it
//! likes and see what else is delivered meanwhile, without guessing at times.

use std::sync::Arc;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use tokio::sync::watch;

pub struct Gate {
    /// Where the server under test sends its requests.
    pub uri: String,
    state: Arc<State>,
    server: actix_web::dev::ServerHandle,
}

struct State {
    needle: String,
    upstream: String,
    open: watch::Sender<bool>,
    /// Requests waiting at the gate now.
    held: watch::Sender<usize>,
    client: reqwest::Client,
}

impl Gate {
    /// A closed gate in front of `upstream` for requests that mention `needle`.
    pub async fn start(upstream: &str, needle: &str) -> Gate {
        let state = Arc::new(State {
            needle: needle.to_owned(),
            upstream: upstream.trim_end_matches('/').to_owned(),
            open: watch::channel(false).0,
            held: watch::channel(0).0,
            client: reqwest::Client::new(),
        });
        let data = web::Data::from(Arc::clone(&state));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(pass))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .expect("gate binds");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Gate {
            uri: format!("http://127.0.0.1:{port}"),
            state,
            server: handle,
        }
    }

    /// Waits until `n` requests are held at the gate (at most 30 s).
    pub async fn holding(&self, n: usize) {
        let mut held = self.state.held.subscribe();
        let within = std::time::Duration::from_secs(30);
        let waited = tokio::time::timeout(within, held.wait_for(|h| *h >= n))
            .await
            .is_ok();
        assert!(waited, "{} requests held, waiting for {n}", self.held());
    }

    /// Requests waiting at the gate now.
    pub fn held(&self) -> usize {
        *self.state.held.borrow()
    }

    /// Lets the held requests, and all later ones, through.
    pub fn open(&self) {
        self.state.open.send_replace(true);
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.open();
        let server = self.server.clone();
        tokio::spawn(async move { server.stop(false).await });
    }
}

async fn pass(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let needle = state.needle.as_bytes();
    let mentioned =
        target.contains(&state.needle) || body.windows(needle.len()).any(|w| w == needle);
    if mentioned {
        state.held.send_modify(|n| *n += 1);
        let mut open = state.open.subscribe();
        let _ = open.wait_for(|o| *o).await;
        state.held.send_modify(|n| *n -= 1);
    }
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).unwrap();
    let mut forward = state
        .client
        .request(method, format!("{}{target}", state.upstream));
    for (name, value) in req.headers() {
        if !matches!(name.as_str(), "host" | "content-length") {
            forward = forward.header(name.as_str(), value.as_bytes());
        }
    }
    let answer = forward.body(body).send().await.expect("the fake answers");
    let status = actix_web::http::StatusCode::from_u16(answer.status().as_u16()).unwrap();
    let mut response = HttpResponse::build(status);
    for (name, value) in answer.headers() {
        if !matches!(
            name.as_str(),
            "content-length" | "transfer-encoding" | "connection"
        ) {
            response.insert_header((name.as_str(), value.as_bytes()));
        }
    }
    response.body(answer.bytes().await.expect("the fake's body"))
}
