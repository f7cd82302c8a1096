//! The echo plugin of the `plugin` benchmark (served by `bench-echo-plugin`, and in process
//! for the in-memory and direct links), and the plain trait object it is compared with.

use std::sync::Arc;

use connect_plugin::Status;
use connect_plugin::Streaming;
use connect_plugin::plugin::{MagicCookie, PluginSet};
use connect_plugin::rpc::{Request, Response};

use crate::cp_pb::{EchoRequest, EchoResponse, EchoService, EchoServicePlugin};

/// The cookie the benchmark's host and plugin share.
pub fn cookie() -> MagicCookie {
    MagicCookie::new("CONNECT_PLUGIN_BENCH", "echo")
}

/// Messages per `EchoStream` (the plugin benchmark only calls `Echo`).
const STREAM_N: usize = 1000;

/// Answers `Echo` with the request's message, as go-plugin's benchmark plugin does.
#[derive(Debug, Default, Clone, Copy)]
pub struct Echo;

#[connect_plugin::async_trait]
impl EchoService for Echo {
    async fn echo(&self, r: Request<EchoRequest>) -> Result<Response<EchoResponse>, Status> {
        Ok(Response::new(EchoResponse {
            message: r.into_inner().message,
        }))
    }

    async fn echo_stream(
        &self,
        r: Request<EchoRequest>,
    ) -> Result<Response<Streaming<EchoResponse>>, Status> {
        let message = r.into_inner().message;
        Ok(Response::new(Streaming::from_iter(
            std::iter::repeat_n(message, STREAM_N).map(|message| EchoResponse { message }),
        )))
    }
}

/// The plugin set holding [`Echo`] as the `echo` plugin.
pub fn plugins() -> PluginSet {
    PluginSet::new().with::<EchoServicePlugin>(Arc::new(Echo))
}

/// The baseline of the direct link: a plain, synchronous trait, called through
/// `Arc<dyn PlainEcho>` on a local struct.
pub trait PlainEcho: Send + Sync {
    /// Returns the request's message.
    fn echo(&self, request: EchoRequest) -> EchoResponse;
}

impl PlainEcho for Echo {
    fn echo(&self, request: EchoRequest) -> EchoResponse {
        EchoResponse {
            message: request.message,
        }
    }
}

/// A second baseline: the same call through an `#[async_trait]` trait object, which boxes
/// one future per call as the generated service trait does, without the runtime's
/// `Request`/`Response` wrappers.
#[connect_plugin::async_trait]
pub trait AsyncEcho: Send + Sync {
    /// Returns the request's message.
    async fn echo(&self, request: EchoRequest) -> Result<EchoResponse, Status>;
}

#[connect_plugin::async_trait]
impl AsyncEcho for Echo {
    async fn echo(&self, request: EchoRequest) -> Result<EchoResponse, Status> {
        Ok(EchoResponse {
            message: request.message,
        })
    }
}
