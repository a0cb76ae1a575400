use std::io::IsTerminal;

use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

/// JSON logs by default (one object per line for log shippers), `pretty` for humans.
/// `RUST_LOG` overrides the level; sqlx's per-statement logs are kept at warn.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        // Malformed requests from the internet are logged by actix-http as errors; they are not
        // ours, and one client could flood the log with them.
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,actix_server=warn,actix_http::h1=off"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stdout);
    // try_init: tests build several applications in one process.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            // The list carries the root span, hence the request id, also on lines written
            // inside a handler's own span.
            .with_span_list(true)
            .try_init(),
        // Colour codes only on a terminal: in a file, a pipe or `docker logs` they are noise.
        LogFormat::Pretty => builder
            .with_ansi(std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none())
            .try_init(),
    };
}
