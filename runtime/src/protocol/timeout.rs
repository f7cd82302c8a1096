//! Deadline headers: Connect's `Connect-Timeout-Ms` and gRPC's `grpc-timeout`.

use std::time::Duration;

use super::status::Status;

/// Parses `Connect-Timeout-Ms`: at most ten ASCII digits of milliseconds.
pub(crate) fn parse_connect_timeout(value: &str) -> Result<Duration, Status> {
    if value.is_empty() || value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Status::invalid_argument(format!(
            "invalid Connect-Timeout-Ms {value:?}: want 1 to 10 digits"
        )));
    }
    let ms: u64 = value
        .parse()
        .map_err(|_| Status::invalid_argument("invalid Connect-Timeout-Ms"))?;
    Ok(Duration::from_millis(ms))
}

/// Formats a timeout for `Connect-Timeout-Ms`, rounding up to a whole millisecond and
/// capping at ten digits.
pub(crate) fn encode_connect_timeout(timeout: Duration) -> String {
    let mut ms = timeout.as_millis();
    if timeout.as_nanos() % 1_000_000 != 0 {
        ms += 1;
    }
    ms.min(9_999_999_999).to_string()
}

/// Parses `grpc-timeout`: at most eight ASCII digits and a unit (`H M S m u n`).
pub(crate) fn parse_grpc_timeout(value: &str) -> Result<Duration, Status> {
    let bad = || Status::invalid_argument(format!("invalid grpc-timeout {value:?}"));
    if value.len() < 2 || value.len() > 9 || !value.is_ascii() {
        return Err(bad());
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    Ok(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return Err(bad()),
    })
}

/// Formats a timeout for `grpc-timeout` in the finest unit that fits eight digits.
pub(crate) fn encode_grpc_timeout(timeout: Duration) -> String {
    const MAX: u128 = 99_999_999;
    let nanos = timeout.as_nanos();
    let units: [(u128, char); 6] = [
        (1, 'n'),
        (1_000, 'u'),
        (1_000_000, 'm'),
        (1_000_000_000, 'S'),
        (60_000_000_000, 'M'),
        (3_600_000_000_000, 'H'),
    ];
    for (div, unit) in units {
        let v = nanos.div_ceil(div);
        if v <= MAX {
            return format!("{v}{unit}");
        }
    }
    format!("{MAX}H")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_timeouts() {
        assert_eq!(
            parse_connect_timeout("250").unwrap(),
            Duration::from_millis(250)
        );
        assert!(parse_connect_timeout("").is_err());
        assert!(parse_connect_timeout("12345678901").is_err());
        assert!(parse_connect_timeout("-1").is_err());
        assert!(parse_connect_timeout("1.5").is_err());
        assert_eq!(encode_connect_timeout(Duration::from_micros(1500)), "2");
        assert_eq!(encode_connect_timeout(Duration::from_secs(1)), "1000");
    }

    #[test]
    fn grpc_timeouts() {
        assert_eq!(
            parse_grpc_timeout("100m").unwrap(),
            Duration::from_millis(100)
        );
        assert_eq!(parse_grpc_timeout("2S").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_grpc_timeout("1H").unwrap(), Duration::from_secs(3600));
        assert!(parse_grpc_timeout("100").is_err());
        assert!(parse_grpc_timeout("123456789m").is_err());
        assert!(parse_grpc_timeout("10x").is_err());
        for d in [
            Duration::from_nanos(5),
            Duration::from_millis(1234),
            Duration::from_secs(86_400 * 10),
        ] {
            let back = parse_grpc_timeout(&encode_grpc_timeout(d)).unwrap();
            assert!(
                back >= d && back - d < d / 1000 + Duration::from_micros(1),
                "{d:?} -> {back:?}"
            );
        }
    }
}
