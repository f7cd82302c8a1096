//! The router's paths: `/services/{type}/{provider}/{package.Service}/{Method}`, where
//! `{provider}` is a runtime id, or `-` for "the host picks one per call". Pure.

/// Whom a routed call is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// Any provider of the type: the host picks one per call.
    Any,
    /// This provider.
    Provider(&'a str),
}

/// A routed path, taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoutedPath<'a> {
    /// The service type.
    pub service_type: &'a str,
    /// Which provider.
    pub target: Target<'a>,
    /// The method's own path, `/{package.Service}/{Method}`.
    pub method_path: &'a str,
    /// `package.Service`.
    pub service: &'a str,
    /// `Method`.
    pub method: &'a str,
}

/// The prefix every routed path starts with.
pub const PREFIX: &str = "/services/";

/// Takes a routed path apart; `None` for anything else (including empty segments).
///
/// ```
/// use connect_plugin_platform::router::{Target, parse};
///
/// let p = parse("/services/logger/-/logger.v1.Logger/Log").unwrap();
/// assert_eq!(p.service_type, "logger");
/// assert_eq!(p.target, Target::Any);
/// assert_eq!(p.method_path, "/logger.v1.Logger/Log");
/// assert!(parse("/services/logger/-/logger.v1.Logger").is_none());
/// ```
pub fn parse(path: &str) -> Option<RoutedPath<'_>> {
    let rest = path.strip_prefix(PREFIX)?;
    let (service_type, rest) = rest.split_once('/')?;
    let (target, rest) = rest.split_once('/')?;
    let method_path = &path[path.len() - rest.len() - 1..];
    let (service, method) = rest.split_once('/')?;
    if [service_type, target, service, method]
        .iter()
        .any(|s| s.is_empty())
        || method.contains('/')
    {
        return None;
    }
    Some(RoutedPath {
        service_type,
        target: if target == "-" {
            Target::Any
        } else {
            Target::Provider(target)
        },
        method_path,
        service,
        method,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let p = parse("/services/kv/kv-0123/kv.v1.Kv/Get").unwrap();
        assert_eq!(p.target, Target::Provider("kv-0123"));
        assert_eq!(p.service, "kv.v1.Kv");
        assert_eq!(p.method, "Get");
        assert_eq!(p.method_path, "/kv.v1.Kv/Get");
        for bad in [
            "/services/",
            "/services/kv",
            "/services/kv/-",
            "/services/kv/-/kv.v1.Kv",
            "/services/kv/-/kv.v1.Kv/",
            "/services//-/kv.v1.Kv/Get",
            "/services/kv//kv.v1.Kv/Get",
            "/services/kv/-/kv.v1.Kv/Get/extra",
            "/kv.v1.Kv/Get",
            // The seed's router doubled the service path: that is not a method.
            "/services/kv/-/kv.v1.Kv/kv.v1.Kv/Get",
        ] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }
}
