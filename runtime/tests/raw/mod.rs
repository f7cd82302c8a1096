//! A raw HTTP server for client tests: it answers every request with one canned response,
//! exactly the status, headers, body chunks and trailers given (as the conformance suite's
//! `rawResponse` cases do), over h2c (on the `h2` crate, so that a headers-only answer ends
//! the stream on its HEADERS frame) or HTTP/1.1 (hyper), on 127.0.0.1. It records the heads
//! of the requests it saw.

#![allow(dead_code)] // Each test binary uses part of it.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use tokio::sync::mpsc;

/// A response, byte for byte.
#[derive(Debug, Clone, Default)]
pub struct Canned {
    /// The HTTP status (200 unless set).
    pub status: u16,
    /// The headers, in order (a name may repeat).
    pub headers: Vec<(String, String)>,
    /// The body, as the data frames (or chunks) to send.
    pub body: Vec<Bytes>,
    /// HTTP trailers (HTTP/2 only); `None` sends none.
    pub trailers: Option<Vec<(String, String)>>,
}

impl Canned {
    /// A response with `status` and a `content-type`.
    pub fn new(status: u16, content_type: &str) -> Self {
        Canned {
            status,
            ..Canned::default()
        }
        .header("content-type", content_type)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds a chunk of body.
    pub fn data(mut self, data: impl Into<Bytes>) -> Self {
        self.body.push(data.into());
        self
    }

    /// Adds an enveloped frame to the body.
    pub fn frame(self, flags: u8, payload: &[u8]) -> Self {
        self.data(envelope(flags, payload))
    }

    /// Adds an HTTP trailer.
    pub fn trailer(mut self, name: &str, value: &str) -> Self {
        self.trailers
            .get_or_insert_with(Vec::new)
            .push((name.to_owned(), value.to_owned()));
        self
    }

    fn head(&self) -> http::Response<()> {
        let mut resp = http::Response::new(());
        *resp.status_mut() = StatusCode::from_u16(self.status).expect("a valid status");
        *resp.headers_mut() = map(&self.headers);
        resp
    }
}

/// One enveloped frame: flags, big-endian length, payload.
pub fn envelope(flags: u8, payload: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(payload.len() + 5);
    b.extend_from_slice(&[flags]);
    b.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
    b.extend_from_slice(payload);
    b.freeze()
}

fn map(pairs: &[(String, String)]) -> HeaderMap {
    let mut m = HeaderMap::new();
    for (k, v) in pairs {
        m.append(
            HeaderName::from_bytes(k.as_bytes()).expect("a valid header name"),
            HeaderValue::from_str(v).expect("a valid header value"),
        );
    }
    m
}

/// What the server saw of a request.
#[derive(Debug)]
pub struct Seen {
    /// The method.
    pub method: http::Method,
    /// The URI (path and query).
    pub uri: http::Uri,
    /// The headers.
    pub headers: HeaderMap,
}

/// A running raw server.
pub struct RawServer {
    /// Where it listens.
    pub addr: SocketAddr,
    seen: mpsc::UnboundedReceiver<Seen>,
}

impl RawServer {
    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next request the server saw, if it saw one already.
    pub fn try_next_request(&mut self) -> Option<Seen> {
        self.seen.try_recv().ok()
    }

    /// The next request the server saw.
    pub async fn next_request(&mut self) -> Seen {
        self.seen.recv().await.expect("the server runs")
    }
}

/// Serves `canned` over h2c (HTTP/2 with prior knowledge).
pub async fn h2(canned: Canned) -> RawServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, seen) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((io, _)) = listener.accept().await {
            let (canned, tx) = (canned.clone(), tx.clone());
            tokio::spawn(async move {
                let Ok(mut conn) = h2::server::handshake(io).await else {
                    return;
                };
                while let Some(Ok((req, respond))) = conn.accept().await {
                    tokio::spawn(answer_h2(req, respond, canned.clone(), tx.clone()));
                }
            });
        }
    });
    RawServer { addr, seen }
}

async fn answer_h2(
    req: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    canned: Canned,
    seen: mpsc::UnboundedSender<Seen>,
) {
    let (parts, mut body) = req.into_parts();
    let _ = seen.send(Seen {
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
    });
    // Read the request as it comes (a streaming client waits for room to send).
    tokio::spawn(async move {
        while let Some(Ok(d)) = body.data().await {
            let _ = body.flow_control().release_capacity(d.len());
        }
    });
    let end_on_headers = canned.body.is_empty() && canned.trailers.is_none();
    let Ok(mut stream) = respond.send_response(canned.head(), end_on_headers) else {
        return;
    };
    if end_on_headers {
        return;
    }
    let last = canned.body.len();
    for (i, chunk) in canned.body.into_iter().enumerate() {
        let end = i + 1 == last && canned.trailers.is_none();
        if stream.send_data(chunk, end).is_err() {
            return;
        }
    }
    if let Some(t) = canned.trailers {
        let _ = stream.send_trailers(map(&t));
    }
}

/// Serves `canned` over HTTP/1.1 (its trailers are not sent: gRPC-Web and Connect carry
/// theirs in the body).
pub async fn http1(canned: Canned) -> RawServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, seen) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((io, _)) = listener.accept().await {
            let (canned, tx) = (canned.clone(), tx.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: http::Request<_>| {
                    let (canned, tx) = (canned.clone(), tx.clone());
                    async move {
                        let (parts, body) = req.into_parts();
                        let _ = tx.send(Seen {
                            method: parts.method,
                            uri: parts.uri,
                            headers: parts.headers,
                        });
                        let _ = http_body_util::BodyExt::collect(body).await;
                        let all: Vec<u8> = canned.body.iter().flat_map(|b| b.to_vec()).collect();
                        let (head, ()) = canned.head().into_parts();
                        Ok::<_, Infallible>(http::Response::from_parts(
                            head,
                            http_body_util::Full::new(Bytes::from(all)),
                        ))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(io), service)
                    .await;
            });
        }
    });
    RawServer { addr, seen }
}

pub mod call;
