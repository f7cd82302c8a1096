//! Typed handlers for the four method kinds, erased into [`Handler`]s for the router.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use futures_core::Stream;
use futures_util::future::BoxFuture;

use super::body::TypedEncodeStream;
use super::call::{ServerCall, ServerInput, ServerOutput, ServerOutputBody};
use super::interceptor::Handler;
use super::message::{Request, Response, ServerParts};
use super::streaming::{RawStreaming, Streaming};
use crate::protocol::{Message, Status};

/// A boxed stream of response messages, as streaming handlers return.
pub type BoxStream<T> = std::pin::Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// The decoded request of a unary or server-streaming call.
fn single<Req: Message>(call: ServerCall) -> Result<Request<Req>, Status> {
    let codec = call.codec;
    let (parts, input) = ServerParts::split(call);
    let ServerInput::Unary(bytes) = input else {
        return Err(Status::internal("a unary method received a stream"));
    };
    let message = codec.decode::<Req>(bytes)?;
    Ok(Request::from_server_parts(parts, message))
}

fn stream(call: ServerCall) -> Result<Request<RawStreaming>, Status> {
    let (parts, input) = ServerParts::split(call);
    let ServerInput::Stream(raw) = input else {
        return Err(Status::internal(
            "a streaming method received a single message",
        ));
    };
    Ok(Request::from_server_parts(parts, raw))
}

fn unary_output<Res: Message>(
    resp: Response<Res>,
    codec: crate::protocol::Codec,
) -> Result<ServerOutput, Status> {
    let (headers, message, trailers, stream_trailers) = resp.into_server_parts();
    Ok(ServerOutput {
        headers,
        body: ServerOutputBody::Unary(codec.encode_to_bytes(&message)?),
        trailers,
        stream_trailers,
    })
}

fn stream_output<Res, S>(resp: Response<S>, codec: crate::protocol::Codec) -> ServerOutput
where
    Res: Message,
    S: Stream<Item = Result<Res, Status>> + Send + 'static,
{
    let (headers, stream, trailers, stream_trailers) = resp.into_server_parts();
    ServerOutput {
        headers,
        body: ServerOutputBody::Stream(Box::new(TypedEncodeStream {
            stream: Box::pin(stream),
            codec,
        })),
        trailers,
        stream_trailers,
    }
}

struct Unary<F, Req, Res>(F, PhantomData<fn(Req) -> Res>);
struct ServerStreaming<F, Req, Res, S>(F, PhantomData<fn(Req) -> (Res, S)>);
struct ClientStreaming<F, Req, Res>(F, PhantomData<fn(Req) -> Res>);
struct BidiStreaming<F, Req, Res, S>(F, PhantomData<fn(Req) -> (Res, S)>);

/// A handler for a unary method.
pub fn unary<Req, Res, F, Fut>(f: F) -> Arc<dyn Handler>
where
    Req: Message,
    Res: Message,
    F: Fn(Request<Req>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Res>, Status>> + Send + 'static,
{
    Arc::new(Unary(f, PhantomData))
}

impl<Req, Res, F, Fut> Unary<F, Req, Res>
where
    Req: Message,
    Res: Message,
    F: Fn(Request<Req>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Res>, Status>> + Send + 'static,
{
    fn run(&self, call: ServerCall) -> BoxFuture<'static, Result<ServerOutput, Status>> {
        let codec = call.codec;
        match single::<Req>(call) {
            Err(e) => Box::pin(std::future::ready(Err(e))),
            Ok(req) => {
                let fut = (self.0)(req);
                Box::pin(async move { unary_output(fut.await?, codec) })
            }
        }
    }
}

impl<Req, Res, F, Fut> Handler for Unary<F, Req, Res>
where
    Req: Message,
    Res: Message,
    F: Fn(Request<Req>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Res>, Status>> + Send + 'static,
{
    fn call(&self, call: ServerCall) -> BoxFuture<'static, Result<ServerOutput, Status>> {
        self.run(call)
    }
}

/// A handler for a server-streaming method.
pub fn server_streaming<Req, Res, S, F, Fut>(f: F) -> Arc<dyn Handler>
where
    Req: Message,
    Res: Message,
    S: Stream<Item = Result<Res, Status>> + Send + 'static,
    F: Fn(Request<Req>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<S>, Status>> + Send + 'static,
{
    Arc::new(ServerStreaming(f, PhantomData))
}

impl<Req, Res, S, F, Fut> ServerStreaming<F, Req, Res, S>
where
    Req: Message,
    Res: Message,
    S: Stream<Item = Result<Res, Status>> + Send + 'static,
    F: Fn(Request<Req>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<S>, Status>> + Send + 'static,
{
    fn run(&self, call: ServerCall) -> BoxFuture<'static, Result<ServerOutput, Status>> {
        let codec = call.codec;
        match single::<Req>(call) {
            Err(e) => Box::pin(std::future::ready(Err(e))),
            Ok(req) => {
                let fut = (self.0)(req);
                Box::pin(async move { Ok(stream_output(fut.await?, codec)) })
            }
        }
    }
}

impl<Req, Res, S, F, Fut> Handler for ServerStreaming<F, Req, Res, S>
where
    Req: Message,
    Res: Message,
    S: Stream<Item = Result<Res, Status>> + Send + 'static,
    F: Fn(Request<Req>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<S>, Status>> + Send + 'static,
{
    fn call(&self, call: ServerCall) -> BoxFuture<'static, Result<ServerOutput, Status>> {
        self.run(call)
    }
}

/// A handler for a client-streaming method.
pub fn client_streaming<Req, Res, F, Fut>(f: F) -> Arc<dyn Handler>
where
    Req: Message,
    Res: Message,
    F: Fn(Request<Streaming<Req>>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Res>, Status>> + Send + 'static,
{
    Arc::new(ClientStreaming(f, PhantomData))
}

impl<Req, Res, F, Fut> ClientStreaming<F, Req, Res>
where
    Req: Message,
    Res: Message,
    F: Fn(Request<Streaming<Req>>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Res>, Status>> + Send + 'static,
{
    fn run(&self, call: ServerCall) -> BoxFuture<'static, Result<ServerOutput, Status>> {
        let codec = call.codec;
        match stream(call) {
            Err(e) => Box::pin(std::future::ready(Err(e))),
            Ok(req) => {
                let fut = (self.0)(req.map(Streaming::new));
                Box::pin(async move { unary_output(fut.await?, codec) })
            }
        }
    }
}

impl<Req, Res, F, Fut> Handler for ClientStreaming<F, Req, Res>
where
    Req: Message,
    Res: Message,
    F: Fn(Request<Streaming<Req>>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Res>, Status>> + Send + 'static,
{
    fn call(&self, call: ServerCall) -> BoxFuture<'static, Result<ServerOutput, Status>> {
        self.run(call)
    }
}

/// A handler for a bidirectional-streaming method.
pub fn bidi_streaming<Req, Res, S, F, Fut>(f: F) -> Arc<dyn Handler>
where
    Req: Message,
    Res: Message,
    S: Stream<Item = Result<Res, Status>> + Send + 'static,
    F: Fn(Request<Streaming<Req>>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<S>, Status>> + Send + 'static,
{
    Arc::new(BidiStreaming(f, PhantomData))
}

impl<Req, Res, S, F, Fut> BidiStreaming<F, Req, Res, S>
where
    Req: Message,
    Res: Message,
    S: Stream<Item = Result<Res, Status>> + Send + 'static,
    F: Fn(Request<Streaming<Req>>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<S>, Status>> + Send + 'static,
{
    fn run(&self, call: ServerCall) -> BoxFuture<'static, Result<ServerOutput, Status>> {
        let codec = call.codec;
        match stream(call) {
            Err(e) => Box::pin(std::future::ready(Err(e))),
            Ok(req) => {
                let fut = (self.0)(req.map(Streaming::new));
                Box::pin(async move { Ok(stream_output(fut.await?, codec)) })
            }
        }
    }
}

impl<Req, Res, S, F, Fut> Handler for BidiStreaming<F, Req, Res, S>
where
    Req: Message,
    Res: Message,
    S: Stream<Item = Result<Res, Status>> + Send + 'static,
    F: Fn(Request<Streaming<Req>>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<S>, Status>> + Send + 'static,
{
    fn call(&self, call: ServerCall) -> BoxFuture<'static, Result<ServerOutput, Status>> {
        self.run(call)
    }
}
