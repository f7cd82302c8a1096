//! The `ConformanceService` the server under test serves: each method answers as the
//! response definition in its request says (headers, data or an error, trailers, delays),
//! echoing what the server saw of the request in a `RequestInfo`.

use std::time::Duration;

use bytes::Bytes;
use connect_plugin::rpc::BoxStream;
use connect_plugin::{Code, ErrorDetail, Request, Response, Status, Streaming};
use futures_util::StreamExt as _;
use http::{HeaderMap, HeaderName, HeaderValue};
use prost::Name as _;

use crate::pb::{
    self, BidiStreamRequest, BidiStreamResponse, ClientStreamRequest, ClientStreamResponse,
    ConformancePayload, IdempotentUnaryRequest, IdempotentUnaryResponse, ServerStreamRequest,
    ServerStreamResponse, StreamResponseDefinition, UnaryRequest, UnaryResponse,
    UnaryResponseDefinition, UnimplementedRequest, UnimplementedResponse,
    conformance_payload::{ConnectGetInfo, RequestInfo},
    unary_response_definition,
};

/// The server under test's implementation of `ConformanceService`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Conformance;

/// A message packed as `google.protobuf.Any`.
pub fn pack<M: prost::Message + prost::Name>(message: &M) -> connect_plugin::Any {
    connect_plugin::Any::from_msg(message)
}

/// Header maps as the suite writes them: one entry per name, its values in order.
pub fn to_headers(map: &HeaderMap) -> Vec<pb::Header> {
    let mut out: Vec<pb::Header> = Vec::new();
    for (name, value) in map {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match out.iter_mut().find(|h| h.name == name.as_str()) {
            Some(h) => h.value.push(value),
            None => out.push(pb::Header {
                name: name.as_str().to_owned(),
                value: vec![value],
            }),
        }
    }
    out
}

/// Adds the suite's headers to a map; names or values HTTP cannot carry are skipped.
pub fn add_headers(map: &mut HeaderMap, headers: &[pb::Header]) {
    for h in headers {
        let Ok(name) = HeaderName::from_bytes(h.name.as_bytes()) else {
            tracing::warn!(name = %h.name, "skipping a header name HTTP cannot carry");
            continue;
        };
        for v in &h.value {
            match HeaderValue::from_str(v) {
                Ok(v) => {
                    map.append(name.clone(), v);
                }
                Err(_) => {
                    tracing::warn!(name = %h.name, "skipping a header value HTTP cannot carry")
                }
            }
        }
    }
}

/// What the server saw of a request: its headers, deadline, messages, and for a Connect
/// GET its query parameters.
fn request_info<T>(request: &Request<T>, requests: Vec<connect_plugin::Any>) -> RequestInfo {
    let connect_get_info = (request.http_method() == Some(&http::Method::GET)).then(|| {
        let query = request.uri().and_then(|u| u.query()).unwrap_or("");
        let mut params: Vec<pb::Header> = Vec::new();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            match params.iter_mut().find(|p| p.name == name) {
                Some(p) => p.value.push(value.into_owned()),
                None => params.push(pb::Header {
                    name: name.into_owned(),
                    value: vec![value.into_owned()],
                }),
            }
        }
        ConnectGetInfo {
            query_params: params,
        }
    });
    RequestInfo {
        request_headers: to_headers(request.headers()),
        timeout_ms: request
            .remaining()
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        requests,
        connect_get_info,
    }
}

/// The error a definition asks for; with `info` when no payload carried it.
fn definition_error(error: &pb::Error, info: Option<&RequestInfo>) -> Status {
    let code = Code::from_i32(error.code).unwrap_or(Code::Unknown);
    let mut status = Status::new(code, error.message.clone().unwrap_or_default());
    for d in &error.details {
        status = status.with_detail(ErrorDetail::new(d.type_url.clone(), d.value.clone()));
    }
    if let Some(info) = info {
        status = status.with_detail(ErrorDetail::new(
            RequestInfo::full_name(),
            prost::Message::encode_to_vec(info),
        ));
    }
    status
}

fn delay(ms: u32) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(u64::from(ms)))
}

/// Answers a unary-shaped call (unary, client stream) as `definition` says.
async fn answer_unary(
    definition: Option<UnaryResponseDefinition>,
    info: RequestInfo,
) -> Result<Response<ConformancePayload>, Status> {
    let definition = definition.unwrap_or_default();
    if let Some(d) = delay(definition.response_delay_ms) {
        tokio::time::sleep(d).await;
    }
    let mut headers = HeaderMap::new();
    add_headers(&mut headers, &definition.response_headers);
    let mut trailers = HeaderMap::new();
    add_headers(&mut trailers, &definition.response_trailers);
    let data = match definition.response {
        Some(unary_response_definition::Response::Error(error)) => {
            return Err(definition_error(&error, Some(&info))
                .with_headers(headers)
                .with_trailers(trailers));
        }
        Some(unary_response_definition::Response::ResponseData(data)) => data,
        None => Bytes::new(),
    };
    Ok(Response::from_parts(
        headers,
        ConformancePayload {
            data,
            request_info: Some(info),
        },
        trailers,
    ))
}

/// The response stream `definition` asks for: its data, one message after each delay, the
/// first carrying `info` (full-duplex bidi passes one `info` per message instead), then its
/// error if any.
fn answer_stream<R, F>(
    definition: &StreamResponseDefinition,
    infos: impl Iterator<Item = Option<RequestInfo>> + Send + 'static,
    first_info: RequestInfo,
    wrap: F,
) -> BoxStream<R>
where
    R: Send + 'static,
    F: Fn(ConformancePayload) -> R + Send + Sync + 'static,
{
    let pause = delay(definition.response_delay_ms);
    let data = definition.response_data.clone();
    let sent_any = !data.is_empty();
    let messages = futures_util::stream::iter(data.into_iter().zip(infos)).then(
        move |(data, info)| async move {
            if let Some(d) = pause {
                tokio::time::sleep(d).await;
            }
            Ok(ConformancePayload {
                data,
                request_info: info,
            })
        },
    );
    let error = definition
        .error
        .as_ref()
        .map(|e| definition_error(e, (!sent_any).then_some(&first_info)));
    Box::pin(
        messages
            .chain(futures_util::stream::iter(error.map(Err)))
            .map(move |r| r.map(&wrap)),
    )
}

fn stream_headers(definition: &StreamResponseDefinition) -> (HeaderMap, HeaderMap) {
    let mut headers = HeaderMap::new();
    add_headers(&mut headers, &definition.response_headers);
    let mut trailers = HeaderMap::new();
    add_headers(&mut trailers, &definition.response_trailers);
    (headers, trailers)
}

/// Reads a whole request stream, keeping the messages (and their `Any` forms).
async fn read_all<T>(
    stream: &mut Streaming<T>,
) -> Result<(Vec<T>, Vec<connect_plugin::Any>), Status>
where
    T: connect_plugin::protocol::Message + prost::Name,
{
    let mut messages = Vec::new();
    let mut anys = Vec::new();
    while let Some(m) = stream.message().await? {
        anys.push(pack(&m));
        messages.push(m);
    }
    Ok((messages, anys))
}

#[connect_plugin::async_trait]
impl pb::ConformanceService for Conformance {
    async fn unary(
        &self,
        request: Request<UnaryRequest>,
    ) -> Result<Response<UnaryResponse>, Status> {
        let info = request_info(&request, vec![pack(request.get_ref())]);
        let definition = request.into_inner().response_definition;
        Ok(answer_unary(definition, info)
            .await?
            .map(|payload| UnaryResponse {
                payload: Some(payload),
            }))
    }

    async fn idempotent_unary(
        &self,
        request: Request<IdempotentUnaryRequest>,
    ) -> Result<Response<IdempotentUnaryResponse>, Status> {
        let info = request_info(&request, vec![pack(request.get_ref())]);
        let definition = request.into_inner().response_definition;
        Ok(answer_unary(definition, info)
            .await?
            .map(|payload| IdempotentUnaryResponse {
                payload: Some(payload),
            }))
    }

    async fn unimplemented(
        &self,
        _request: Request<UnimplementedRequest>,
    ) -> Result<Response<UnimplementedResponse>, Status> {
        Err(Status::unimplemented(
            "connectrpc.conformance.v1.ConformanceService.Unimplemented is not implemented",
        ))
    }

    async fn server_stream(
        &self,
        request: Request<ServerStreamRequest>,
    ) -> Result<Response<Streaming<ServerStreamResponse>>, Status> {
        let info = request_info(&request, vec![pack(request.get_ref())]);
        let definition = request.into_inner().response_definition.unwrap_or_default();
        let (headers, trailers) = stream_headers(&definition);
        let infos = std::iter::once(Some(info.clone())).chain(std::iter::repeat(None));
        let stream = answer_stream(&definition, infos, info, |payload| ServerStreamResponse {
            payload: Some(payload),
        });
        Ok(Response::from_parts(
            headers,
            Streaming::from_stream(stream),
            trailers,
        ))
    }

    async fn client_stream(
        &self,
        request: Request<Streaming<ClientStreamRequest>>,
    ) -> Result<Response<ClientStreamResponse>, Status> {
        let mut request = request;
        let (messages, anys) = read_all(request.get_mut()).await?;
        let info = request_info(&request, anys);
        let definition = messages
            .into_iter()
            .next()
            .and_then(|m| m.response_definition);
        Ok(answer_unary(definition, info)
            .await?
            .map(|payload| ClientStreamResponse {
                payload: Some(payload),
            }))
    }

    async fn bidi_stream(
        &self,
        request: Request<Streaming<BidiStreamRequest>>,
    ) -> Result<Response<Streaming<BidiStreamResponse>>, Status> {
        let mut request = request;
        let first = match request.get_mut().message().await? {
            Some(first) => first,
            None => {
                // No request at all: nothing to answer but the headers.
                return Ok(Response::new(Streaming::from_stream(
                    futures_util::stream::empty(),
                )));
            }
        };
        let definition = first.response_definition.clone().unwrap_or_default();
        let (headers, trailers) = stream_headers(&definition);
        let wrap = |payload| BidiStreamResponse {
            payload: Some(payload),
        };
        let stream = if first.full_duplex {
            full_duplex(request, first, definition, wrap)
        } else {
            let first_any = pack(&first);
            let (_, mut anys) = read_all(request.get_mut()).await?;
            anys.insert(0, first_any);
            let info = request_info(&request, anys);
            let infos = std::iter::once(Some(info.clone())).chain(std::iter::repeat(None));
            answer_stream(&definition, infos, info, wrap)
        };
        Ok(Response::from_parts(
            headers,
            Streaming::from_stream(stream),
            trailers,
        ))
    }
}

/// Full-duplex bidi: one response per request as it arrives (each echoing the request that
/// caused it, the first with the headers and deadline too), then what is left of the data
/// once the requests end, then the error if any.
fn full_duplex<F>(
    request: Request<Streaming<BidiStreamRequest>>,
    first: BidiStreamRequest,
    definition: StreamResponseDefinition,
    wrap: F,
) -> BoxStream<BidiStreamResponse>
where
    F: Fn(ConformancePayload) -> BidiStreamResponse + Send + Sync + 'static,
{
    let first_info = request_info(&request, vec![pack(&first)]);
    let pause = delay(definition.response_delay_ms);
    let mut requests = request.into_inner();
    let mut data = definition.response_data.clone().into_iter();
    let error = definition.error.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<BidiStreamResponse, Status>>(1);
    tokio::spawn(async move {
        let mut sent = 0usize;
        // The request waiting for its answer.
        let mut pending = Some(first_info.clone());
        loop {
            if let Some(info) = pending.take() {
                if let Some(chunk) = data.next() {
                    if let Some(d) = pause {
                        tokio::time::sleep(d).await;
                    }
                    let payload = ConformancePayload {
                        data: chunk,
                        request_info: Some(info),
                    };
                    if tx.send(Ok(wrap(payload))).await.is_err() {
                        return;
                    }
                    sent += 1;
                }
            }
            match requests.message().await {
                Ok(Some(m)) => {
                    pending = Some(RequestInfo {
                        requests: vec![pack(&m)],
                        ..Default::default()
                    })
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
        }
        for chunk in data {
            if let Some(d) = pause {
                tokio::time::sleep(d).await;
            }
            let payload = ConformancePayload {
                data: chunk,
                request_info: None,
            };
            if tx.send(Ok(wrap(payload))).await.is_err() {
                return;
            }
            sent += 1;
        }
        if let Some(error) = error {
            let info = (sent == 0).then_some(&first_info);
            let _ = tx.send(Err(definition_error(&error, info))).await;
        }
    });
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}
