//! What a registry accepts as names and metadata: bounded, printable, no NUL — checked
//! before anything is stored, so an outsider cannot grow the registry with junk.

use std::collections::BTreeMap;

use super::RegistryError;

/// Longest service type (`logger`, `cache.v2`).
pub const MAX_TYPE_LEN: usize = 128;
/// Longest fully-qualified proto service name.
pub const MAX_SERVICE_NAME_LEN: usize = 256;
/// Most metadata entries on a registration.
pub const MAX_METADATA_ENTRIES: usize = 32;
/// Longest metadata key.
pub const MAX_METADATA_KEY_LEN: usize = 64;
/// Longest metadata value.
pub const MAX_METADATA_VALUE_LEN: usize = 512;

/// A service type: 1 to 128 characters of `a-z`, `0-9`, `.`, `_`, `-`, starting with a
/// letter or digit (it is a path segment of the router's URLs).
pub fn check_service_type(name: &str) -> Result<(), RegistryError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_TYPE_LEN
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(RegistryError::InvalidName {
            what: "service type",
            name: clip(name),
        })
    }
}

/// A fully-qualified proto service name (`logger.v1.LoggerService`).
pub fn check_service_name(name: &str) -> Result<(), RegistryError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_SERVICE_NAME_LEN
        && name.split('.').all(|part| {
            !part.is_empty()
                && !part.as_bytes()[0].is_ascii_digit()
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
    if ok {
        Ok(())
    } else {
        Err(RegistryError::InvalidName {
            what: "service name",
            name: clip(name),
        })
    }
}

/// Metadata: bounded in entries and sizes, no control characters.
pub fn check_metadata(metadata: &BTreeMap<String, String>) -> Result<(), RegistryError> {
    if metadata.len() > MAX_METADATA_ENTRIES {
        return Err(RegistryError::TooLarge {
            what: "metadata",
            limit: MAX_METADATA_ENTRIES,
        });
    }
    for (k, v) in metadata {
        if k.is_empty() || k.len() > MAX_METADATA_KEY_LEN || v.len() > MAX_METADATA_VALUE_LEN {
            return Err(RegistryError::TooLarge {
                what: "metadata entry",
                limit: MAX_METADATA_VALUE_LEN,
            });
        }
        if k.chars().chain(v.chars()).any(char::is_control) {
            return Err(RegistryError::InvalidName {
                what: "metadata entry",
                name: clip(k),
            });
        }
    }
    Ok(())
}

/// At most 64 characters of an outsider's name, for error messages.
pub(crate) fn clip(name: &str) -> String {
    name.chars()
        .take(64)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_types() {
        for good in ["logger", "cache.v2", "a", "kv_store-1"] {
            check_service_type(good).unwrap();
        }
        for bad in [
            "",
            "Logger",
            "a/b",
            "-x",
            "x\0",
            "é",
            &"a".repeat(MAX_TYPE_LEN + 1),
        ] {
            assert!(check_service_type(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn service_names() {
        for good in ["logger.v1.LoggerService", "Kv", "a_b.C1"] {
            check_service_name(good).unwrap();
        }
        for bad in [
            "",
            "a..b",
            ".a",
            "a.",
            "1a.B",
            "a/b",
            "a.b\0",
            &"a".repeat(300),
        ] {
            assert!(check_service_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn metadata_is_bounded() {
        let mut m = BTreeMap::new();
        m.insert("zone".to_owned(), "eu-1".to_owned());
        check_metadata(&m).unwrap();
        m.insert("nul".to_owned(), "a\0b".to_owned());
        assert!(check_metadata(&m).is_err());
        let many: BTreeMap<String, String> = (0..=MAX_METADATA_ENTRIES)
            .map(|i| (format!("k{i}"), String::new()))
            .collect();
        assert!(check_metadata(&many).is_err());
        let mut big = BTreeMap::new();
        big.insert("k".to_owned(), "v".repeat(MAX_METADATA_VALUE_LEN + 1));
        assert!(check_metadata(&big).is_err());
        assert_eq!(clip(&"x".repeat(1000)).len(), 64);
    }
}
