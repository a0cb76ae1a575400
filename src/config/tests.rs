//! The command line's parsing and the settings' checks.

use super::*;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("capi-bridge").chain(args.iter().copied()))
}

#[test]
fn defaults_match_the_documented_table() {
    let cli = parse(&[]).unwrap();
    let c = cli.config;
    assert_eq!(c.listen_addr.to_string(), "0.0.0.0:8080");
    assert_eq!(c.meta_graph_url, "https://graph.facebook.com");
    assert_eq!(c.meta_api_version, "v26.0");
    assert_eq!(c.tiktok_api_url, "https://business-api.tiktok.com");
    assert_eq!(c.log_format, LogFormat::Json);
    assert_eq!(c.unmatched_grace, Duration::from_secs(900));
    assert_eq!(c.delivery_batch_max, 1000);
    assert_eq!(c.delivery_retry_delays.0.len(), 9);
    assert_eq!(c.delivery_retry_delays.0[8], Duration::from_secs(86400));
    assert_eq!(c.delivery_concurrency, 4);
    assert_eq!(c.delivery_target_concurrency, 2);
    assert!(cli.command.is_none());
}

/// `--help` says what the click budgets bound, in numbers, and no longer that a campaign key
/// "cannot fill the disk" (it can store up to its budget).
#[test]
fn help_states_what_a_public_click_may_store() {
    use clap::CommandFactory;
    let help = Cli::command().render_long_help().to_string();
    assert!(!help.contains("cannot fill the disk"), "{help}");
    for needle in [
        "CLICK_ADDRESS_NEW_LIMIT",
        "CLICK_ADDRESS_BYTES_LIMIT",
        "CLICK_CAMPAIGN_BYTES_LIMIT",
        "1000/h",
        "4MB/h",
        "100MB/h",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
    let c = parse(&[]).unwrap().config.click_budget();
    let amount = |s: super::limits::BudgetSetting| s.0.unwrap().amount;
    assert_eq!(amount(c.new_per_address), 1000.0);
    assert_eq!(amount(c.bytes_per_address), 4e6);
    assert_eq!(amount(c.bytes_per_campaign), 1e8);
    let err = parse(&["--click-address-bytes-limit", "4XB/h"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("CLICK_ADDRESS_BYTES_LIMIT"), "{err}");
}

#[test]
fn bad_values_name_the_variable() {
    let err = parse(&["--admin-token", "two words"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("ADMIN_TOKEN"), "{err}");
    let err = parse(&["--trusted-proxies", "10.0.0.0/8,nope"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("TRUSTED_PROXIES"), "{err}");
    let err = parse(&["--meta-api-version", "26"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("META_API_VERSION"), "{err}");
    assert!(parse(&["--delivery-batch-max", "1001"]).is_err());
}

#[test]
fn secrets_are_required_for_serve() {
    let cli = parse(&["--database-url", "postgres://x"]).unwrap();
    let err = cli.config.secrets().unwrap_err();
    assert!(err.starts_with("ADMIN_TOKEN"), "{err}");
    assert!(err.contains("openssl rand -hex 24"), "{err}");
}

#[test]
fn listen_addr_takes_a_bare_port_and_host_names() {
    let addr = |v: &str| parse(&["--listen-addr", v]).map(|c| c.config.listen_addr);
    assert_eq!(addr(":8080").unwrap().to_string(), "0.0.0.0:8080");
    let local = addr("localhost:8080").unwrap();
    assert!(local.ip().is_loopback() && local.port() == 8080, "{local}");
    assert_eq!(addr("127.0.0.1:9").unwrap().to_string(), "127.0.0.1:9");
    assert_eq!(addr("[::1]:8080").unwrap().to_string(), "[::1]:8080");
    for bad in ["nope", ":x", ":", "localhost", ":70000"] {
        let err = addr(bad).unwrap_err().to_string();
        assert!(err.contains("LISTEN_ADDR"), "{bad}: {err}");
    }
}

/// METRICS_TOKEN gets the checks of the other secrets; it may equal ADMIN_TOKEN (the
/// user's choice) but not the more exposed POSTBACK_KEY.
#[test]
fn metrics_token_is_checked_like_the_other_secrets() {
    let admin = "4f1c9a7e2b8d03f6a5c1e9b7d2f4a806";
    let key = "9b3e7d1f5a2c8e04b6d9f1a3c7e5b208";
    let with = |token: &str| {
        parse(&[
            "--database-url",
            "postgres://localhost/capi",
            "--admin-token",
            admin,
            "--postback-key",
            key,
            "--metrics-token",
            token,
            "--secrets-key",
            "none",
        ])
        .unwrap()
        .config
        .secrets()
    };
    assert!(with("e2a94c7f1b6d3085f9c2e4a7b1d6f308").is_ok());
    assert!(with(admin).is_ok());
    let err = with(key).unwrap_err();
    assert!(err.contains("METRICS_TOKEN and POSTBACK_KEY"), "{err}");
    let err = with("change-me-metrics-token-please").unwrap_err();
    assert!(err.starts_with("METRICS_TOKEN is a placeholder"), "{err}");
    let err = with("aaaaaaaaaaaaaaaaaaaaaaaa").unwrap_err();
    assert!(err.starts_with("METRICS_TOKEN is too weak"), "{err}");
    let err = parse(&["--metrics-addr", "nope"]).unwrap_err().to_string();
    assert!(err.contains("METRICS_ADDR"), "{err}");
}

#[test]
fn trusted_proxies_take_cidrs_and_bare_addresses() {
    let cli = parse(&["--trusted-proxies", "10.0.0.0/8, 127.0.0.1"]).unwrap();
    let p = cli.config.trusted_proxies;
    assert!(p.contains("10.1.2.3".parse().unwrap()));
    assert!(p.contains("127.0.0.1".parse().unwrap()));
    assert!(!p.contains("192.168.0.1".parse().unwrap()));
}

/// The configuration and the checked secrets are logged and printed with `{:?}`: no secret
/// may appear in either.
#[test]
fn debug_output_holds_no_secret() {
    let secrets = [
        "4f1c9a7e2b8d03f6a5c1e9b7d2f4a806",
        "9b3e7d1f5a2c8e04b6d9f1a3c7e5b208",
        "e2a94c7f1b6d3085f9c2e4a7b1d6f308",
        "71d0c5e8a3f94b26d1e8c07a5b3f9e42",
        "meta-app-secret-0c5e8a3f94b26d1e",
    ];
    let config = parse(&[
        "--database-url",
        "postgres://localhost/capi",
        "--admin-token",
        secrets[0],
        "--postback-key",
        secrets[1],
        "--postback-key-previous",
        secrets[2],
        "--metrics-token",
        secrets[3],
        "--meta-app-secret",
        secrets[4],
        "--secrets-key",
        "none",
    ])
    .unwrap()
    .config;
    let printed = format!("{config:?} {:?}", config.secrets().unwrap());
    for secret in secrets {
        assert!(!printed.contains(secret), "{secret} in {printed}");
    }
}
