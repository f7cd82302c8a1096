//! The client under test: runs one `ClientCompatRequest` with connect-plugin's client and
//! reports what happened as a `ClientCompatResponse`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use connect_plugin::rpc::HttpTransport;
use connect_plugin::transport::HttpVersion;
use connect_plugin::{Channel, Client, ClientConfig, Codec, Encoding, Protocol, Request, Status};
use connect_plugin::{Response, Streaming};
use futures_util::StreamExt as _;
use http::HeaderMap;

use crate::pb::{
    self, BidiStreamRequest, ClientCompatRequest, ClientCompatResponse, ClientErrorResult,
    ClientResponseResult, ClientStreamRequest, ConformancePayload, ConformanceService as _,
    ConformanceServiceClient, IdempotentUnaryRequest, ServerStreamRequest, UnaryRequest,
    UnimplementedRequest, client_compat_request::cancel::CancelTiming,
    client_compat_response::Result as Outcome,
};
use crate::service::{add_headers, to_headers};

/// Runs one case; never fails: what went wrong is in the response.
pub async fn run_case(request: ClientCompatRequest) -> ClientCompatResponse {
    let test_name = request.test_name.clone();
    let result = match prepare(&request) {
        Ok(client) => Outcome::Response(call(&client, &request).await),
        Err(message) => Outcome::Error(ClientErrorResult { message }),
    };
    ClientCompatResponse {
        test_name,
        result: Some(result),
    }
}

/// The typed client a case asks for, or why it cannot be made.
fn prepare(request: &ClientCompatRequest) -> Result<ConformanceServiceClient, String> {
    let version = match pb::HttpVersion::try_from(request.http_version) {
        Ok(pb::HttpVersion::HttpVersion1) => HttpVersion::Http1,
        Ok(pb::HttpVersion::HttpVersion2) => HttpVersion::Http2,
        other => return Err(format!("unsupported HTTP version {other:?}")),
    };
    let protocol = match pb::Protocol::try_from(request.protocol) {
        Ok(pb::Protocol::Connect) => Protocol::Connect,
        Ok(pb::Protocol::Grpc) => Protocol::Grpc,
        Ok(pb::Protocol::GrpcWeb) => Protocol::GrpcWeb,
        other => return Err(format!("unsupported protocol {other:?}")),
    };
    let codec = match pb::Codec::try_from(request.codec) {
        Ok(pb::Codec::Proto) => Codec::Proto,
        Ok(pb::Codec::Json) => Codec::Json,
        other => return Err(format!("unsupported codec {other:?}")),
    };
    let send_compression = match pb::Compression::try_from(request.compression) {
        Ok(pb::Compression::Identity | pb::Compression::Unspecified) => Encoding::Identity,
        Ok(pb::Compression::Gzip) => Encoding::Gzip,
        other => return Err(format!("unsupported compression {other:?}")),
    };
    let tls = !request.server_tls_cert.is_empty();
    let url = format!(
        "{}://{}:{}",
        if tls { "https" } else { "http" },
        request.host,
        request.port
    );
    let mut channel = Channel::builder(&url)
        .map_err(|e| e.to_string())?
        .http_version(version);
    if tls {
        let client_creds = request
            .client_tls_creds
            .as_ref()
            .map(|c| (&c.cert[..], &c.key[..]));
        let config = crate::tls::client_config(&request.server_tls_cert, client_creds)
            .map_err(|e| e.to_string())?;
        channel = channel.tls(Arc::new(config));
    }
    let mut config = ClientConfig {
        protocol,
        codec,
        send_compression,
        use_get: request.use_get_http_method,
        ..ClientConfig::default()
    };
    if request.message_receive_limit > 0 {
        config.max_receive_message_size = request.message_receive_limit as usize;
    }
    let transport = HttpTransport::new(channel.build(), config.clone());
    Ok(ConformanceServiceClient::new(Client::from_transport(
        Arc::new(transport),
        config,
    )))
}

/// What a case observed.
#[derive(Default)]
struct Observed {
    headers: HeaderMap,
    payloads: Vec<ConformancePayload>,
    error: Option<Status>,
    trailers: HeaderMap,
    unsent: usize,
}

impl Observed {
    fn into_result(self) -> ClientResponseResult {
        let error = self.error.as_ref().map(|e| pb::Error {
            code: e.code().as_i32(),
            message: (!e.message().is_empty()).then(|| e.message().to_owned()),
            details: e
                .details()
                .iter()
                .map(|d| connect_plugin::Any {
                    type_url: format!("type.googleapis.com/{}", d.type_name()),
                    value: d.value().clone(),
                })
                .collect(),
        });
        let (headers, trailers) = match &self.error {
            // A failed call's metadata comes with its error.
            Some(e) if self.headers.is_empty() && self.trailers.is_empty() => {
                (e.headers().clone(), e.trailers().clone())
            }
            _ => (self.headers, self.trailers),
        };
        ClientResponseResult {
            response_headers: to_headers(&headers),
            payloads: self.payloads,
            error,
            response_trailers: to_headers(&trailers),
            num_unsent_requests: i32::try_from(self.unsent).unwrap_or(i32::MAX),
            ..Default::default()
        }
    }

    fn fail(status: Status) -> Self {
        Observed {
            error: Some(status),
            ..Observed::default()
        }
    }
}

/// The error a call reports once the caller has given up on it (dropping it is how a
/// connect-plugin call is canceled).
fn canceled() -> Status {
    Status::canceled("the client canceled the call")
}

fn decode<M: prost::Message + Default>(any: &connect_plugin::Any) -> Result<M, Status> {
    M::decode(any.value.clone())
        .map_err(|e| Status::invalid_argument(format!("request message {}: {e}", any.type_url)))
}

fn request<M>(case: &ClientCompatRequest, message: M) -> Request<M> {
    let mut request = Request::new(message);
    add_headers(request.headers_mut(), &case.request_headers);
    if let Some(ms) = case.timeout_ms {
        request.set_timeout(Duration::from_millis(u64::from(ms)));
    }
    request
}

fn cancel_timing(case: &ClientCompatRequest) -> Option<&CancelTiming> {
    case.cancel.as_ref().and_then(|c| c.cancel_timing.as_ref())
}

/// Waits for `fut`, unless the case cancels the call `after_close_send_ms` after it was
/// sent in full.
async fn unless_canceled<T>(
    case: &ClientCompatRequest,
    fut: impl std::future::Future<Output = T>,
) -> Option<T> {
    match cancel_timing(case) {
        Some(CancelTiming::AfterCloseSendMs(ms)) => {
            tokio::time::timeout(Duration::from_millis(u64::from(*ms)), fut)
                .await
                .ok()
        }
        _ => Some(fut.await),
    }
}

async fn call(
    client: &ConformanceServiceClient,
    case: &ClientCompatRequest,
) -> ClientResponseResult {
    let observed = match (
        pb::StreamType::try_from(case.stream_type),
        case.method.as_deref(),
    ) {
        (_, Some("Unimplemented")) => {
            unary(
                case,
                |m| client.unimplemented(request(case, m)),
                |_: pb::UnimplementedResponse| None::<ConformancePayload>,
                UnimplementedRequest::default(),
            )
            .await
        }
        (_, Some("IdempotentUnary")) => match first::<IdempotentUnaryRequest>(case) {
            Ok(m) => {
                unary(
                    case,
                    |m| client.idempotent_unary(request(case, m)),
                    |r: pb::IdempotentUnaryResponse| r.payload,
                    m,
                )
                .await
            }
            Err(e) => Observed::fail(e),
        },
        (Ok(pb::StreamType::Unary), _) => match first::<UnaryRequest>(case) {
            Ok(m) => {
                unary(
                    case,
                    |m| client.unary(request(case, m)),
                    |r: pb::UnaryResponse| r.payload,
                    m,
                )
                .await
            }
            Err(e) => Observed::fail(e),
        },
        (Ok(pb::StreamType::ServerStream), _) => match first::<ServerStreamRequest>(case) {
            Ok(m) => server_stream(client, case, m).await,
            Err(e) => Observed::fail(e),
        },
        (Ok(pb::StreamType::ClientStream), _) => match all::<ClientStreamRequest>(case) {
            Ok(m) => client_stream(client, case, m).await,
            Err(e) => Observed::fail(e),
        },
        (Ok(pb::StreamType::HalfDuplexBidiStream), _) => match all::<BidiStreamRequest>(case) {
            Ok(m) => bidi(client, case, m, false).await,
            Err(e) => Observed::fail(e),
        },
        (Ok(pb::StreamType::FullDuplexBidiStream), _) => match all::<BidiStreamRequest>(case) {
            Ok(m) => bidi(client, case, m, true).await,
            Err(e) => Observed::fail(e),
        },
        (other, _) => Observed::fail(Status::invalid_argument(format!(
            "unsupported stream type {other:?}"
        ))),
    };
    observed.into_result()
}

fn first<M: prost::Message + Default>(case: &ClientCompatRequest) -> Result<M, Status> {
    let any = case
        .request_messages
        .first()
        .ok_or_else(|| Status::invalid_argument("the case has no request message"))?;
    decode(any)
}

fn all<M: prost::Message + Default>(case: &ClientCompatRequest) -> Result<Vec<M>, Status> {
    case.request_messages.iter().map(decode).collect()
}

async fn unary<M, R, Fut>(
    case: &ClientCompatRequest,
    send: impl FnOnce(M) -> Fut,
    payload: impl FnOnce(R) -> Option<ConformancePayload>,
    message: M,
) -> Observed
where
    Fut: std::future::Future<Output = Result<Response<R>, Status>>,
{
    match unless_canceled(case, send(message)).await {
        None => Observed::fail(canceled()),
        Some(Err(e)) => Observed::fail(e),
        Some(Ok(response)) => {
            let (headers, message, trailers) = response.into_parts();
            Observed {
                headers,
                payloads: payload(message).into_iter().collect(),
                trailers,
                ..Observed::default()
            }
        }
    }
}

/// What the sending side of a streaming call reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    /// Every request went out and the stream is held open: the case cancels instead of
    /// closing it.
    AllHeldOpen,
    /// Every request went out and the stream is closed.
    Closed,
    /// The transport stopped taking requests (the call ended).
    Stopped,
}

/// The sending side of a streaming call, on its own task: each request after the case's
/// delay; in full duplex, each after the first only once a response has arrived.
struct Sender {
    taken: Arc<AtomicUsize>,
    total: usize,
    permits: tokio::sync::mpsc::UnboundedSender<()>,
    state: tokio::sync::mpsc::UnboundedReceiver<Sent>,
}

impl Sender {
    fn start<M>(
        case: &ClientCompatRequest,
        messages: Vec<M>,
        full_duplex: bool,
    ) -> (Sender, Streaming<M>)
    where
        M: connect_plugin::protocol::Message,
    {
        let total = messages.len();
        let (tx, rx) = tokio::sync::mpsc::channel::<M>(1);
        let taken = Arc::new(AtomicUsize::new(0));
        let counter = taken.clone();
        let stream =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|m| (m, rx)) },
            )
            .inspect(move |_| {
                counter.fetch_add(1, Ordering::SeqCst);
            });
        let (permits, mut permit_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let (state_tx, state) = tokio::sync::mpsc::unbounded_channel();
        let delay = Duration::from_millis(u64::from(case.request_delay_ms));
        let hold_open = matches!(cancel_timing(case), Some(CancelTiming::BeforeCloseSend(_)));
        tokio::spawn(async move {
            for (i, m) in messages.into_iter().enumerate() {
                if full_duplex && i > 0 && permit_rx.recv().await.is_none() {
                    return;
                }
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                if tx.send(m).await.is_err() {
                    let _ = state_tx.send(Sent::Stopped);
                    return;
                }
            }
            if hold_open {
                let _ = state_tx.send(Sent::AllHeldOpen);
                // Open until the caller lets go of the call.
                while permit_rx.recv().await.is_some() {}
                drop(tx);
            } else {
                drop(tx);
                let _ = state_tx.send(Sent::Closed);
            }
        });
        (
            Sender {
                taken,
                total,
                permits,
                state,
            },
            Streaming::from_messages(stream),
        )
    }

    fn unsent(&self) -> usize {
        self.total.saturating_sub(self.taken.load(Ordering::SeqCst))
    }

    fn taken(&self) -> usize {
        self.taken.load(Ordering::SeqCst)
    }
}

/// How a case ends a call early.
struct Cancel<'a> {
    case: &'a ClientCompatRequest,
    /// When the call is canceled, once the send side has closed `after_close_send_ms` ago.
    at: Option<tokio::time::Instant>,
}

impl<'a> Cancel<'a> {
    fn new(case: &'a ClientCompatRequest) -> Self {
        Cancel { case, at: None }
    }

    /// The send side closed: starts the `after_close_send_ms` clock.
    fn closed(&mut self) {
        if let Some(CancelTiming::AfterCloseSendMs(ms)) = cancel_timing(self.case) {
            self.at = Some(tokio::time::Instant::now() + Duration::from_millis(u64::from(*ms)));
        }
    }

    async fn fired(&self) {
        match self.at {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    }

    fn after_responses(&self) -> Option<usize> {
        match cancel_timing(self.case) {
            Some(CancelTiming::AfterNumResponses(n)) => Some(*n as usize),
            _ => None,
        }
    }
}

/// Waits for the response of a call (its headers, for streams) while following its sender.
async fn await_response<T>(
    call: impl std::future::Future<Output = Result<T, Status>>,
    sender: &mut Option<Sender>,
    full_duplex: bool,
    cancel: &mut Cancel<'_>,
    sender_done: &mut Option<Sent>,
) -> Option<Result<T, Status>> {
    tokio::pin!(call);
    loop {
        tokio::select! {
            out = &mut call => return Some(out),
            state = async {
                match (sender.as_mut(), *sender_done) {
                    (Some(s), None) => s.state.recv().await,
                    _ => std::future::pending().await,
                }
            } => {
                let state = state.unwrap_or(Sent::Stopped);
                *sender_done = Some(state);
                match state {
                    Sent::Closed => cancel.closed(),
                    // Half-duplex and client streams cancel instead of closing, now; full
                    // duplex once each request has its response.
                    Sent::AllHeldOpen if !full_duplex => return None,
                    Sent::AllHeldOpen => {}
                    Sent::Stopped => {}
                }
            }
            () = cancel.fired() => return None,
        }
    }
}

/// Reads a response stream into `observed` until it ends, fails or the case cancels it.
async fn read_stream<R>(
    stream: &mut Streaming<R>,
    payload: impl Fn(R) -> Option<ConformancePayload>,
    observed: &mut Observed,
    sender: &mut Option<Sender>,
    full_duplex: bool,
    cancel: &mut Cancel<'_>,
    mut sender_done: Option<Sent>,
) where
    R: connect_plugin::protocol::Message,
{
    loop {
        if cancel
            .after_responses()
            .is_some_and(|n| observed.payloads.len() >= n)
        {
            observed.error = Some(canceled());
            return;
        }
        if sender_done == Some(Sent::AllHeldOpen)
            && sender
                .as_ref()
                .is_none_or(|s| !full_duplex || observed.payloads.len() >= s.taken())
        {
            observed.error = Some(canceled());
            return;
        }
        tokio::select! {
            m = stream.message() => match m {
                Ok(Some(m)) => {
                    observed.payloads.extend(payload(m));
                    if let Some(s) = sender.as_ref() {
                        if full_duplex {
                            let _ = s.permits.send(());
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    observed.error = Some(e);
                    break;
                }
            },
            state = async {
                match (sender.as_mut(), sender_done) {
                    (Some(s), None) => s.state.recv().await,
                    _ => std::future::pending().await,
                }
            } => {
                let state = state.unwrap_or(Sent::Stopped);
                sender_done = Some(state);
                if state == Sent::Closed {
                    cancel.closed();
                }
            }
            () = cancel.fired() => {
                observed.error = Some(canceled());
                return;
            }
        }
    }
    if let Some(t) = stream.trailers() {
        observed.trailers = t.clone();
    }
}

async fn server_stream(
    client: &ConformanceServiceClient,
    case: &ClientCompatRequest,
    message: ServerStreamRequest,
) -> Observed {
    let mut cancel = Cancel::new(case);
    // The request goes out whole at once.
    cancel.closed();
    let mut none = None;
    let mut done = Some(Sent::Closed);
    let mut observed = Observed::default();
    match await_response(
        client.server_stream(request(case, message)),
        &mut none,
        false,
        &mut cancel,
        &mut done,
    )
    .await
    {
        None => return Observed::fail(canceled()),
        Some(Err(e)) => return Observed::fail(e),
        Some(Ok(response)) => {
            let (headers, mut stream, _) = response.into_parts();
            observed.headers = headers;
            read_stream(
                &mut stream,
                |r: pb::ServerStreamResponse| r.payload,
                &mut observed,
                &mut none,
                false,
                &mut cancel,
                done,
            )
            .await;
        }
    }
    observed
}

async fn client_stream(
    client: &ConformanceServiceClient,
    case: &ClientCompatRequest,
    messages: Vec<ClientStreamRequest>,
) -> Observed {
    let (sender, stream) = Sender::start(case, messages, false);
    let mut sender = Some(sender);
    let mut cancel = Cancel::new(case);
    let mut done = None;
    let outcome = await_response(
        client.client_stream(request(case, stream)),
        &mut sender,
        false,
        &mut cancel,
        &mut done,
    )
    .await;
    let unsent = sender.as_ref().map_or(0, Sender::unsent);
    let mut observed = match outcome {
        None => Observed::fail(canceled()),
        Some(Err(e)) => Observed::fail(e),
        Some(Ok(response)) => {
            let (headers, message, trailers) = response.into_parts();
            Observed {
                headers,
                payloads: message.payload.into_iter().collect(),
                trailers,
                ..Observed::default()
            }
        }
    };
    observed.unsent = unsent;
    observed
}

async fn bidi(
    client: &ConformanceServiceClient,
    case: &ClientCompatRequest,
    messages: Vec<BidiStreamRequest>,
    full_duplex: bool,
) -> Observed {
    let (sender, stream) = Sender::start(case, messages, full_duplex);
    let mut sender = Some(sender);
    let mut cancel = Cancel::new(case);
    let mut done = None;
    let outcome = await_response(
        client.bidi_stream(request(case, stream)),
        &mut sender,
        full_duplex,
        &mut cancel,
        &mut done,
    )
    .await;
    let mut observed = match outcome {
        None => Observed::fail(canceled()),
        Some(Err(e)) => Observed::fail(e),
        Some(Ok(response)) => {
            let (headers, mut stream, _) = response.into_parts();
            let mut observed = Observed {
                headers,
                ..Observed::default()
            };
            read_stream(
                &mut stream,
                |r: pb::BidiStreamResponse| r.payload,
                &mut observed,
                &mut sender,
                full_duplex,
                &mut cancel,
                done,
            )
            .await;
            observed
        }
    };
    observed.unsent = sender.as_ref().map_or(0, Sender::unsent);
    observed
}
