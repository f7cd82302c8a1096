//! The JSON form of an error detail, for the optional `debug` field connect-go writes
//! beside a Connect error detail's type and bytes: rendered for the detail types this
//! runtime knows (the `google.rpc` error details and the `google.protobuf` well-known and
//! descriptor types), left out for the others. Readers never rely on it.

use serde_json::Value;

use super::rpc_details as rpc;

/// The detail `value` of type `type_name` as JSON, when the type is one this runtime knows
/// and the bytes decode as it.
pub(crate) fn debug_json(type_name: &str, value: &[u8]) -> Option<Value> {
    use pbjson_types as pb;
    match type_name {
        "google.rpc.ErrorInfo" => render::<rpc::ErrorInfo>(value),
        "google.rpc.RetryInfo" => render::<rpc::RetryInfo>(value),
        "google.rpc.DebugInfo" => render::<rpc::DebugInfo>(value),
        "google.rpc.QuotaFailure" => render::<rpc::QuotaFailure>(value),
        "google.rpc.PreconditionFailure" => render::<rpc::PreconditionFailure>(value),
        "google.rpc.BadRequest" => render::<rpc::BadRequest>(value),
        "google.rpc.RequestInfo" => render::<rpc::RequestInfo>(value),
        "google.rpc.ResourceInfo" => render::<rpc::ResourceInfo>(value),
        "google.rpc.Help" => render::<rpc::Help>(value),
        "google.rpc.LocalizedMessage" => render::<rpc::LocalizedMessage>(value),
        "google.protobuf.Duration" => render::<pb::Duration>(value),
        "google.protobuf.Timestamp" => render::<pb::Timestamp>(value),
        "google.protobuf.Empty" => render::<pb::Empty>(value),
        "google.protobuf.FieldMask" => render::<pb::FieldMask>(value),
        "google.protobuf.Struct" => render::<pb::Struct>(value),
        "google.protobuf.Value" => render::<pb::Value>(value),
        "google.protobuf.ListValue" => render::<pb::ListValue>(value),
        "google.protobuf.BoolValue" => render::<pb::BoolValue>(value),
        "google.protobuf.BytesValue" => render::<pb::BytesValue>(value),
        "google.protobuf.DoubleValue" => render::<pb::DoubleValue>(value),
        "google.protobuf.FloatValue" => render::<pb::FloatValue>(value),
        "google.protobuf.Int32Value" => render::<pb::Int32Value>(value),
        "google.protobuf.Int64Value" => render::<pb::Int64Value>(value),
        "google.protobuf.StringValue" => render::<pb::StringValue>(value),
        "google.protobuf.UInt32Value" => render::<pb::UInt32Value>(value),
        "google.protobuf.UInt64Value" => render::<pb::UInt64Value>(value),
        "google.protobuf.FileDescriptorProto" => render::<pb::FileDescriptorProto>(value),
        "google.protobuf.FileDescriptorSet" => render::<pb::FileDescriptorSet>(value),
        "google.protobuf.DescriptorProto" => render::<pb::DescriptorProto>(value),
        _ => None,
    }
}

fn render<M: prost::Message + Default + serde::Serialize>(value: &[u8]) -> Option<Value> {
    serde_json::to_value(M::decode(value).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use prost::Message as _;
    use serde_json::json;

    use super::*;

    #[test]
    fn known_details_render_as_protobuf_json() {
        let info = rpc::ErrorInfo {
            reason: "QUOTA".into(),
            domain: "example.com".into(),
            metadata: BTreeMap::from([("zone".to_owned(), "eu".to_owned())]),
        };
        assert_eq!(
            debug_json("google.rpc.ErrorInfo", &info.encode_to_vec()),
            Some(json!({"reason": "QUOTA", "domain": "example.com", "metadata": {"zone": "eu"}}))
        );
        let retry = rpc::RetryInfo {
            retry_delay: Some(pbjson_types::Duration {
                seconds: 1,
                nanos: 500_000_000,
            }),
        };
        assert_eq!(
            debug_json("google.rpc.RetryInfo", &retry.encode_to_vec()),
            Some(json!({"retryDelay": "1.500s"}))
        );
        let bad = rpc::BadRequest {
            field_violations: vec![rpc::FieldViolation {
                field: "key".into(),
                description: "empty".into(),
                ..Default::default()
            }],
        };
        assert_eq!(
            debug_json("google.rpc.BadRequest", &bad.encode_to_vec()),
            Some(json!({"fieldViolations": [{"field": "key", "description": "empty"}]}))
        );
        // The conformance suite's detail: a FileDescriptorProto named "test.proto".
        assert_eq!(
            debug_json("google.protobuf.FileDescriptorProto", b"\n\ntest.proto"),
            Some(json!({"name": "test.proto"}))
        );
        assert_eq!(
            debug_json("google.protobuf.StringValue", b"\n\x02hi"),
            Some(json!("hi"))
        );
    }

    #[test]
    fn unknown_types_and_garbage_render_nothing() {
        assert_eq!(debug_json("acme.v1.Secret", b"\n\x02hi"), None);
        assert_eq!(
            debug_json("google.rpc.ErrorInfo", &[0xff, 0xff, 0xff]),
            None
        );
    }
}
