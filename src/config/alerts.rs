//! ALERT_* and TELEGRAM_*: when the bridge tells a person that something needs them, and where.
//! The webhook URL and the bot token are secrets (a Slack webhook's path is its credential; a
//! bot token lives in Telegram's URL path): hidden from `--help`, never echoed in an error.

use std::time::Duration;

use clap::Args;
use secrecy::{ExposeSecret, SecretString};

use super::values::{parse_base_url, secret};

#[derive(Debug, Clone, Args)]
pub struct AlertConfig {
    /// Webhook alerts are POSTed to (JSON with `text`, as Slack's incoming webhooks take it,
    /// plus campaign, platform, condition, state, since, link).
    #[arg(long, env = "ALERT_WEBHOOK_URL", value_name = "ALERT_WEBHOOK_URL", hide_env_values = true, value_parser = parse_webhook_url, global = true)]
    pub alert_webhook_url: Option<String>,

    /// Telegram bot token (from @BotFather); alerts go to TELEGRAM_CHAT_ID.
    #[arg(long, env = "TELEGRAM_BOT_TOKEN", value_name = "TELEGRAM_BOT_TOKEN", hide_env_values = true, value_parser = secret("TELEGRAM_BOT_TOKEN"), global = true)]
    pub telegram_bot_token: Option<SecretString>,

    /// The Telegram chat (a user, group or channel id such as -1001234567890) alerts go to.
    #[arg(long, env = "TELEGRAM_CHAT_ID", value_name = "TELEGRAM_CHAT_ID", value_parser = parse_chat_id, global = true)]
    pub telegram_chat_id: Option<String>,

    /// Telegram Bot API base URL (tests point it at a fake).
    #[arg(long, env = "TELEGRAM_API_URL", value_name = "TELEGRAM_API_URL", default_value = "https://api.telegram.org", value_parser = parse_telegram_url, global = true)]
    pub telegram_api_url: String,

    /// Alert when a campaign's failed share of its events over the last hour passes this (at
    /// least 10 events): 20% or 0.2.
    #[arg(long, env = "ALERT_FAILURE_RATE", value_name = "ALERT_FAILURE_RATE", default_value = "20%", value_parser = parse_rate, global = true)]
    pub alert_failure_rate: f64,

    /// Alert when the oldest pending event has waited this long.
    #[arg(long, env = "ALERT_OUTBOX_AGE", value_name = "ALERT_OUTBOX_AGE", default_value = "30m", value_parser = humantime::parse_duration, global = true)]
    pub alert_outbox_age: Duration,

    /// Alert when a campaign with clicks has had no postback for this long (6h), or off.
    #[arg(long, env = "ALERT_SILENCE", value_name = "ALERT_SILENCE", default_value = "off", value_parser = parse_silence, global = true)]
    pub alert_silence: Silence,

    /// How often the alert conditions are checked.
    #[arg(long, env = "ALERT_INTERVAL", value_name = "ALERT_INTERVAL", default_value = "30s", value_parser = humantime::parse_duration, global = true)]
    pub alert_interval: Duration,
}

/// ALERT_SILENCE: `None` is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Silence(pub Option<Duration>);

fn parse_webhook_url(s: &str) -> Result<String, String> {
    // Never quote the value: it is the webhook's credential.
    parse_base_url(s)
        .map(|_| s.to_owned())
        .map_err(|_| "ALERT_WEBHOOK_URL must be an http:// or https:// URL".to_owned())
}

fn parse_telegram_url(s: &str) -> Result<String, String> {
    parse_base_url(s).map_err(|_| "TELEGRAM_API_URL must be an http:// or https:// URL".to_owned())
}

/// A numeric id (negative for groups and channels) or a public channel's `@name`.
fn parse_chat_id(s: &str) -> Result<String, String> {
    let s = s.trim();
    let numeric = s.strip_prefix('-').unwrap_or(s);
    let ok = (!numeric.is_empty() && numeric.bytes().all(|b| b.is_ascii_digit()))
        || s.strip_prefix('@').is_some_and(|n| {
            !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
    if ok {
        Ok(s.to_owned())
    } else {
        Err("TELEGRAM_CHAT_ID must be a chat id such as -1001234567890, or @channel".to_owned())
    }
}

/// `20%`, `20` (percent) or `0.2`, between 0 and 100%.
fn parse_rate(s: &str) -> Result<f64, String> {
    let s = s.trim();
    let bad = || format!("ALERT_FAILURE_RATE must be a share such as 20% or 0.2, not {s:?}");
    let value = match s.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
        None => {
            let v = s.parse::<f64>().map_err(|_| bad())?;
            if v > 1.0 {
                v / 100.0
            } else {
                v
            }
        }
    };
    if value.is_finite() && (0.0..=1.0).contains(&value) && value > 0.0 {
        Ok(value)
    } else {
        Err(bad())
    }
}

fn parse_silence(s: &str) -> Result<Silence, String> {
    if s.trim().eq_ignore_ascii_case("off") {
        return Ok(Silence(None));
    }
    match humantime::parse_duration(s.trim()) {
        Ok(d) if !d.is_zero() => Ok(Silence(Some(d))),
        _ => Err(format!(
            "ALERT_SILENCE must be a duration such as 6h, or off, not {s:?}"
        )),
    }
}

impl AlertConfig {
    /// The health check's rules with these settings: the dashboard's banners and the alerts
    /// judge alike. `unmatched_grace` is UNMATCHED_GRACE.
    pub fn health_rules(&self, unmatched_grace: Duration) -> crate::health::HealthRules {
        crate::health::HealthRules {
            failure_rate: self.alert_failure_rate,
            outbox_age: self.alert_outbox_age,
            silence: self.alert_silence.0,
            unmatched_grace,
            ..Default::default()
        }
    }

    /// Telegram's settings when both are set; one without the other is refused at start-up.
    pub fn telegram(&self) -> Result<Option<(&str, &str)>, String> {
        match (&self.telegram_bot_token, &self.telegram_chat_id) {
            (Some(token), Some(chat)) => Ok(Some((token.expose_secret(), chat))),
            (None, None) => Ok(None),
            (Some(_), None) => Err(
                "TELEGRAM_BOT_TOKEN is set without TELEGRAM_CHAT_ID: set both, \
                                    or neither"
                    .to_owned(),
            ),
            (None, Some(_)) => Err(
                "TELEGRAM_CHAT_ID is set without TELEGRAM_BOT_TOKEN: set both, \
                                    or neither"
                    .to_owned(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Cli;
    use clap::{CommandFactory, Parser};

    fn parse(args: &[&str]) -> Result<AlertConfig, clap::Error> {
        Cli::try_parse_from(std::iter::once("capi-bridge").chain(args.iter().copied()))
            .map(|c| c.config.alerts)
    }

    #[test]
    fn defaults_match_the_documented_table() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.alert_failure_rate, 0.2);
        assert_eq!(c.alert_outbox_age, Duration::from_secs(1800));
        assert_eq!(c.alert_silence, Silence(None));
        assert_eq!(c.telegram_api_url, "https://api.telegram.org");
        assert!(c.alert_webhook_url.is_none() && c.telegram().unwrap().is_none());
        let grace = Duration::from_secs(900);
        assert_eq!(c.health_rules(grace), crate::health::HealthRules::default());
    }

    #[test]
    fn reads_rates_silences_and_chat_ids() {
        for (given, rate) in [("20%", 0.2), ("5", 0.05), ("0.5", 0.5), ("100%", 1.0)] {
            let c = parse(&["--alert-failure-rate", given]).unwrap();
            assert!((c.alert_failure_rate - rate).abs() < 1e-9, "{given}");
        }
        for bad in ["0", "-5%", "150%", "lots", "NaN"] {
            let flag = format!("--alert-failure-rate={bad}");
            let err = parse(&[&flag]).unwrap_err().to_string();
            assert!(err.contains("ALERT_FAILURE_RATE"), "{bad}: {err}");
        }
        let c = parse(&["--alert-silence", "6h"]).unwrap();
        assert_eq!(
            c.alert_silence,
            Silence(Some(Duration::from_secs(6 * 3600)))
        );
        assert!(parse(&["--alert-silence", "0s"]).is_err());
        for chat in ["123456", "-1001234567890", "@my_channel"] {
            let flag = format!("--telegram-chat-id={chat}");
            assert!(parse(&[&flag]).is_ok(), "{chat}");
        }
        assert!(parse(&["--telegram-chat-id", "12 34"]).is_err());
    }

    #[test]
    fn telegram_needs_both_settings() {
        let c = parse(&["--telegram-bot-token", "123:abc"]).unwrap();
        assert!(c.telegram().unwrap_err().contains("TELEGRAM_CHAT_ID"));
        let c = parse(&["--telegram-chat-id", "42"]).unwrap();
        assert!(c.telegram().unwrap_err().contains("TELEGRAM_BOT_TOKEN"));
        let c = parse(&[
            "--telegram-bot-token",
            "123:abc",
            "--telegram-chat-id",
            "42",
        ])
        .unwrap();
        assert_eq!(c.telegram().unwrap(), Some(("123:abc", "42")));
    }

    /// The secrets never show: not in `--help` (even when set in the environment), not in the
    /// reason a bad value is refused (the one line `cli` prints).
    #[test]
    fn secrets_are_never_echoed() {
        let hook = "https://hooks.slack.com/services/T0/B0/SeCrEtPaTh";
        let err = parse_webhook_url("ftp://x/SeCrEtPaTh").unwrap_err();
        assert!(
            err.contains("ALERT_WEBHOOK_URL") && !err.contains("SeCrEtPaTh"),
            "{err}"
        );
        let err = secret("TELEGRAM_BOT_TOKEN")("123:ab cd").unwrap_err();
        assert!(!err.contains("ab cd"), "{err}");
        assert!(parse(&["--alert-webhook-url", hook]).is_ok());
        let help = Cli::command().render_long_help().to_string();
        for needle in [
            "ALERT_WEBHOOK_URL",
            "TELEGRAM_BOT_TOKEN",
            "ALERT_FAILURE_RATE",
            "20%",
        ] {
            assert!(help.contains(needle), "--help lacks {needle}");
        }
    }
}
