//! The first connection at start-up, made once and directly: the pool retries until its
//! timeout and then reports only "pool timed out", which names neither the variable nor where
//! it tried to connect.

use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, PgPool};

use crate::storage;

/// How long the first connection may take (DNS, TCP, TLS, authentication).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The pool for `database_url`, after one connection proved it reachable. Errors name
/// DATABASE_URL, the host and port, the user and database, never the password.
pub async fn connect(database_url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = database_url
        .parse()
        // sqlx's message may quote the URL, password included.
        .map_err(|_| anyhow!("DATABASE_URL is not a valid Postgres connection string"))?;
    let target = format!(
        "{}:{} (user {}, database {}) from DATABASE_URL",
        options.get_host(),
        options.get_port(),
        options.get_username(),
        options.get_database().unwrap_or(options.get_username()),
    );
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
        }
        Ok(Err(e)) => bail!("cannot connect to PostgreSQL at {target}: {}", reason(&e)),
        Err(_) => bail!(
            "cannot connect to PostgreSQL at {target}: no answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        ),
    }
    storage::pool(database_url, max_connections)
        .map_err(|_| anyhow!("DATABASE_URL is not a valid Postgres connection string"))
        .context("opening the connection pool")
}

/// Says once, at start-up, when the server's autovacuum does not run (`autovacuum` or
/// `track_counts` off): the planner then works without statistics and the outbox bloats, and
/// statements slow down by orders of magnitude within hours. Not a refusal: everything still works.
pub async fn warn_when_autovacuum_off(pool: &PgPool) {
    match storage::server_settings::autovacuum_runs(pool).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            "PostgreSQL's autovacuum is off (autovacuum or track_counts): statistics go stale and \
             the outbox bloats, so statements slow down over hours; turn it on, or run VACUUM \
             ANALYZE regularly (docs/operations.md#autovacuum)"
        ),
        Err(e) => tracing::warn!(error = %e, "could not read PostgreSQL's autovacuum setting"),
    }
}

/// One short reason, without sqlx's repetition of its sources.
fn reason(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused (is PostgreSQL running and listening there?)".to_owned()
        }
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Tls(tls) => format!("TLS: {tls}"),
        sqlx::Error::Database(db) if db.code().as_deref() == Some("3D000") => {
            format!("{} (create it with createdb)", db.message())
        }
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    }
}
