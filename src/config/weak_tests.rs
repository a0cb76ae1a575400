use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;

use super::*;

/// The refusal of `value` as ADMIN_TOKEN, checked to name the variable, say how to generate a
/// good one and not echo the value.
fn refusal(value: &str) -> String {
    let err = check("ADMIN_TOKEN", value).unwrap_err();
    assert!(err.starts_with("ADMIN_TOKEN "), "{err}");
    assert!(err.contains("openssl rand -hex 24"), "{err}");
    assert!(!err.contains(value), "the value is echoed: {err}");
    err
}

/// What a security probe found accepted before zxcvbn: each is refused by the estimate itself,
/// not only by the length rule.
#[test]
fn guessable_values_the_probe_found_are_refused() {
    for weak in [
        "abcdefghijklmnop",
        "correcthorsebatterystaple",
        "Admin-Token-2024-abcdefgh",
        "1qaz2wsx3edc4rfv",
    ] {
        let guesses = guesses_log10(weak);
        assert!(guesses < MIN_GUESSES_LOG10, "{weak}: 10^{guesses:.1}");
        let err = refusal(weak);
        assert!(err.contains("is too weak"), "{err}");
    }
    // Long enough, so the estimate is what refuses them.
    for weak in ["correcthorsebatterystaple", "Admin-Token-2024-abcdefgh"] {
        assert!(refusal(weak).contains("guessable in about 10^"), "{weak}");
    }
}

#[test]
fn refuses_placeholders_short_and_regular_values() {
    let table = [
        ("change-me-admin-token-0123456789", "is a placeholder"),
        ("CHANGEME-please-1a2b3c4d5e6f", "is a placeholder"),
        ("https://example.com/abcdefghijk", "is a placeholder"),
        ("hunter2-password-q8z3", "fewer than 24"),
        ("3f9c2a7be1d04c58", "fewer than 24"),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "guessable"),
        ("abababababababababababab", "guessable"),
        ("1111222233334444555566667777", "guessable"),
        ("0f0f0f0f0f0f0f0f0f0f0f0f", "guessable"),
        ("qwertyuiopasdfghjklzxcvbnm", "guessable"),
        ("P@ssw0rdP@ssw0rdP@ssw0rd", "guessable"),
        ("capibridgeadmintoken2024", "guessable"),
    ];
    for (weak, why) in table {
        let err = refusal(weak);
        assert!(err.contains(why), "{weak}: {err}");
    }
}

/// Printed by `openssl rand -hex 16`, `-hex 24` and `-base64 24` when this rule was written.
const OPENSSL_SAMPLES: [&str; 9] = [
    "5d93417efb72acd5fb57673565e7a0dc",
    "f95ac34f375e35862e4bddb18bd3def9",
    "de94065e20c8bcaaf7117e00f51eeef0",
    "aef3aa317a689d4fb4774faa18abe95e6c779cbc2c6323ed",
    "780eaba9d87c81e60499fb43b9301a88778502d13e4cd3e5",
    "7d2f87233bf1308763c443aa98d129712143a144b4613446",
    "/5ujm98uNKn8MXQyjxR9uij+BBRP0TdS",
    "capgOD6RKUpiVac9Lvsn7uiQG4nhvQIF",
    "BStxnE4wcUhoQWh0ksPu3s5N4+WIN/CZ",
];

#[test]
fn what_openssl_rand_prints_is_accepted() {
    for strong in OPENSSL_SAMPLES {
        check("POSTBACK_KEY", strong).unwrap();
    }
    // Fresh values of the same lengths and alphabets, from the operating system's CSPRNG.
    let mut rng = OsRng;
    for _ in 0..40 {
        for bytes in [16, 24] {
            let mut b = vec![0u8; bytes];
            rng.fill_bytes(&mut b);
            let hex = hex::encode(&b);
            check("POSTBACK_KEY", &hex).unwrap_or_else(|e| panic!("{hex}: {e}"));
        }
        let mut b = [0u8; 24];
        rng.fill_bytes(&mut b);
        let base64 = STANDARD.encode(b);
        check("POSTBACK_KEY", &base64).unwrap_or_else(|e| panic!("{base64}: {e}"));
    }
}

/// The secrets of the tests, the benchmarks and the README's examples pass too (a test with a
/// refused token would not start its server).
#[test]
fn the_repositorys_own_fixtures_pass() {
    for fixture in [
        "test-admin-ca4ddd315e3f24c17a0a8332817682ce",
        "test-postback-406bf47557725e37438f9e564d014fd2",
        "test-metrics-7c1e0b9f42d86a53e1f0c4b2a9d7e635",
        "adm-7e2c9a41f0b8d35c6e1a4f927b0d8c3e5a16f4b2",
        "pbk-1d8f3b6a0c9e47d2a5f18c3e6b9d0a4f7c2e5b81",
        "abuse-admin-f617bf31178a4e08b9ad032d1eadd29e",
        "abuse-postback-66cc210c46e6e22a80ff7cecd0aa3f29",
        "bench-admin-9b7e31c05d2a48f6a1c3e8d0f4b6a92e",
        "bench-postback-3d5f8a1c7e9b24d60c2e4a6b8d0f1e37",
        "resilience-admin-ea930d2cd9fd8e07f5712f86b8bb580b",
        "resilience-postback-7199154587d1dc080a8cda2c9588b4c2",
        "3f9c2a7be1d04c58a6e2f0b9d7c41e83a5b6c2d9f0e1a7b4",
        "Zk8pQ2vX7nR4tY1wM6cB9dF3hJ5lA0sE",
        "c0ffee42-d9a7-4b1e-9f3c-7a5e2b8d6f01",
    ] {
        check("ADMIN_TOKEN", fixture).unwrap_or_else(|e| panic!("{fixture}: {e}"));
    }
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
    let err =
        check_database_password("postgres://capi:change-me-postgres-password@postgres:5432/capi")
            .unwrap_err();
    assert!(err.starts_with("DATABASE_URL"), "{err}");
    assert!(!err.contains("change-me-postgres"), "{err}");
    check_database_password("postgres://capi:9b1e4c7a2f@db/capi").unwrap();
    check_database_password("postgres://postgres@127.0.0.1:5432/x").unwrap();
}
