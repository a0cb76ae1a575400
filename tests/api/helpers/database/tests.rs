//! The test database helper's own tests: which server it picks, and that it drops what
//! it creates.

use super::*;

fn urls(c: Vec<Candidate>) -> Vec<(&'static str, Result<String, String>)> {
    c.into_iter().map(|c| (c.source, c.url)).collect()
}

const LOCAL: &str = "local trust-auth PostgreSQL";
const COMPOSE: &str = "compose PostgreSQL (bin/up)";

/// TEST_DATABASE_URL, POSTGRES_PORT, .env's text -> (source, URL or why not) in order.
type Case<'a> = (
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Vec<(&'a str, Result<&'a str, &'a str>)>,
);

#[test]
fn the_test_server_is_chosen_in_order() {
    let dotenv = "# bin/up\nPOSTGRES_PASSWORD=abc123\nADMIN_TOKEN=x\n";
    let cases: &[Case] = &[
        // TEST_DATABASE_URL wins alone, .env or not.
        (
            Some("postgres://u:p@db:6000/x"),
            None,
            Some(dotenv),
            vec![("TEST_DATABASE_URL", Ok("postgres://u:p@db:6000/x"))],
        ),
        // An empty TEST_DATABASE_URL counts as unset.
        (
            Some(""),
            None,
            None,
            vec![
                (LOCAL, Ok(LOCAL_SERVER)),
                (COMPOSE, Err("no .env (bin/up writes it)")),
            ],
        ),
        (
            None,
            None,
            Some(dotenv),
            vec![
                (LOCAL, Ok(LOCAL_SERVER)),
                (COMPOSE, Ok("postgres://capi:abc123@127.0.0.1:5433/capi")),
            ],
        ),
        // POSTGRES_PORT: the environment over .env over 5433.
        (
            None,
            None,
            Some("POSTGRES_PASSWORD=abc\nPOSTGRES_PORT=6543"),
            vec![
                (LOCAL, Ok(LOCAL_SERVER)),
                (COMPOSE, Ok("postgres://capi:abc@127.0.0.1:6543/capi")),
            ],
        ),
        (
            None,
            Some("7000"),
            Some("POSTGRES_PASSWORD=abc\nPOSTGRES_PORT=6543"),
            vec![
                (LOCAL, Ok(LOCAL_SERVER)),
                (COMPOSE, Ok("postgres://capi:abc@127.0.0.1:7000/capi")),
            ],
        ),
        // Quotes, export, comments, the last assignment; a password is percent-encoded.
        (
            None,
            None,
            Some("#POSTGRES_PASSWORD=old\nexport POSTGRES_PASSWORD=\"p@ss:w/rd\"\n"),
            vec![
                (LOCAL, Ok(LOCAL_SERVER)),
                (
                    COMPOSE,
                    Ok("postgres://capi:p%40ss%3Aw%2Frd@127.0.0.1:5433/capi"),
                ),
            ],
        ),
        (
            None,
            None,
            Some("POSTGRES_PASSWORD=one\nPOSTGRES_PASSWORD='two'\n"),
            vec![
                (LOCAL, Ok(LOCAL_SERVER)),
                (COMPOSE, Ok("postgres://capi:two@127.0.0.1:5433/capi")),
            ],
        ),
        (
            None,
            None,
            Some("ADMIN_TOKEN=x\nPOSTGRES_PASSWORD=\n"),
            vec![
                (LOCAL, Ok(LOCAL_SERVER)),
                (COMPOSE, Err(".env has no POSTGRES_PASSWORD")),
            ],
        ),
    ];
    for (given, port, dotenv, want) in cases {
        let want: Vec<_> = want
            .iter()
            .map(|(s, u)| (*s, u.map(str::to_owned).map_err(str::to_owned)))
            .collect();
        assert_eq!(
            urls(candidates(*given, *port, *dotenv)),
            want,
            "{given:?} {port:?} {dotenv:?}"
        );
    }
}

#[test]
fn messages_hide_the_password() {
    assert_eq!(
        redact("postgres://capi:secret@127.0.0.1:5433/capi"),
        "postgres://capi:***@127.0.0.1:5433/capi"
    );
    assert_eq!(redact(LOCAL_SERVER), LOCAL_SERVER);
}

async fn exists(name: &str) -> bool {
    let mut conn = PgConnection::connect(server_url().await).await.unwrap();
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

fn keeping() -> bool {
    let keep = std::env::var_os("KEEP_DB").is_some();
    if keep {
        eprintln!("KEEP_DB is set: test databases are kept, nothing to check");
    }
    keep
}

#[tokio::test]
async fn a_test_database_is_dropped_with_its_app_while_the_server_holds_connections() {
    if keeping() {
        return;
    }
    let app = crate::helpers::spawn_app().await;
    let name = app.database.as_ref().unwrap().name.clone();
    // The server's pool is connected; a click makes sure of it.
    app.create_campaign("cleanup", serde_json::json!({})).await;
    assert!(exists(&name).await);
    drop(app);
    assert!(!exists(&name).await, "{name} is left behind");
}

#[test]
fn a_test_database_is_dropped_when_the_test_panics() {
    if keeping() {
        return;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let panicked = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let app = crate::helpers::spawn_app().await;
                tx.send(app.database.as_ref().unwrap().name.clone())
                    .unwrap();
                panic!("a failing test");
            })
    })
    .join();
    assert!(panicked.is_err());
    let name = rx.recv().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    assert!(!rt.block_on(exists(&name)), "{name} is left behind");
}
