//! One PostgreSQL database per test: found without set-up, dropped when the test ends.
//!
//! The server is, in order: `TEST_DATABASE_URL` when set; the local trust-auth server on
//! 127.0.0.1:5432 when it answers (CI); the compose PostgreSQL that `bin/up` starts (user `capi`,
//! password `POSTGRES_PASSWORD` from `.env`, port `POSTGRES_PORT` from the environment or `.env`,
//! default 5433). `KEEP_DB=1` keeps each test's database for a look afterwards.

use std::ffi::OsStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::OnceCell;

const LOCAL_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const COMPOSE_DEFAULT_PORT: &str = "5433";

/// A server the tests may use, or why it cannot be tried.
#[derive(Debug, PartialEq, Eq)]
pub struct Candidate {
    pub source: &'static str,
    pub url: Result<String, String>,
}

/// The servers to try, in order. Pure: the environment and `.env`'s text come in as arguments.
pub fn candidates(
    test_database_url: Option<&str>,
    postgres_port: Option<&str>,
    dotenv: Option<&str>,
) -> Vec<Candidate> {
    // An explicit choice is never second-guessed by a fallback.
    if let Some(url) = test_database_url.filter(|u| !u.is_empty()) {
        return vec![Candidate {
            source: "TEST_DATABASE_URL",
            url: Ok(url.to_owned()),
        }];
    }
    let from_dotenv = |key: &str| dotenv.and_then(|text| dotenv_value(text, key));
    let port = postgres_port
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .or_else(|| from_dotenv("POSTGRES_PORT"))
        .unwrap_or_else(|| COMPOSE_DEFAULT_PORT.to_owned());
    let compose = match (dotenv, from_dotenv("POSTGRES_PASSWORD")) {
        (None, _) => Err("no .env (bin/up writes it)".to_owned()),
        (Some(_), None) => Err(".env has no POSTGRES_PASSWORD".to_owned()),
        (Some(_), Some(password)) => Ok(format!(
            "postgres://capi:{}@127.0.0.1:{port}/capi",
            percent_encode(&password)
        )),
    };
    vec![
        Candidate {
            source: "local trust-auth PostgreSQL",
            url: Ok(LOCAL_SERVER.to_owned()),
        },
        Candidate {
            source: "compose PostgreSQL (bin/up)",
            url: compose,
        },
    ]
}

/// The last `KEY=value` for `key`, as compose reads `.env` (comments, `export`, quotes).
fn dotenv_value(text: &str, key: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("export ").unwrap_or(l).split_once('='))
        .filter(|(k, _)| k.trim() == key)
        .map(|(_, v)| {
            let v = v.trim();
            let unquoted = ['"', '\'']
                .iter()
                .find_map(|q| v.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)));
            unquoted.unwrap_or(v).to_owned()
        })
        .rfind(|v| !v.is_empty())
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The URL of a server's maintenance database, chosen once per test binary.
async fn server_url() -> &'static str {
    static CHOSEN: OnceCell<String> = OnceCell::const_new();
    CHOSEN.get_or_init(choose_server).await
}

async fn choose_server() -> String {
    let dotenv = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.env")).ok();
    let given = std::env::var("TEST_DATABASE_URL").ok();
    let port = std::env::var("POSTGRES_PORT").ok();
    let mut tried = Vec::new();
    for candidate in candidates(given.as_deref(), port.as_deref(), dotenv.as_deref()) {
        let url = match candidate.url {
            Ok(url) => url,
            Err(why) => {
                tried.push(format!("{}: {why}", candidate.source));
                continue;
            }
        };
        match tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(&url)).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                return url;
            }
            Ok(Err(e)) => tried.push(format!("{} ({}): {e}", candidate.source, redact(&url))),
            Err(_) => tried.push(format!(
                "{} ({}): timed out",
                candidate.source,
                redact(&url)
            )),
        }
    }
    panic!(
        "no PostgreSQL for the tests. Tried:\n  {}\nRun bin/up (the compose PostgreSQL on \
         127.0.0.1:${{POSTGRES_PORT:-5433}}) or set TEST_DATABASE_URL to a server URL whose user \
         may create databases.",
        tried.join("\n  ")
    )
}

/// `url` without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

/// A test's own database; dropped (`WITH (FORCE)`: servers under test still hold connections)
/// when this value is, also when the test panics, unless `KEEP_DB` is set.
pub struct TestDatabase {
    pub url: String,
    pub name: String,
    server: String,
}

/// A new, empty database for one test.
pub async fn fresh_database() -> TestDatabase {
    static N: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "capi_test_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        uuid::Uuid::new_v4().simple()
    );
    let server = server_url().await.to_owned();
    let mut conn = PgConnection::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("connect to {}: {e}", redact(&server)));
    conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await
        .expect("create test database");
    let _ = conn.close().await;
    let (base, _) = server.rsplit_once('/').expect("database url has a path");
    TestDatabase {
        url: format!("{base}/{name}"),
        name,
        server,
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if std::env::var_os("KEEP_DB").is_some() {
            eprintln!("KEEP_DB: kept {}", self.name);
            return;
        }
        // Drop may run inside the test's runtime, which cannot be blocked on: a thread with its
        // own small runtime does the work.
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&server)
                    .await
                    .map_err(|e| e.to_string())?;
                conn.execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                let _ = conn.close().await;
                Ok::<_, String>(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!(
                "could not drop test database {}: thread panicked",
                self.name
            ),
        }
    }
}

impl std::ops::Deref for TestDatabase {
    type Target = str;
    fn deref(&self) -> &str {
        &self.url
    }
}

impl AsRef<OsStr> for TestDatabase {
    fn as_ref(&self) -> &OsStr {
        self.url.as_ref()
    }
}

impl std::fmt::Display for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

/// A fresh database with the service's schema, for tests of SQL alone: no server is started.
pub async fn migrated_database() -> (TestDatabase, sqlx::PgPool) {
    let database = fresh_database().await;
    let pool = sqlx::PgPool::connect(&database.url)
        .await
        .expect("connect to the test database");
    capi_bridge::storage::migrate(&pool)
        .await
        .expect("migrations apply");
    (database, pool)
}

#[cfg(test)]
mod tests;
