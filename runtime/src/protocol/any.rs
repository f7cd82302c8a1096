//! `google.protobuf.Any` with the proto3 JSON mapping: the type generated code uses for
//! `Any` fields (pbjson-types' `Any` writes `{"typeUrl", "value": base64}`, which other
//! Connect and gRPC peers cannot read).

use std::cell::Cell;

use bytes::Bytes;
use serde::de::Error as _;
use serde::ser::{Error as _, SerializeMap};
use serde_json::Value;

use super::json_types::{lookup, type_name};
use super::status::TYPE_URL_PREFIX;

/// `google.protobuf.Any`: a message of any type, as its type URL and binary encoding.
///
/// On the wire it is `google.protobuf.Any`. In JSON it takes the proto3 form — the packed
/// message's own JSON with an `"@type"` member,
/// `{"@type": "type.googleapis.com/kv.v1.Entry", "key": "a"}`, or for a well-known type with
/// its own JSON form `{"@type": "…/google.protobuf.Duration", "value": "1.5s"}` — which needs
/// the packed type to be registered (see [`register_json_type`](crate::register_json_type);
/// generated code registers its packages' messages). Writing an `Any` of an unregistered
/// type is an error (`internal` from the JSON codec), and so is reading one
/// (`invalid_argument`).
///
/// Generated message types use it for `Any` fields when protoc-gen-prost is given
/// `extern_path=.google.protobuf.Any=::connect_plugin::Any` (pbjson's generated serde code
/// then calls this type's).
///
/// ```
/// use connect_plugin::Any;
/// use pbjson_types::Duration;
///
/// // pbjson-types' well-known types have no `prost::Name`: name them.
/// let any = Any::from_msg_named("google.protobuf.Duration", &Duration { seconds: 90, nanos: 0 });
/// let json = r#"{"@type":"type.googleapis.com/google.protobuf.Duration","value":"90s"}"#;
/// assert_eq!(serde_json::to_string(&any).unwrap(), json);
///
/// let back: Any = serde_json::from_str(json).unwrap();
/// let d: Duration = back.to_msg_named("google.protobuf.Duration").unwrap();
/// assert_eq!(d.seconds, 90);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
pub struct Any {
    /// The type URL, `type.googleapis.com/` and the message's full name.
    #[prost(string, tag = "1")]
    pub type_url: String,
    /// The message's binary encoding.
    #[prost(bytes = "bytes", tag = "2")]
    pub value: Bytes,
}

impl prost::Name for Any {
    const NAME: &'static str = "Any";
    const PACKAGE: &'static str = "google.protobuf";

    fn type_url() -> String {
        format!("{TYPE_URL_PREFIX}google.protobuf.Any")
    }
}

/// Why an [`Any`] could not be unpacked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnyError {
    /// The `Any` holds another type.
    #[error("the Any holds {found}, not {expected}")]
    TypeMismatch {
        /// The full name asked for.
        expected: String,
        /// The type URL found.
        found: String,
    },
    /// The bytes are not a valid encoding of the type.
    #[error("the Any's {type_url} does not decode: {source}")]
    Decode {
        /// The type URL.
        type_url: String,
        /// prost's error.
        source: prost::DecodeError,
    },
}

impl Any {
    /// Packs `message` under `type.googleapis.com/` and its full name.
    pub fn from_msg<M: prost::Message + prost::Name>(message: &M) -> Any {
        Any::from_msg_named(&M::full_name(), message)
    }

    /// Packs `message` under `type.googleapis.com/` and `full_name`: for types without
    /// `prost::Name`, such as pbjson-types' well-known types.
    pub fn from_msg_named(full_name: &str, message: &impl prost::Message) -> Any {
        Any {
            type_url: format!("{TYPE_URL_PREFIX}{full_name}"),
            value: Bytes::from(message.encode_to_vec()),
        }
    }

    /// The full name of the packed type: the type URL after its last `/`.
    pub fn type_name(&self) -> &str {
        type_name(&self.type_url)
    }

    /// Whether the `Any` holds an `M`.
    pub fn is<M: prost::Name>(&self) -> bool {
        self.type_name() == M::full_name()
    }

    /// Unpacks the message, when it is an `M`.
    pub fn to_msg<M: prost::Message + prost::Name + Default>(&self) -> Result<M, AnyError> {
        self.to_msg_named(&M::full_name())
    }

    /// Unpacks the message, when its full name is `full_name`: for types without
    /// `prost::Name`.
    pub fn to_msg_named<M: prost::Message + Default>(
        &self,
        full_name: &str,
    ) -> Result<M, AnyError> {
        if self.type_name() != full_name {
            return Err(AnyError::TypeMismatch {
                expected: full_name.to_owned(),
                found: self.type_url.clone(),
            });
        }
        M::decode(self.value.clone()).map_err(|source| AnyError::Decode {
            type_url: self.type_url.clone(),
            source,
        })
    }
}

impl From<pbjson_types::Any> for Any {
    fn from(a: pbjson_types::Any) -> Any {
        Any {
            type_url: a.type_url,
            value: a.value,
        }
    }
}

impl From<Any> for pbjson_types::Any {
    fn from(a: Any) -> pbjson_types::Any {
        pbjson_types::Any {
            type_url: a.type_url,
            value: a.value,
        }
    }
}

/// Why an [`Any`] has no JSON form, or a JSON object is no `Any`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum JsonError {
    #[error(
        "google.protobuf.Any: type {0:?} is not registered for JSON (generated packages register theirs when a client or router is built, or with their register_json_types(); other types with connect_plugin::register_json_type::<M>())"
    )]
    Unregistered(String),
    #[error("google.protobuf.Any: {type_url}: {reason}")]
    Message { type_url: String, reason: String },
    #[error("google.protobuf.Any: expected a JSON object, found {0}")]
    NotAnObject(&'static str),
    #[error("google.protobuf.Any: \"@type\" is missing or not a string")]
    NoType,
    #[error("google.protobuf.Any: {0}: \"value\" is missing")]
    NoValue(String),
    #[error("google.protobuf.Any: {0}: unknown member {1:?} beside \"@type\" and \"value\"")]
    Extra(String, String),
    #[error("google.protobuf.Any: more than {MAX_DEPTH} levels of Any inside Any")]
    TooDeep,
}

/// `google.protobuf.Empty`, the one type the runtimes write in two ways inside an `Any`.
const EMPTY: &str = "google.protobuf.Empty";

/// How many `Any`s inside `Any`s a message may hold when written as JSON. Reading is bounded
/// by serde_json's own nesting limit; writing starts from binary bytes, which have none.
const MAX_DEPTH: u32 = 64;

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Counts one level of `Any` being written, for as long as it lives.
struct DepthGuard;

impl DepthGuard {
    fn enter() -> Result<DepthGuard, JsonError> {
        DEPTH.with(|d| {
            if d.get() >= MAX_DEPTH {
                return Err(JsonError::TooDeep);
            }
            d.set(d.get() + 1);
            Ok(DepthGuard)
        })
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

impl Any {
    /// The JSON of the packed message, and whether it goes under `"value"`.
    fn packed_json(&self) -> Result<(Value, bool), JsonError> {
        let t =
            lookup(&self.type_url).ok_or_else(|| JsonError::Unregistered(self.type_url.clone()))?;
        let _depth = DepthGuard::enter()?;
        let json = (t.to_json)(&self.value).map_err(|reason| JsonError::Message {
            type_url: self.type_url.clone(),
            reason,
        })?;
        Ok((json, t.wrapped))
    }

    /// Reads the proto3 JSON form.
    fn from_json(json: Value) -> Result<Any, JsonError> {
        let mut object = match json {
            Value::Object(o) => o,
            other => return Err(JsonError::NotAnObject(kind(&other))),
        };
        // The default `Any` (no type, no bytes) is written as `{}`.
        if object.is_empty() {
            return Ok(Any::default());
        }
        let Some(Value::String(type_url)) = object.remove("@type") else {
            return Err(JsonError::NoType);
        };
        let t = lookup(&type_url).ok_or_else(|| JsonError::Unregistered(type_url.clone()))?;
        // protobuf-go writes an `Empty` as `"value": {}` (other runtimes write nothing).
        let go_empty = type_name(&type_url) == EMPTY && object.contains_key("value");
        let packed = if t.wrapped || go_empty {
            let value = object
                .remove("value")
                .ok_or_else(|| JsonError::NoValue(type_url.clone()))?;
            if let Some(extra) = object.keys().next() {
                return Err(JsonError::Extra(type_url, extra.clone()));
            }
            value
        } else {
            Value::Object(object)
        };
        let value = (t.from_json)(packed).map_err(|reason| JsonError::Message {
            type_url: type_url.clone(),
            reason,
        })?;
        Ok(Any {
            type_url,
            value: Bytes::from(value),
        })
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl serde::Serialize for Any {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.type_url.is_empty() && self.value.is_empty() {
            return serializer.serialize_map(Some(0))?.end();
        }
        let (json, wrapped) = self.packed_json().map_err(S::Error::custom)?;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("@type", &self.type_url)?;
        if wrapped {
            map.serialize_entry("value", &json)?;
        } else {
            let Value::Object(fields) = json else {
                return Err(S::Error::custom(JsonError::Message {
                    type_url: self.type_url.clone(),
                    reason: format!("its JSON is {}, not an object", kind(&json)),
                }));
            };
            for (k, v) in &fields {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

impl<'de> serde::Deserialize<'de> for Any {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Any, D::Error> {
        let json = Value::deserialize(deserializer)?;
        Any::from_json(json).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use pbjson_types::{Duration, Empty, Struct};
    use serde_json::json;

    use super::*;
    use crate::protocol::Codec;
    use crate::protocol::code::Code;
    use crate::protocol::json_types::register_json_type;

    /// A message as prost and pbjson would generate it, with an `Any` field.
    #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "camelCase", default)]
    struct Entry {
        #[prost(string, tag = "1")]
        #[serde(skip_serializing_if = "String::is_empty")]
        key: String,
        #[prost(int64, tag = "2")]
        #[serde(with = "int64_string")]
        version: i64,
        #[prost(message, optional, tag = "3")]
        #[serde(skip_serializing_if = "Option::is_none")]
        extra: Option<Any>,
    }

    impl prost::Name for Entry {
        const NAME: &'static str = "Entry";
        const PACKAGE: &'static str = "anytest.v1";
    }

    /// Never registered.
    #[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
    struct Stranger {
        #[prost(string, tag = "1")]
        name: String,
    }

    impl prost::Name for Stranger {
        const NAME: &'static str = "Stranger";
        const PACKAGE: &'static str = "anytest.v1";
    }

    mod int64_string {
        pub(super) fn serialize<S: serde::Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(v)
        }
        pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
            let s: String = serde::Deserialize::deserialize(d)?;
            s.parse().map_err(serde::de::Error::custom)
        }
    }

    fn duration(seconds: i64, nanos: i32) -> Any {
        Any::from_msg_named("google.protobuf.Duration", &Duration { seconds, nanos })
    }

    fn empty() -> Any {
        Any::from_msg_named("google.protobuf.Empty", &Empty {})
    }

    fn entry(key: &str, extra: Option<Any>) -> Entry {
        Entry {
            key: key.into(),
            version: 7,
            extra,
        }
    }

    fn to_json(m: &impl Message) -> Result<Value, Status> {
        let bytes = Codec::Json.encode_to_bytes(m)?;
        Ok(serde_json::from_slice(&bytes).expect("the codec writes JSON"))
    }

    fn from_json<M: Message>(v: Value) -> Result<M, Status> {
        Codec::Json.decode(Bytes::from(v.to_string()))
    }

    use crate::protocol::Message;
    use crate::protocol::Status;

    #[test]
    fn a_message_is_written_with_its_fields_beside_type() {
        register_json_type::<Entry>();
        let any = Any::from_msg(&entry("a", None));
        assert_eq!(
            to_json(&any).unwrap(),
            json!({"@type": "type.googleapis.com/anytest.v1.Entry", "key": "a", "version": "7"})
        );
    }

    #[test]
    fn the_standard_form_is_read_back_to_the_same_bytes() {
        register_json_type::<Entry>();
        let want = Any::from_msg(&entry("a", None));
        // Member order does not matter: "@type" may come last.
        let got: Any = from_json(
            json!({"key": "a", "version": "7", "@type": "type.googleapis.com/anytest.v1.Entry"}),
        )
        .unwrap();
        assert_eq!(got, want);
        assert_eq!(got.to_msg::<Entry>().unwrap(), entry("a", None));
    }

    #[test]
    fn well_known_types_go_under_value() {
        let d = duration(1, 500_000_000);
        let want =
            json!({"@type": "type.googleapis.com/google.protobuf.Duration", "value": "1.500s"});
        assert_eq!(to_json(&d).unwrap(), want);
        assert_eq!(from_json::<Any>(want).unwrap(), d);

        let mut s = Struct::default();
        s.fields.insert(
            "n".into(),
            pbjson_types::Value {
                kind: Some(pbjson_types::value::Kind::NumberValue(2.0)),
            },
        );
        let want =
            json!({"@type": "type.googleapis.com/google.protobuf.Struct", "value": {"n": 2.0}});
        assert_eq!(
            to_json(&Any::from_msg_named("google.protobuf.Struct", &s)).unwrap(),
            want
        );
        assert_eq!(
            from_json::<Any>(want)
                .unwrap()
                .to_msg_named::<Struct>("google.protobuf.Struct")
                .unwrap(),
            s
        );

        // `Empty` as protobuf-es and C++ write it, and also as protobuf-go does.
        let e = empty();
        let want = json!({"@type": "type.googleapis.com/google.protobuf.Empty"});
        assert_eq!(to_json(&e).unwrap(), want);
        assert_eq!(from_json::<Any>(want).unwrap(), e);
        let go = json!({"@type": "type.googleapis.com/google.protobuf.Empty", "value": {}});
        assert_eq!(from_json::<Any>(go).unwrap(), e);
    }

    #[test]
    fn a_well_known_type_needs_its_value() {
        let err =
            from_json::<Any>(json!({"@type": "type.googleapis.com/google.protobuf.Duration"}))
                .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert!(err.message().contains("\"value\" is missing"), "{err}");
        let err = from_json::<Any>(
            json!({"@type": "type.googleapis.com/google.protobuf.Duration", "value": "1s", "x": 1}),
        )
        .unwrap_err();
        assert!(err.message().contains("unknown member \"x\""), "{err}");
    }

    #[test]
    fn any_inside_any_inside_a_message() {
        register_json_type::<Entry>();
        let inner = duration(3, 0);
        let middle = Any::from_msg(&inner);
        let outer = entry("b", Some(Any::from_msg(&entry("c", Some(middle)))));
        let want = json!({
            "key": "b",
            "version": "7",
            "extra": {
                "@type": "type.googleapis.com/anytest.v1.Entry",
                "key": "c",
                "version": "7",
                "extra": {
                    "@type": "type.googleapis.com/google.protobuf.Any",
                    "value": {
                        "@type": "type.googleapis.com/google.protobuf.Duration",
                        "value": "3s"
                    }
                }
            }
        });
        assert_eq!(to_json(&outer).unwrap(), want);
        assert_eq!(from_json::<Entry>(want).unwrap(), outer);
    }

    #[test]
    fn an_unregistered_type_is_an_error_saying_how_to_register_it() {
        let any = Any::from_msg(&Stranger { name: "x".into() });
        let err = to_json(&any).unwrap_err();
        assert_eq!(err.code(), Code::Internal);
        assert!(
            err.message().contains("anytest.v1.Stranger")
                && err.message().contains("register_json_type"),
            "{err}"
        );
        let err = from_json::<Any>(
            json!({"@type": "type.googleapis.com/anytest.v1.Stranger", "name": "x"}),
        )
        .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert!(err.message().contains("register_json_type"), "{err}");
        // The binary codec does not care.
        assert_eq!(
            Codec::Proto
                .decode::<Any>(Codec::Proto.encode_to_bytes(&any).unwrap())
                .unwrap(),
            any
        );
    }

    #[test]
    fn malformed_json_is_rejected() {
        for (bad, says) in [
            (json!("text"), "expected a JSON object, found a string"),
            (json!({"key": "a"}), "\"@type\" is missing"),
            (json!({"@type": 5}), "\"@type\" is missing"),
            (
                json!({"@type": "type.googleapis.com/google.protobuf.Duration", "value": 5}),
                "google.protobuf.Duration",
            ),
        ] {
            let err = from_json::<Any>(bad.clone()).unwrap_err();
            assert_eq!(err.code(), Code::InvalidArgument, "{bad}");
            assert!(err.message().contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn the_empty_any_is_an_empty_object() {
        assert_eq!(to_json(&Any::default()).unwrap(), json!({}));
        assert_eq!(from_json::<Any>(json!({})).unwrap(), Any::default());
    }

    #[test]
    fn bytes_that_do_not_decode_are_an_encoding_error() {
        let any = Any {
            type_url: "type.googleapis.com/google.protobuf.Duration".into(),
            value: Bytes::from_static(&[0xff]),
        };
        let err = to_json(&any).unwrap_err();
        assert_eq!(err.code(), Code::Internal);
        assert!(err.message().contains("invalid protobuf bytes"), "{err}");
    }

    #[test]
    fn nesting_too_deep_is_an_error_not_a_crash() {
        let mut any = empty();
        for _ in 0..MAX_DEPTH + 1 {
            any = Any::from_msg(&any);
        }
        let err = to_json(&any).unwrap_err();
        assert!(err.message().contains("levels of Any inside Any"), "{err}");
        // The counter is back to zero afterwards.
        assert!(to_json(&Any::from_msg(&empty())).is_ok());
    }

    #[test]
    fn pack_and_unpack() {
        let any = duration(4, 0);
        assert!(any.type_name() == "google.protobuf.Duration" && !any.is::<Entry>());
        assert_eq!(
            any.to_msg::<Entry>(),
            Err(AnyError::TypeMismatch {
                expected: "anytest.v1.Entry".into(),
                found: "type.googleapis.com/google.protobuf.Duration".into()
            })
        );
        let theirs = pbjson_types::Any::from(any.clone());
        assert_eq!(theirs.type_url, any.type_url);
        assert_eq!(Any::from(theirs), any);
    }
}
