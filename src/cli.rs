//! The three commands: serve (default), migrate, healthcheck.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::config::{Cli, Command, Config};
use crate::startup::Application;
use crate::{storage, telemetry};

pub async fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("capi-bridge: {}", one_line(&e));
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.config).await,
        Command::Migrate => migrate(cli.config).await,
        Command::Healthcheck => return healthcheck(&cli.config).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("capi-bridge: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// One line naming the variable, not clap's usage block. A value that failed its check is
/// never repeated: it may be a mistyped secret, and start-up errors end up in logs.
fn one_line(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ErrorKind};
    use std::error::Error as _;
    if e.kind() == ErrorKind::ValueValidation {
        if let (Some(arg), Some(why)) = (e.get(ContextKind::InvalidArg), e.source()) {
            return format!("invalid value for '{arg}': {why}");
        }
    }
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("invalid arguments");
    first.trim_start_matches("error: ").to_owned()
}

async fn serve(config: Config) -> anyhow::Result<()> {
    // Check required settings before anything else so the error is the first and only line.
    config.secrets().map_err(anyhow::Error::msg)?;
    telemetry::init(config.log_format);
    let app = Application::build(config).await?;
    tracing::info!(port = app.port(), "capi-bridge listening");
    app.run_until_stopped().await
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let url = config.database_url().map_err(anyhow::Error::msg)?;
    let pool = crate::startup::connect(url, 2).await?;
    storage::migrate(&pool).await?;
    println!("migrations applied");
    Ok(())
}

async fn healthcheck(config: &Config) -> ExitCode {
    let mut addr = config.listen_addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            std::net::SocketAddr::V4(_) => [127, 0, 0, 1].into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build();
    let ok = match client {
        Ok(c) => c
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success()),
        Err(_) => false,
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        eprintln!("capi-bridge: http://{addr}/healthz is not healthy");
        ExitCode::FAILURE
    }
}
