//! Calls of every kind against a test server, reduced to what the conformance suite's
//! client adapter reports: the response headers, the messages, the error and the trailers
//! (of a failed call: those its error carries).

use connect_plugin::rpc::{Idempotency, MethodDescriptor};
use connect_plugin::transport::HttpVersion;
use connect_plugin::{
    Channel, Client, ClientConfig, Protocol, Request, Status, StreamType, Streaming,
};
use http::HeaderMap;

use crate::common::Msg;

/// `/t.v1.T/Unary`.
pub const UNARY: MethodDescriptor =
    MethodDescriptor::new("/t.v1.T/Unary", StreamType::Unary, Idempotency::Unknown);
/// `/t.v1.T/Client`.
pub const CLIENT: MethodDescriptor = MethodDescriptor::new(
    "/t.v1.T/Client",
    StreamType::ClientStreaming,
    Idempotency::Unknown,
);
/// `/t.v1.T/Server`.
pub const SERVER: MethodDescriptor = MethodDescriptor::new(
    "/t.v1.T/Server",
    StreamType::ServerStreaming,
    Idempotency::Unknown,
);
/// `/t.v1.T/Bidi`.
pub const BIDI: MethodDescriptor = MethodDescriptor::new(
    "/t.v1.T/Bidi",
    StreamType::BidiStreaming,
    Idempotency::Unknown,
);

/// What a call came to.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The response headers (of a failed call: its error's).
    pub headers: HeaderMap,
    /// The messages received.
    pub messages: Vec<Msg>,
    /// The error, if the call failed.
    pub error: Option<Status>,
    /// The trailers (of a failed call: its error's).
    pub trailers: HeaderMap,
}

impl Outcome {
    /// The error's code, or a panic saying what came instead.
    pub fn code(&self) -> connect_plugin::Code {
        match &self.error {
            Some(e) => e.code(),
            None => panic!("the call succeeded: {self:?}"),
        }
    }

    fn failed(mut self, e: Status) -> Self {
        self.headers = e.headers().clone();
        self.trailers = e.trailers().clone();
        self.error = Some(e);
        self
    }
}

/// A client of `url` speaking `protocol` with proto messages over `version`.
pub fn client(url: &str, protocol: Protocol, version: HttpVersion) -> Client {
    let channel = Channel::builder(url).unwrap().http_version(version).build();
    Client::with_config(
        channel,
        ClientConfig {
            protocol,
            ..ClientConfig::default()
        },
    )
}

/// Calls `method` (one request message) and reads the whole answer.
pub async fn call(client: &Client, method: &MethodDescriptor) -> Outcome {
    let one = Msg {
        text: "hi".to_owned(),
    };
    let out = Outcome::default();
    match method.stream_type {
        StreamType::Unary | StreamType::ClientStreaming => {
            let result = if method.stream_type == StreamType::Unary {
                client.unary::<Msg, Msg>(method, Request::new(one)).await
            } else {
                let stream: Streaming<Msg> = vec![one].into();
                client
                    .client_streaming::<Msg, Msg>(method, Request::new(stream))
                    .await
            };
            match result {
                Ok(resp) => {
                    let (headers, msg, trailers) = resp.into_parts();
                    Outcome {
                        headers,
                        messages: vec![msg],
                        error: None,
                        trailers,
                    }
                }
                Err(e) => out.failed(e),
            }
        }
        StreamType::ServerStreaming | StreamType::BidiStreaming => {
            let result = if method.stream_type == StreamType::ServerStreaming {
                client
                    .server_streaming::<Msg, Msg>(method, Request::new(one))
                    .await
            } else {
                let stream: Streaming<Msg> = vec![one].into();
                client
                    .bidi_streaming::<Msg, Msg>(method, Request::new(stream))
                    .await
            };
            let resp = match result {
                Ok(resp) => resp,
                Err(e) => return out.failed(e),
            };
            let (headers, mut stream, _) = resp.into_parts();
            let mut messages = Vec::new();
            loop {
                match stream.message().await {
                    Ok(Some(m)) => messages.push(m),
                    Ok(None) => {
                        return Outcome {
                            headers,
                            messages,
                            error: None,
                            trailers: stream.trailers().cloned().unwrap_or_default(),
                        };
                    }
                    Err(e) => {
                        return Outcome {
                            messages,
                            ..Outcome::default()
                        }
                        .failed(e);
                    }
                }
            }
        }
    }
}

/// The values of `name` in `map`.
pub fn values(map: &HeaderMap, name: &str) -> Vec<String> {
    map.get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}
