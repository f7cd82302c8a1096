//! What the unit tests of this folder share: methods, a server call with given headers, and
//! a certificate to read.

use http::{HeaderMap, HeaderName, HeaderValue};
use rustls::pki_types::CertificateDer;

use crate::protocol::{Codec, Protocol, StreamType};
use crate::rpc::{Idempotency, MethodDescriptor, ServerCall, ServerInput};

pub(super) const GET: MethodDescriptor =
    MethodDescriptor::new("/kv.v1.KV/Get", StreamType::Unary, Idempotency::Unknown);
pub(super) const DELETE: MethodDescriptor =
    MethodDescriptor::new("/kv.v1.KV/Delete", StreamType::Unary, Idempotency::Unknown);
pub(super) const HEALTH: MethodDescriptor = MethodDescriptor::new(
    "/grpc.health.v1.Health/Check",
    StreamType::Unary,
    Idempotency::Unknown,
);

/// A unary call of `method` with `headers`, over no connection.
pub(super) fn call(method: MethodDescriptor, headers: &[(&str, &str)]) -> ServerCall {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    let mut call = ServerCall::new(
        method,
        Protocol::Connect,
        Codec::Proto,
        ServerInput::Unary(bytes::Bytes::new()),
    );
    call.headers = map;
    call
}

/// A self-signed certificate with common name `cn` and DNS names `sans`, and its DER
/// SubjectPublicKeyInfo.
pub(super) fn cert(cn: Option<&str>, sans: &[&str]) -> (CertificateDer<'static>, Vec<u8>) {
    let mut params =
        rcgen::CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Example");
    if let Some(cn) = cn {
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
    }
    let key = rcgen::KeyPair::generate().unwrap();
    let c = params.self_signed(&key).unwrap();
    (
        c.der().clone(),
        rcgen::PublicKeyData::subject_public_key_info(&key),
    )
}
