//! The methods a provider registers, as the runtime's method descriptors: the path
//! `/{service}/{method}`, its shape and idempotency. Descriptors name their path with a
//! `&'static str`, so each distinct path is kept once for the life of the host; the table
//! is bounded, and names are checked before anything is kept.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use connect_plugin::StreamType;
use connect_plugin::pb::connectplugin::v1 as cp;
use connect_plugin::rpc::{Idempotency, MethodDescriptor};

use crate::registry::RegistryError;
use crate::registry::names::clip;

/// Distinct method paths a host keeps at most.
pub const MAX_METHOD_PATHS: usize = 65_536;
/// Methods one registration may list.
pub const MAX_METHODS_PER_SERVICE: usize = 256;
/// Longest method name.
pub const MAX_METHOD_NAME_LEN: usize = 128;

static PATHS: LazyLock<Mutex<HashMap<String, &'static str>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The kept copy of `path`, made the first time.
fn intern(path: String) -> Result<&'static str, RegistryError> {
    let mut paths = PATHS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(kept) = paths.get(&path) {
        return Ok(kept);
    }
    if paths.len() >= MAX_METHOD_PATHS {
        return Err(RegistryError::Full {
            what: "method paths",
            limit: MAX_METHOD_PATHS,
        });
    }
    let kept: &'static str = Box::leak(path.clone().into_boxed_str());
    paths.insert(path, kept);
    Ok(kept)
}

fn check_name(name: &str) -> Result<(), RegistryError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_METHOD_NAME_LEN
        && !name.as_bytes()[0].is_ascii_digit()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(RegistryError::InvalidName {
            what: "method name",
            name: clip(name),
        })
    }
}

/// The descriptors of `service_name`'s methods (the name checked already).
pub fn descriptors(
    service_name: &str,
    specs: &[cp::MethodSpec],
) -> Result<Vec<MethodDescriptor>, RegistryError> {
    if specs.len() > MAX_METHODS_PER_SERVICE {
        return Err(RegistryError::TooLarge {
            what: "method list",
            limit: MAX_METHODS_PER_SERVICE,
        });
    }
    let mut out: Vec<MethodDescriptor> = Vec::with_capacity(specs.len());
    for spec in specs {
        check_name(&spec.name)?;
        let stream_type = match cp::MethodKind::try_from(spec.kind) {
            Ok(cp::MethodKind::Unary) => StreamType::Unary,
            Ok(cp::MethodKind::ClientStreaming) => StreamType::ClientStreaming,
            Ok(cp::MethodKind::ServerStreaming) => StreamType::ServerStreaming,
            Ok(cp::MethodKind::BidiStreaming) => StreamType::BidiStreaming,
            _ => {
                return Err(RegistryError::InvalidName {
                    what: "method kind of",
                    name: clip(&spec.name),
                });
            }
        };
        let idempotency = if spec.no_side_effects {
            Idempotency::NoSideEffects
        } else if spec.idempotent {
            Idempotency::Idempotent
        } else {
            Idempotency::Unknown
        };
        let path = intern(format!("/{service_name}/{}", spec.name))?;
        if out.iter().any(|m| m.path == path) {
            return Err(RegistryError::InvalidName {
                what: "method listed twice:",
                name: clip(&spec.name),
            });
        }
        out.push(MethodDescriptor::new(path, stream_type, idempotency));
    }
    Ok(out)
}

/// The method spec of a descriptor, as a plugin registers it (the runtime's).
pub use connect_plugin::plugin::method_spec as spec;

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str, kind: cp::MethodKind) -> cp::MethodSpec {
        cp::MethodSpec {
            name: name.into(),
            kind: kind as i32,
            ..Default::default()
        }
    }

    #[test]
    fn descriptors_round_trip_and_are_kept_once() {
        let specs = [
            s("Get", cp::MethodKind::Unary),
            s("Watch", cp::MethodKind::ServerStreaming),
        ];
        let a = descriptors("kv.v1.KvService", &specs).unwrap();
        let b = descriptors("kv.v1.KvService", &specs).unwrap();
        assert_eq!(a[0].path, "/kv.v1.KvService/Get");
        assert!(std::ptr::eq(a[0].path, b[0].path), "one copy of each path");
        assert_eq!(a[1].stream_type, StreamType::ServerStreaming);
        assert_eq!(spec(&a[1]), specs[1]);
    }

    #[test]
    fn bad_methods_are_refused() {
        for bad in [
            vec![s("", cp::MethodKind::Unary)],
            vec![s("a/b", cp::MethodKind::Unary)],
            vec![s("1x", cp::MethodKind::Unary)],
            vec![s("Get", cp::MethodKind::Unspecified)],
            vec![
                s("Get", cp::MethodKind::Unary),
                s("Get", cp::MethodKind::Unary),
            ],
            (0..=MAX_METHODS_PER_SERVICE)
                .map(|i| s(&format!("M{i}"), cp::MethodKind::Unary))
                .collect(),
        ] {
            assert!(descriptors("x.v1.S", &bad).is_err());
        }
    }
}
