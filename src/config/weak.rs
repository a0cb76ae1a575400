//! Refuses secrets an attacker could guess before `serve` exposes anything with them: the
//! placeholders of `.env.example` and of documentation, one value reused for two settings, and
//! values a strength estimator (zxcvbn) finds guessable.

/// How to make a value that passes, quoted in every refusal.
pub const GENERATE: &str = "generate one with: openssl rand -hex 24";

/// Markers of a value copied from an example rather than generated (case-insensitive).
const PLACEHOLDERS: &[&str] = &[
    "change-me",
    "changeme",
    "change_me",
    "replace-me",
    "replaceme",
    "replace_me",
    "placeholder",
    "example",
    "your-",
    "your_",
];

/// Shortest value taken: `openssl rand -base64 16` prints 24 characters, the least of
/// openssl's outputs that passes.
pub const MIN_CHARS: usize = 24;

/// Fewest guesses (a power of ten) zxcvbn must estimate. 10^18 guesses at the 8,000 a second
/// one address managed against `/admin/v1` take four million years; the guessable values a
/// security probe found score 10^1.8 to 10^16.8, while every random value of 24 base64 or 32
/// hex characters gets zxcvbn's ceiling, 10^19.3 (its count saturates a u64).
pub const MIN_GUESSES_LOG10: f64 = 18.0;

/// This service's words, which a guesser tries first (zxcvbn's "user inputs").
const SERVICE_WORDS: &[&str] = &[
    "capi", "bridge", "admin", "token", "postback", "key", "metrics", "secret",
];

/// Checks one secret setting; the error names the variable but never echoes the value. The rule:
/// no placeholder marker, at least [`MIN_CHARS`] characters, and at least 10^[`MIN_GUESSES_LOG10`]
/// guesses by zxcvbn (dictionary words, names, keyboard runs, sequences, repeats, dates, l33t).
pub fn check(name: &str, value: &str) -> Result<(), String> {
    let lower = value.to_lowercase();
    if PLACEHOLDERS.iter().any(|p| lower.contains(p)) {
        return Err(format!(
            "{name} is a placeholder value, not a secret; {GENERATE}"
        ));
    }
    let chars = value.chars().count();
    if chars < MIN_CHARS {
        return Err(format!(
            "{name} is too weak: {chars} characters, fewer than {MIN_CHARS}; {GENERATE}"
        ));
    }
    let guesses = guesses_log10(value);
    if guesses < MIN_GUESSES_LOG10 {
        return Err(format!(
            "{name} is too weak: guessable in about 10^{guesses:.0} tries (words, keyboard runs, \
             sequences, repeats or dates; needs 10^{MIN_GUESSES_LOG10:.0}); {GENERATE}"
        ));
    }
    Ok(())
}

/// zxcvbn's estimate of the guesses `value` needs, as a power of ten (it reads the first 100
/// characters).
fn guesses_log10(value: &str) -> f64 {
    zxcvbn::zxcvbn(value, SERVICE_WORDS).guesses_log10()
}

/// The admin token and the postback key must differ: postback URLs sit in trackers and
/// networks' dashboards, so the postback key is the more exposed of the two.
pub fn check_distinct(admin_token: &str, postback_key: &str) -> Result<(), String> {
    if admin_token.eq_ignore_ascii_case(postback_key) {
        Err(format!(
            "ADMIN_TOKEN and POSTBACK_KEY must differ (postback URLs are seen by trackers and \
             networks, and would grant admin access); {GENERATE}"
        ))
    } else {
        Ok(())
    }
}

/// A DATABASE_URL whose password is still the example's. Only placeholder markers count here:
/// the database password may be managed elsewhere and is not reachable from the internet.
pub fn check_database_password(url: &str) -> Result<(), String> {
    let password = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.password().map(str::to_lowercase))
        .unwrap_or_default();
    if PLACEHOLDERS.iter().any(|p| password.contains(p)) {
        Err(
            "DATABASE_URL's password is a placeholder (POSTGRES_PASSWORD in .env?); \
             generate one with: openssl rand -hex 24, and change it in Postgres too"
                .to_owned(),
        )
    } else {
        Ok(())
    }
}

#[cfg(test)]
#[path = "weak_tests.rs"]
mod tests;
