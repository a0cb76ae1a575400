//! First and last names, and gender.

use super::ParseError;

/// A name as Meta's param builder makes it: lowercase (done by the caller), whitespace and ASCII
/// punctuation removed (`Mary Ann` -> `maryann`, `O'Brien` -> `obrien`); letters of any script,
/// and their combining marks, kept as they arrived.
pub fn name(lower: &str) -> String {
    lower
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_ascii_punctuation() && *c != '\u{feff}')
        .collect()
}

/// `m` or `f` from the words forms use for them, in any case, with or without a trailing dot
/// (`Mrs.`). Meta's param builder knows more words (`he`, `queen`...); these are the ones a form
/// offers, and anything else is refused rather than guessed.
pub fn gender(lower: &str) -> Result<&'static str, ParseError> {
    let word = lower.trim();
    let word = word.strip_suffix('.').unwrap_or(word).trim_end();
    match word {
        "m" | "male" | "man" | "mr" => Ok("m"),
        "f" | "female" | "woman" | "w" | "mrs" | "ms" | "miss" => Ok("f"),
        _ => Err(ParseError::new(
            "must be f or m (female, male, woman, man, mr, mrs, ms, miss)",
        )),
    }
}
