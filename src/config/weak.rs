//! Refuses secrets an attacker could guess before `serve` exposes anything with them: the
//! placeholders of `.env.example` and of documentation, one value reused for two settings, and
//! values too regular to have come from a random source.

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

/// Dictionary words and keyboard runs: the first things a guesser tries.
const DICTIONARY: &[&str] = &["secret", "password", "123456", "qwerty", "letmein"];

/// Estimated bits below which a value is too regular to be random: the Shannon entropy of its
/// own characters times its length. 48 hex digits (`openssl rand -hex 24`) score about 180; a
/// 24-character random base64 value about 100; `aaaaaaaaaaaaaaaa` 0.
const MIN_BITS: f64 = 64.0;
/// Repetitive values (`abababab...`, `1111222233334444`) use few distinct characters.
const MIN_DISTINCT: usize = 10;

/// Checks one secret setting; the error names the variable but never echoes the value.
pub fn check(name: &str, value: &str) -> Result<(), String> {
    let lower = value.to_lowercase();
    if PLACEHOLDERS.iter().any(|p| lower.contains(p)) {
        return Err(format!(
            "{name} is a placeholder value, not a secret; {GENERATE}"
        ));
    }
    if DICTIONARY.iter().any(|p| lower.contains(p)) {
        return Err(format!(
            "{name} contains a dictionary word or keyboard run (secret, password, 123456, ...); {GENERATE}"
        ));
    }
    let (distinct, bits) = estimate(value);
    if distinct < MIN_DISTINCT || bits < MIN_BITS {
        return Err(format!(
            "{name} is too weak: about {bits:.0} bits from {distinct} distinct characters \
             (needs {MIN_BITS:.0} bits and {MIN_DISTINCT} distinct characters); {GENERATE}"
        ));
    }
    Ok(())
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

/// (distinct characters, Shannon entropy of the character frequencies times the length).
fn estimate(value: &str) -> (usize, f64) {
    let mut counts = std::collections::HashMap::<char, usize>::new();
    for c in value.chars() {
        *counts.entry(c).or_default() += 1;
    }
    let n = value.chars().count() as f64;
    let per_char: f64 = counts
        .values()
        .map(|&k| {
            let p = k as f64 / n;
            -p * p.log2()
        })
        .sum();
    (counts.len(), per_char * n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_placeholders_dictionary_words_and_regular_values() {
        for weak in [
            "change-me-admin-token-0123456789",
            "CHANGEME-please-1a2b3c4d5e6f",
            "https://example.com/abcdefghijk",
            "my-super-secret-token-xyz",
            "hunter2-password-q8z3",
            "k3y-123456-zzz-abcdefg",
            "aaaaaaaaaaaaaaaa",
            "abababababababababababab",
            "1111222233334444",
            "0f0f0f0f0f0f0f0f0f0f0f0f",
        ] {
            let err = check("ADMIN_TOKEN", weak).unwrap_err();
            assert!(err.starts_with("ADMIN_TOKEN "), "{err}");
            assert!(err.contains("openssl rand -hex 24"), "{err}");
            assert!(!err.contains(weak), "the value is echoed: {err}");
        }
    }

    #[test]
    fn accepts_random_values() {
        for strong in [
            "3f9c2a7be1d04c58a6e2f0b9d7c41e83a5b6c2d9f0e1a7b4",
            "Zk8pQ2vX7nR4tY1wM6cB9dF3hJ5lA0sE",
            "c0ffee42-d9a7-4b1e-9f3c-7a5e2b8d6f01",
        ] {
            check("POSTBACK_KEY", strong).unwrap();
        }
        let (distinct, bits) = estimate("3f9c2a7be1d04c58a6e2f0b9d7c41e83a5b6c2d9f0e1a7b4");
        assert!(distinct >= 14 && bits > 150.0, "{distinct} {bits}");
    }

    #[test]
    fn the_two_http_secrets_must_differ() {
        let v = "3f9c2a7be1d04c58a6e2f0b9d7c41e83a5b6c2d9f0e1a7b4";
        let err = check_distinct(v, v).unwrap_err();
        assert!(err.contains("ADMIN_TOKEN and POSTBACK_KEY"), "{err}");
        assert!(!err.contains(v));
        check_distinct(v, "Zk8pQ2vX7nR4tY1wM6cB9dF3hJ5lA0sE").unwrap();
    }

    #[test]
    fn database_password_placeholders() {
        let err = check_database_password(
            "postgres://capi:change-me-postgres-password@postgres:5432/capi",
        )
        .unwrap_err();
        assert!(err.starts_with("DATABASE_URL"), "{err}");
        assert!(!err.contains("change-me-postgres"), "{err}");
        check_database_password("postgres://capi:9b1e4c7a2f@db/capi").unwrap();
        check_database_password("postgres://postgres@127.0.0.1:5432/x").unwrap();
    }
}
