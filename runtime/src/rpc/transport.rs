//! [`ClientTransport`]: the one seam that decides where a client's call goes.
//!
//! A [`Client`](super::Client) encodes messages, runs its interceptors and hands the call to
//! its transport. The HTTP transport ([`HttpTransport`](super::HttpTransport)) frames it for
//! the wire and sends it over a [`Channel`](crate::transport::Channel); other transports
//! decide differently — [`TransportSwitch`] sends each call to whichever transport is
//! current, so a plugin restarted or replaced behind it is an atomic swap, and a
//! [`Client`](super::Client) is itself a transport (its interceptors, then its own
//! transport), so transports compose.

use std::sync::{Arc, RwLock};

use futures_util::future::BoxFuture;

use super::call::{ClientCall, ClientOutput};
use crate::protocol::Status;

/// Where a client's calls go: the end of every client chain.
///
/// A transport receives a call after the interceptors: its messages are encoded with
/// [`ClientCall::codec`] (and uncompressed), its timeout is the call's whole budget. It
/// returns the response headers and the response message(s), or the call's error.
///
/// # Example
///
/// A transport that answers every call itself (a stand-in for a plugin in a test), behind
/// a [`Client`](super::Client) with the usual config and interceptor chain:
///
/// ```
/// use std::sync::Arc;
/// use connect_plugin::rpc::{ClientCall, ClientOutput, ClientTransport};
/// use connect_plugin::{Client, ClientConfig, Status};
/// use futures_util::future::BoxFuture;
///
/// struct Unavailable;
///
/// impl ClientTransport for Unavailable {
///     fn send(&self, call: ClientCall) -> BoxFuture<'_, Result<ClientOutput, Status>> {
///         let path = call.method.path;
///         Box::pin(async move { Err(Status::unavailable(format!("{path}: nobody serves it"))) })
///     }
/// }
///
/// let client = Client::from_transport(Arc::new(Unavailable), ClientConfig::default());
/// # let _ = client;
/// ```
pub trait ClientTransport: Send + Sync + 'static {
    /// Sends the call and returns the response.
    fn send(&self, call: ClientCall) -> BoxFuture<'_, Result<ClientOutput, Status>>;
}

impl<T: ClientTransport + ?Sized> ClientTransport for Arc<T> {
    fn send(&self, call: ClientCall) -> BoxFuture<'_, Result<ClientOutput, Status>> {
        (**self).send(call)
    }
}

/// Sends each call to the transport that is current when the call starts; [`swap`] changes
/// it atomically. Calls already in flight finish on the transport they started on (each
/// holds it until it ends), later calls go to the new one, and no call sees a moment
/// without a transport. This is how a supervised plugin follows its restarted process and
/// how a provider is replaced.
///
/// [`swap`]: TransportSwitch::swap
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use connect_plugin::rpc::{ClientTransport, HttpTransport, TransportSwitch};
/// use connect_plugin::{Channel, Client, ClientConfig};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = ClientConfig::default();
/// let blue = HttpTransport::new(Channel::builder("http://127.0.0.1:8001")?.build(), config.clone());
/// let switch = Arc::new(TransportSwitch::new(Arc::new(blue)));
/// let client = Client::from_transport(switch.clone(), config.clone());
///
/// // Later: new calls go to green; calls in flight finish on blue.
/// let green = HttpTransport::new(Channel::builder("http://127.0.0.1:8002")?.build(), config);
/// let _blue = switch.swap(Arc::new(green));
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
pub struct TransportSwitch {
    current: RwLock<Arc<dyn ClientTransport>>,
}

impl std::fmt::Debug for TransportSwitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportSwitch").finish_non_exhaustive()
    }
}

impl TransportSwitch {
    /// A switch sending calls to `first`.
    pub fn new(first: Arc<dyn ClientTransport>) -> Self {
        TransportSwitch {
            current: RwLock::new(first),
        }
    }

    /// The transport new calls go to.
    pub fn current(&self) -> Arc<dyn ClientTransport> {
        // The lock guards one pointer swap and is never held across anything that can
        // panic, so a poisoned lock still holds a valid transport.
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Makes `next` the transport of every call from now on; returns the one it replaces,
    /// which calls already in flight go on using.
    pub fn swap(&self, next: Arc<dyn ClientTransport>) -> Arc<dyn ClientTransport> {
        let mut current = self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        std::mem::replace(&mut *current, next)
    }
}

impl ClientTransport for TransportSwitch {
    fn send(&self, call: ClientCall) -> BoxFuture<'_, Result<ClientOutput, Status>> {
        let transport = self.current();
        Box::pin(async move { transport.send(call).await })
    }
}

/// A transport with nowhere to send calls: each fails `unavailable` with its reason (a
/// direct plugin's client, whose services are dispensed as the implementations themselves).
pub(crate) struct Unconnected(pub(crate) &'static str);

impl ClientTransport for Unconnected {
    fn send(&self, call: ClientCall) -> BoxFuture<'_, Result<ClientOutput, Status>> {
        let why = self.0;
        let path = call.method.path;
        Box::pin(async move { Err(Status::unavailable(format!("{path}: {why}"))) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Codec, StreamType};
    use crate::rpc::{ClientInput, ClientOutputBody, Idempotency, MethodDescriptor};
    use bytes::Bytes;
    use http::{Extensions, HeaderMap};
    use tokio::sync::Semaphore;

    const M: MethodDescriptor =
        MethodDescriptor::new("/t.v1.T/M", StreamType::Unary, Idempotency::Unknown);

    fn call() -> ClientCall {
        ClientCall {
            method: M,
            headers: HeaderMap::new(),
            extensions: Extensions::new(),
            timeout: None,
            codec: Codec::Proto,
            input: ClientInput::Unary(Bytes::new()),
        }
    }

    /// Answers with its name; says when a call has arrived (`entered`) and answers only once
    /// `gate` lets it, so a test can hold a call in flight.
    struct Named {
        name: &'static str,
        entered: Arc<Semaphore>,
        gate: Arc<Semaphore>,
    }

    impl Named {
        fn new(name: &'static str, gate: usize) -> Named {
            Named {
                name,
                entered: Arc::new(Semaphore::new(0)),
                gate: Arc::new(Semaphore::new(gate)),
            }
        }
    }

    impl ClientTransport for Named {
        fn send(&self, _call: ClientCall) -> BoxFuture<'_, Result<ClientOutput, Status>> {
            self.entered.add_permits(1);
            Box::pin(async move {
                let _permit = self
                    .gate
                    .acquire()
                    .await
                    .map_err(|_| Status::canceled("closed"))?;
                Ok(ClientOutput {
                    headers: HeaderMap::new(),
                    body: ClientOutputBody::Unary(
                        Bytes::from_static(self.name.as_bytes()),
                        HeaderMap::new(),
                    ),
                })
            })
        }
    }

    fn answer(out: Result<ClientOutput, Status>) -> String {
        match out.expect("the call succeeds").body {
            ClientOutputBody::Unary(b, _) => String::from_utf8_lossy(&b).into_owned(),
            ClientOutputBody::Stream(_) => panic!("a unary answer"),
        }
    }

    #[tokio::test]
    async fn a_swap_sends_new_calls_to_the_new_transport_and_calls_in_flight_finish_on_the_old() {
        let blue = Arc::new(Named::new("blue", 0));
        let switch = Arc::new(TransportSwitch::new(blue.clone()));
        // A call starts on blue and is held there.
        let in_flight = tokio::spawn({
            let switch = switch.clone();
            async move { switch.send(call()).await }
        });
        blue.entered.acquire().await.expect("open").forget();

        let old = switch.swap(Arc::new(Named::new("green", 1)));
        assert_eq!(answer(switch.send(call()).await), "green");
        assert_eq!(
            blue.entered.available_permits(),
            0,
            "no new call reached blue"
        );

        blue.gate.add_permits(1);
        assert_eq!(answer(in_flight.await.expect("joins")), "blue");
        drop(old);
        // Once its call ended, nothing but this test holds blue.
        assert_eq!(Arc::strong_count(&blue), 1);
    }

    #[tokio::test]
    async fn an_unconnected_transport_fails_calls_unavailable_with_its_reason() {
        let err = Unconnected("no wire here").send(call()).await.unwrap_err();
        assert_eq!(err.code(), crate::Code::Unavailable);
        assert_eq!(err.message(), "/t.v1.T/M: no wire here");
    }
}
