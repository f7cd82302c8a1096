//! Which provider versions a consumer accepts: a lowest version (`1.2.0`, as the protocol's
//! `min_version` fields say) or a semver range (`>=1.2, <2`), compared as semantic versions
//! (so `10.0.0` sorts above `9.0.0`, and pre-releases below their release).

use std::fmt;

/// A provider's or a requirement's version text did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid version {text:?}: {reason}")]
pub struct InvalidVersion {
    text: String,
    reason: String,
}

impl InvalidVersion {
    fn new(text: &str, reason: impl fmt::Display) -> Self {
        InvalidVersion {
            text: text.chars().take(64).collect(),
            reason: reason.to_string(),
        }
    }
}

/// The longest version text accepted; longer ones are refused before parsing.
pub const MAX_VERSION_LEN: usize = 128;

/// Parses a provider's version (`1.2.0`, `2.0.0-rc.1`).
///
/// ```
/// use connect_plugin_platform::version::parse_version;
///
/// assert!(parse_version("10.0.0").unwrap() > parse_version("9.0.0").unwrap());
/// assert!(parse_version("1.2").is_err());
/// ```
pub fn parse_version(text: &str) -> Result<semver::Version, InvalidVersion> {
    if text.len() > MAX_VERSION_LEN {
        return Err(InvalidVersion::new(text, "too long"));
    }
    semver::Version::parse(text.trim()).map_err(|e| InvalidVersion::new(text, e))
}

/// The versions a consumer accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionFilter(Option<semver::VersionReq>);

impl VersionFilter {
    /// Every version.
    pub const ANY: VersionFilter = VersionFilter(None);

    /// From a `min_version` field: empty accepts any version; a bare version (`1.2.0`) is
    /// the lowest accepted (pre-releases of later versions included); anything else is a
    /// semver range (`>=1.2, <2`, `^1.4`).
    ///
    /// ```
    /// use connect_plugin_platform::version::{VersionFilter, parse_version};
    ///
    /// let v = |s| parse_version(s).unwrap();
    /// let min = VersionFilter::parse("9.0.0").unwrap();
    /// assert!(min.accepts(&v("10.0.0")));
    /// assert!(!min.accepts(&v("8.9.9")));
    /// let range = VersionFilter::parse(">=1.2, <2").unwrap();
    /// assert!(range.accepts(&v("1.9.0")) && !range.accepts(&v("2.0.0")));
    /// ```
    pub fn parse(text: &str) -> Result<VersionFilter, InvalidVersion> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(VersionFilter::ANY);
        }
        if text.len() > MAX_VERSION_LEN {
            return Err(InvalidVersion::new(text, "too long"));
        }
        if let Ok(min) = semver::Version::parse(text) {
            return Ok(VersionFilter(Some(semver::VersionReq {
                comparators: vec![semver::Comparator {
                    op: semver::Op::GreaterEq,
                    major: min.major,
                    minor: Some(min.minor),
                    patch: Some(min.patch),
                    pre: min.pre,
                }],
            })));
        }
        semver::VersionReq::parse(text)
            .map(|r| VersionFilter(Some(r)))
            .map_err(|e| InvalidVersion::new(text, e))
    }

    /// Whether `version` is accepted. A bare lowest version accepts every later version,
    /// pre-releases included (a consumer asking for `1.0.0` takes `2.0.0-rc.1`); a range
    /// follows semver's rules for pre-releases.
    pub fn accepts(&self, version: &semver::Version) -> bool {
        match &self.0 {
            None => true,
            Some(req) => {
                if req.matches(version) {
                    return true;
                }
                // `>=x.y.z` alone: compare by precedence, as "lowest version" means.
                match req.comparators.as_slice() {
                    [c] if c.op == semver::Op::GreaterEq => {
                        let min = semver::Version {
                            major: c.major,
                            minor: c.minor.unwrap_or(0),
                            patch: c.patch.unwrap_or(0),
                            pre: c.pre.clone(),
                            build: semver::BuildMetadata::EMPTY,
                        };
                        *version >= min
                    }
                    _ => false,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> semver::Version {
        parse_version(s).unwrap()
    }

    #[test]
    fn versions_compare_as_numbers_not_strings() {
        // The seed compared version strings: "10.0.0" < "9.0.0" there.
        let min = VersionFilter::parse("9.0.0").unwrap();
        assert!(min.accepts(&v("10.0.0")));
        assert!(min.accepts(&v("9.0.0")));
        assert!(!min.accepts(&v("8.10.0")));
        assert!(
            VersionFilter::parse("1.10.0")
                .unwrap()
                .accepts(&v("1.10.1"))
        );
        assert!(
            !VersionFilter::parse("1.10.0")
                .unwrap()
                .accepts(&v("1.9.99"))
        );
    }

    #[test]
    fn pre_releases_sort_below_their_release() {
        let min = VersionFilter::parse("2.0.0").unwrap();
        assert!(!min.accepts(&v("2.0.0-rc.1")));
        let min = VersionFilter::parse("1.0.0").unwrap();
        assert!(min.accepts(&v("2.0.0-rc.1")));
        assert!(
            VersionFilter::parse("2.0.0-rc.1")
                .unwrap()
                .accepts(&v("2.0.0-rc.2"))
        );
    }

    #[test]
    fn ranges_and_empty() {
        assert!(VersionFilter::parse("").unwrap().accepts(&v("0.0.1")));
        assert_eq!(VersionFilter::parse("  ").unwrap(), VersionFilter::ANY);
        let caret = VersionFilter::parse("^1.4").unwrap();
        assert!(caret.accepts(&v("1.9.0")));
        assert!(!caret.accepts(&v("2.0.0")));
        assert!(!caret.accepts(&v("1.3.9")));
    }

    #[test]
    fn bad_versions_are_refused_with_a_reason() {
        for bad in ["1.2", "x", "1.0.0\0", ">=>1", "1.0.0.0", ""] {
            assert!(parse_version(bad).is_err(), "{bad:?}");
        }
        for bad in ["abc", "1.0.0\0", ">=>1", "1.0.0.0"] {
            assert!(VersionFilter::parse(bad).is_err(), "{bad:?}");
        }
        assert!(VersionFilter::parse("not a version").is_err());
        let long = "1".repeat(MAX_VERSION_LEN + 1);
        let e = parse_version(&long).unwrap_err();
        assert!(e.to_string().contains("too long"));
        assert!(
            e.text.len() <= 64,
            "the error does not echo unbounded input"
        );
    }
}
