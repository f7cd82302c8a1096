//! Join tokens as a host is given them: `PATTERN=SECRET` on the command line, one a line
//! in a file, whitespace-separated in the environment, or as a table in the config file.
//! Secrets never appear in `Debug` output or in error messages.

use std::fmt;
use std::str::FromStr;

use crate::identity::{JoinTokens, SelfIdPattern};

/// Secrets shorter than this are accepted with a warning: a join token should be long and
/// random (`openssl rand -base64 32`).
pub const SHORT_SECRET: usize = 16;

/// A secret text, kept out of `Debug` output.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Secret(text.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// One join token: which self ids it admits, and its secret.
///
/// ```
/// use connect_plugin_platform::config::JoinTokenEntry;
///
/// let entry: JoinTokenEntry = "logger-*=a-long-random-secret".parse().unwrap();
/// assert_eq!(entry.secret.expose(), "a-long-random-secret");
/// assert!(!format!("{entry:?}").contains("random"));
/// assert!("logger-*".parse::<JoinTokenEntry>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinTokenEntry {
    /// The self ids it admits.
    pub pattern: SelfIdPattern,
    /// The secret a plugin presents (`Authorization: Bearer SECRET`).
    pub secret: Secret,
}

/// Why a join token was refused. Never names the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinTokenError {
    /// No `=` between pattern and secret.
    #[error("a join token is written PATTERN=SECRET")]
    NoSeparator,
    /// The secret is empty.
    #[error("the join token for {0:?} has an empty secret")]
    EmptySecret(String),
    /// The pattern is not a self id pattern.
    #[error(
        "{0:?} is not a self id pattern (a self id like `logger`, a prefix like `logger-*`, or `*`)"
    )]
    BadPattern(String),
}

impl JoinTokenEntry {
    /// A token for `pattern` (`logger`, `logger-*` or `*`) with `secret`.
    pub fn new(pattern: &str, secret: Secret) -> Result<Self, JoinTokenError> {
        let parsed = SelfIdPattern::parse(pattern)
            .map_err(|_| JoinTokenError::BadPattern(pattern.chars().take(80).collect()))?;
        if secret.0.is_empty() {
            return Err(JoinTokenError::EmptySecret(pattern.to_owned()));
        }
        Ok(JoinTokenEntry {
            pattern: parsed,
            secret,
        })
    }

    /// Whether the secret is shorter than [`SHORT_SECRET`].
    pub fn is_short(&self) -> bool {
        self.secret.0.len() < SHORT_SECRET
    }
}

impl FromStr for JoinTokenEntry {
    type Err = JoinTokenError;

    /// `PATTERN=SECRET`; the secret is everything after the first `=` (a pattern holds
    /// none), so base64 secrets ending in `=` are fine.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (pattern, secret) = text.split_once('=').ok_or(JoinTokenError::NoSeparator)?;
        JoinTokenEntry::new(pattern.trim(), Secret::new(secret))
    }
}

/// Reads a join-token file: one `PATTERN=SECRET` a line; blank lines and lines starting
/// with `#` are skipped, surrounding whitespace is trimmed. An error names the line.
///
/// ```
/// use connect_plugin_platform::config::parse_join_token_lines;
///
/// let tokens = parse_join_token_lines("# plugins of team A\nlogger=s3cret-s3cret-s3cret\n\ncache-*=an0ther-an0ther\n").unwrap();
/// assert_eq!(tokens.len(), 2);
/// assert!(parse_join_token_lines("logger\n").unwrap_err().to_string().contains("line 1"));
/// ```
pub fn parse_join_token_lines(text: &str) -> Result<Vec<JoinTokenEntry>, LineError> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(n, line)| {
            line.parse()
                .map_err(|source| LineError { place: n, source })
        })
        .collect()
}

/// Reads join tokens from an environment variable's value: `PATTERN=SECRET` entries
/// separated by whitespace (spaces or newlines).
///
/// ```
/// use connect_plugin_platform::config::parse_join_token_words;
///
/// let tokens = parse_join_token_words("logger=s3cret-s3cret-s3cret cache=an0ther-an0ther").unwrap();
/// assert_eq!(tokens.len(), 2);
/// ```
pub fn parse_join_token_words(text: &str) -> Result<Vec<JoinTokenEntry>, LineError> {
    text.split_whitespace()
        .enumerate()
        .map(|(i, word)| {
            word.parse().map_err(|source| LineError {
                place: i + 1,
                source,
            })
        })
        .collect()
}

/// A join token refused in a list: where (the line, or the entry's number), and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {place}: {source}")]
pub struct LineError {
    /// The line (of a file) or entry (of a variable), from 1.
    pub place: usize,
    /// Why.
    pub source: JoinTokenError,
}

/// The platform's join tokens from `entries`.
pub fn join_tokens<'a>(entries: impl IntoIterator<Item = &'a JoinTokenEntry>) -> JoinTokens {
    let mut tokens = JoinTokens::new();
    for e in entries {
        tokens.insert(e.pattern.clone(), e.secret.expose());
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_splits_at_the_first_equals_sign() {
        let e: JoinTokenEntry = "cache=YWJj==".parse().unwrap();
        assert_eq!(e.pattern, SelfIdPattern::Exact("cache".into()));
        assert_eq!(e.secret.expose(), "YWJj==");
        assert!(e.is_short());
        let any: JoinTokenEntry = "*=0123456789abcdef0123".parse().unwrap();
        assert_eq!(any.pattern, SelfIdPattern::Any);
        assert!(!any.is_short());
    }

    #[test]
    fn refusals_never_show_the_secret() {
        for (bad, want) in [
            ("no-separator-hunter2", JoinTokenError::NoSeparator),
            ("logger=", JoinTokenError::EmptySecret("logger".into())),
            (
                "Logger=hunter2",
                JoinTokenError::BadPattern("Logger".into()),
            ),
            ("a*b=hunter2", JoinTokenError::BadPattern("a*b".into())),
        ] {
            let e = bad.parse::<JoinTokenEntry>().unwrap_err();
            assert_eq!(e, want, "{bad:?}");
            assert!(!e.to_string().contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn lists_name_the_bad_line() {
        let text = "logger=one-secret-long-enough\n# comment\n\n  bad line  \n";
        let e = parse_join_token_lines(text).unwrap_err();
        assert_eq!(e.place, 4);
        assert_eq!(e.source, JoinTokenError::NoSeparator);
        let e = parse_join_token_words("a=x b c=y").unwrap_err();
        assert_eq!(e.place, 2);
        assert!(parse_join_token_words("  \n ").unwrap().is_empty());
    }

    #[test]
    fn the_tokens_admit_what_the_entries_say() {
        let entries = parse_join_token_lines("logger-*=secret-one\ncache=secret-two").unwrap();
        let tokens = join_tokens(&entries);
        assert!(tokens.admits("logger-eu", b"secret-one"));
        assert!(tokens.admits("cache", b"secret-two"));
        assert!(!tokens.admits("cache", b"secret-one"));
    }
}
