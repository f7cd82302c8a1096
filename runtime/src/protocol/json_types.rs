//! The registry of message types the JSON codec can write inside a `google.protobuf.Any`.
//!
//! The proto3 JSON form of an `Any` holds the packed message's own JSON
//! (`{"@type": "type.googleapis.com/kv.v1.Entry", "key": "a"}`), so writing or reading one
//! needs the packed type's code, found here by its full name. The registry holds the
//! well-known types from the start; generated code adds every message of a package the
//! first time one of the package's clients, routers or plugin descriptors is built (or when
//! the package's `register_json_types()` is called), and [`register_json_type`] adds any
//! other type.
//!
//! Only code adds entries (a type, never a name read from the wire), so the registry is
//! bounded by the message types compiled into the program.

use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError, RwLock};

use serde_json::Value;

use super::any::Any;
use super::codec::Message;

/// How one registered type goes between its binary encoding and its JSON.
#[derive(Clone, Copy)]
pub(crate) struct JsonType {
    /// Binary encoding → the message's JSON.
    pub(crate) to_json: fn(&[u8]) -> Result<Value, String>,
    /// The message's JSON → binary encoding.
    pub(crate) from_json: fn(Value) -> Result<Vec<u8>, String>,
    /// A well-known type with its own JSON form: inside an `Any` its JSON is the field
    /// `"value"` beside `"@type"`, not fields merged with it.
    pub(crate) wrapped: bool,
}

fn to_json<M: Message>(bytes: &[u8]) -> Result<Value, String> {
    let message = M::decode(bytes).map_err(|e| format!("invalid protobuf bytes: {e}"))?;
    serde_json::to_value(&message).map_err(|e| e.to_string())
}

fn from_json<M: Message>(json: Value) -> Result<Vec<u8>, String> {
    let message: M = serde_json::from_value(json).map_err(|e| e.to_string())?;
    Ok(message.encode_to_vec())
}

fn entry<M: Message>(wrapped: bool) -> JsonType {
    JsonType {
        to_json: to_json::<M>,
        from_json: from_json::<M>,
        wrapped,
    }
}

static REGISTRY: LazyLock<RwLock<HashMap<String, JsonType>>> =
    LazyLock::new(|| RwLock::new(well_known_types()));

/// The well-known types (`pbjson_types`, and this crate's [`Any`]).
fn well_known_types() -> HashMap<String, JsonType> {
    use pbjson_types as w;
    // The types with their own JSON form (as protobuf-es and protobuf C++ list them).
    let wrapped: [(&str, JsonType); 16] = [
        ("Any", entry::<Any>(true)),
        ("Duration", entry::<w::Duration>(true)),
        ("Timestamp", entry::<w::Timestamp>(true)),
        ("FieldMask", entry::<w::FieldMask>(true)),
        ("Struct", entry::<w::Struct>(true)),
        ("Value", entry::<w::Value>(true)),
        ("ListValue", entry::<w::ListValue>(true)),
        ("DoubleValue", entry::<w::DoubleValue>(true)),
        ("FloatValue", entry::<w::FloatValue>(true)),
        ("Int64Value", entry::<w::Int64Value>(true)),
        ("UInt64Value", entry::<w::UInt64Value>(true)),
        ("Int32Value", entry::<w::Int32Value>(true)),
        ("UInt32Value", entry::<w::UInt32Value>(true)),
        ("BoolValue", entry::<w::BoolValue>(true)),
        ("StringValue", entry::<w::StringValue>(true)),
        ("BytesValue", entry::<w::BytesValue>(true)),
    ];
    // Ordinary messages of `google.protobuf`: fields merged with `"@type"`. `Empty` too, as
    // protobuf-es and C++ write it (`{"@type": "…/google.protobuf.Empty"}`); protobuf-go
    // writes `"value": {}`, read as well (see `Any`'s JSON).
    let plain: [(&str, JsonType); 17] = [
        ("Empty", entry::<w::Empty>(false)),
        ("SourceContext", entry::<w::SourceContext>(false)),
        ("Type", entry::<w::Type>(false)),
        ("Field", entry::<w::Field>(false)),
        ("Enum", entry::<w::Enum>(false)),
        ("EnumValue", entry::<w::EnumValue>(false)),
        ("Option", entry::<w::Option>(false)),
        ("Api", entry::<w::Api>(false)),
        ("Method", entry::<w::Method>(false)),
        ("Mixin", entry::<w::Mixin>(false)),
        // descriptor.proto's messages (error details and reflection carry them).
        ("FileDescriptorSet", entry::<w::FileDescriptorSet>(false)),
        (
            "FileDescriptorProto",
            entry::<w::FileDescriptorProto>(false),
        ),
        ("DescriptorProto", entry::<w::DescriptorProto>(false)),
        (
            "FieldDescriptorProto",
            entry::<w::FieldDescriptorProto>(false),
        ),
        (
            "EnumDescriptorProto",
            entry::<w::EnumDescriptorProto>(false),
        ),
        (
            "ServiceDescriptorProto",
            entry::<w::ServiceDescriptorProto>(false),
        ),
        (
            "MethodDescriptorProto",
            entry::<w::MethodDescriptorProto>(false),
        ),
    ];
    wrapped
        .into_iter()
        .chain(plain)
        .map(|(name, t)| (format!("google.protobuf.{name}"), t))
        .collect()
}

/// Makes `M` writable and readable as JSON inside a `google.protobuf.Any` ([`Any`]), under
/// its full name (`kv.v1.Entry`). Registering a type twice is harmless.
///
/// Generated code registers every message of a package the first time one of its clients,
/// routers or plugin descriptors is built, and offers the package's `register_json_types()`
/// for the other cases; this is for types from elsewhere, such as a package without a
/// service.
///
/// ```
/// use connect_plugin::{Any, Codec};
///
/// // A message of a package without services (normally generated by prost and pbjson).
/// # #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
/// # #[serde(rename_all = "camelCase")]
/// # pub struct Note { #[prost(string, tag = "1")] pub text: String }
/// # impl prost::Name for Note {
/// #     const NAME: &'static str = "Note";
/// #     const PACKAGE: &'static str = "notes.v1";
/// # }
/// connect_plugin::register_json_type::<Note>();
///
/// let any = Any::from_msg(&Note { text: "hi".into() });
/// let json = Codec::Json.encode_to_bytes(&any).unwrap();
/// assert_eq!(json, r#"{"@type":"type.googleapis.com/notes.v1.Note","text":"hi"}"#);
/// ```
pub fn register_json_type<M: Message + prost::Name>() {
    register_json_type_as::<M>(&M::full_name());
}

/// [`register_json_type`] under an explicit full name (`kv.v1.Entry`), for generated code
/// (prost's `Name` is optional there).
#[doc(hidden)]
pub fn register_json_type_as<M: Message>(full_name: &str) {
    let mut registry = REGISTRY.write().unwrap_or_else(PoisonError::into_inner);
    if !registry.contains_key(full_name) {
        registry.insert(full_name.to_owned(), entry::<M>(false));
    }
}

/// The type of a type URL: what follows its last `/` (all of it without one).
pub(crate) fn type_name(type_url: &str) -> &str {
    type_url.rsplit('/').next().unwrap_or(type_url)
}

/// The registered type of `type_url`, copied out so no lock is held while it runs (it may
/// come back here for an `Any` inside).
pub(crate) fn lookup(type_url: &str) -> Option<JsonType> {
    let registry = REGISTRY.read().unwrap_or_else(PoisonError::into_inner);
    registry.get(type_name(type_url)).copied()
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::*;

    #[test]
    fn well_known_types_are_there_from_the_start() {
        for (url, wrapped) in [
            ("type.googleapis.com/google.protobuf.Duration", true),
            ("type.googleapis.com/google.protobuf.Any", true),
            ("type.googleapis.com/google.protobuf.Empty", false),
            ("type.googleapis.com/google.protobuf.BytesValue", true),
            ("type.googleapis.com/google.protobuf.Api", false),
            (
                "type.googleapis.com/google.protobuf.FileDescriptorProto",
                false,
            ),
        ] {
            let t = lookup(url).unwrap_or_else(|| panic!("{url} not registered"));
            assert_eq!(t.wrapped, wrapped, "{url}");
        }
        assert!(lookup("type.googleapis.com/nope.v1.Missing").is_none());
    }

    #[test]
    fn type_names_come_after_the_last_slash() {
        assert_eq!(type_name("type.googleapis.com/a.B"), "a.B");
        assert_eq!(type_name("example.com/x/y/a.B"), "a.B");
        assert_eq!(type_name("a.B"), "a.B");
    }

    #[test]
    fn registering_keeps_the_first_entry() {
        // Re-registering a well-known type as an ordinary message must not unwrap it.
        register_json_type_as::<pbjson_types::Duration>("google.protobuf.Duration");
        assert!(
            lookup("google.protobuf.Duration")
                .expect("registered")
                .wrapped
        );
        let t = lookup("google.protobuf.Duration").expect("registered");
        let json = (t.to_json)(
            &pbjson_types::Duration {
                seconds: 3,
                nanos: 0,
            }
            .encode_to_vec(),
        );
        assert_eq!(json, Ok(Value::String("3s".into())));
        let bytes = (t.from_json)(Value::String("1.5s".into())).expect("a duration");
        assert_eq!(
            pbjson_types::Duration::decode(bytes.as_slice()),
            Ok(pbjson_types::Duration {
                seconds: 1,
                nanos: 500_000_000
            })
        );
    }
}
