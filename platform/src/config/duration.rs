//! Durations as people write them in a flag or a config file: a whole number and a unit,
//! `500ms`, `30s`, `5m`, `1h`.

use std::time::Duration;

/// Why a duration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {text:?}: {why} (write a whole number and a unit: 500ms, 30s, 5m, 1h)")]
pub struct DurationError {
    text: String,
    why: &'static str,
}

/// Parses `500ms`, `30s`, `5m` or `1h` (a whole number, then `ms`, `s`, `m` or `h`).
///
/// ```
/// use std::time::Duration;
/// use connect_plugin_platform::config::parse_duration;
///
/// assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
/// assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
/// assert!(parse_duration("10").is_err(), "the unit is needed");
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let err = |why| DurationError {
        text: text.chars().take(40).collect(),
        why,
    };
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| err("no unit"))?;
    let (number, unit) = trimmed.split_at(split);
    if number.is_empty() {
        return Err(err("no number"));
    }
    let n: u64 = number.parse().map_err(|_| err("the number is too large"))?;
    let per_unit_ms: u64 = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(err("unknown unit")),
    };
    let ms = n
        .checked_mul(per_unit_ms)
        .ok_or_else(|| err("the number is too large"))?;
    Ok(Duration::from_millis(ms))
}

/// Reads an optional duration written as text (for serde's `deserialize_with`).
pub(crate) fn deserialize_opt<'de, D>(de: D) -> Result<Option<Duration>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let text: Option<String> = serde::Deserialize::deserialize(de)?;
    text.map(|t| parse_duration(&t).map_err(serde::de::Error::custom))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration(" 3 s ").unwrap(), Duration::from_secs(3));
    }

    #[test]
    fn refusals_say_why() {
        for (bad, why) in [
            ("", "no unit"),
            ("10", "no unit"),
            ("s", "no number"),
            ("-1s", "no number"),
            ("1.5s", "unknown unit"),
            ("3 days", "unknown unit"),
            ("99999999999999999999s", "too large"),
            ("18446744073709551615h", "too large"),
        ] {
            let e = parse_duration(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }
}
