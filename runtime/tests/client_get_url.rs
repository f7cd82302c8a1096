//! A Connect GET puts its query parameters in the order the protocol asks of clients
//! (connectrpc.com protocol reference, `Query-Get`: connect, base64, compression,
//! encoding, message), so that equal calls make byte-equal, cacheable URLs.

mod common;
mod raw;

use common::Msg;
use connect_plugin::rpc::{Idempotency, MethodDescriptor};
use connect_plugin::{Channel, Client, ClientConfig, Codec, Encoding, Request, StreamType};
use raw::Canned;

const GET: MethodDescriptor =
    MethodDescriptor::new("/t.v1.T/Get", StreamType::Unary, Idempotency::NoSideEffects);

async fn url_of(config: ClientConfig, text: &str) -> (http::Method, String) {
    let ct = if config.codec == Codec::Json {
        "application/json"
    } else {
        "application/proto"
    };
    let mut server = raw::h2(Canned::new(200, ct).data(if config.codec == Codec::Json {
        "{}"
    } else {
        ""
    }))
    .await;
    let client = Client::with_config(Channel::builder(&server.url()).unwrap().build(), config);
    let msg = Msg {
        text: text.to_owned(),
    };
    client
        .unary::<Msg, Msg>(&GET, Request::new(msg))
        .await
        .unwrap();
    let seen = server.next_request().await;
    let path = seen.uri.path_and_query().map(ToString::to_string);
    (seen.method, path.unwrap_or_default())
}

#[tokio::test]
async fn get_query_parameters_come_in_protocol_order() {
    let get = ClientConfig {
        use_get: true,
        ..ClientConfig::default()
    };
    let (method, url) = url_of(get.clone(), "hi").await;
    assert_eq!(method, http::Method::GET);
    // Msg { text: "hi" } is 0a 02 68 69: base64url "CgJoaQ".
    assert_eq!(
        url,
        "/t.v1.T/Get?connect=v1&base64=1&encoding=proto&message=CgJoaQ"
    );
    let json = ClientConfig {
        codec: Codec::Json,
        ..get.clone()
    };
    let (_, url) = url_of(json, "hi").await;
    // {"text":"hi"}, base64url.
    assert_eq!(
        url,
        "/t.v1.T/Get?connect=v1&base64=1&encoding=json&message=eyJ0ZXh0IjoiaGkifQ"
    );
    let gzip = ClientConfig {
        send_compression: Encoding::Gzip,
        compress_min_bytes: 0,
        ..get
    };
    let (_, url) = url_of(gzip, "hi").await;
    assert!(
        url.starts_with("/t.v1.T/Get?connect=v1&base64=1&compression=gzip&encoding=proto&message="),
        "{url}"
    );
}
