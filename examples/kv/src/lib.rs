//! The KV example: `KVService` (`proto/kv/v1/kv.proto`) implemented by an in-memory store
//! that `kv-plugin` serves, and used by `kv-host`, which launches the plugin.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use connect_plugin::plugin::MagicCookie;
use connect_plugin::rpc::{Request, Response};
use connect_plugin::{Status, Streaming};
use futures::StreamExt;
use tokio::sync::broadcast;

#[allow(missing_docs, clippy::all)]
#[path = "gen/mod.rs"]
mod generated;

/// `kv.v1`: messages and the generated service code (`KvService`, `KvServicePlugin`, ...).
pub use generated::kv::v1 as pb;

use pb::{batch_request, batch_response, watch_event};

/// A `PutRequest` of `key` = `value` (text), for the host and the tests.
pub fn put(key: &str, value: &str) -> pb::PutRequest {
    pb::PutRequest {
        key: key.into(),
        value: value.to_owned().into_bytes().into(),
    }
}

/// A `GetRequest` of `key`.
pub fn get(key: &str) -> pb::GetRequest {
    pb::GetRequest { key: key.into() }
}

/// The cookie the KV host and plugin share.
pub fn cookie() -> MagicCookie {
    MagicCookie::new("KV_PLUGIN", "7b1f0c2e-kv-example")
}

/// An in-memory key-value store with change notification.
#[derive(Debug, Clone)]
pub struct KvStore {
    data: Arc<Mutex<BTreeMap<String, Bytes>>>,
    changes: broadcast::Sender<pb::WatchEvent>,
}

impl Default for KvStore {
    fn default() -> Self {
        KvStore {
            data: Arc::default(),
            changes: broadcast::channel(1024).0,
        }
    }
}

impl KvStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Bytes>> {
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, key: &str) -> Result<pb::GetResponse, Status> {
        self.lock()
            .get(key)
            .map(|v| pb::GetResponse { value: v.clone() })
            .ok_or_else(|| Status::not_found(format!("no value for {key:?}")))
    }

    fn put(&self, r: pb::PutRequest) -> pb::PutResponse {
        let previous = self.lock().insert(r.key.clone(), r.value.clone());
        let _ = self.changes.send(pb::WatchEvent {
            kind: watch_event::Kind::Put as i32,
            key: r.key,
            value: r.value,
        });
        pb::PutResponse { previous }
    }

    fn delete(&self, key: String) -> pb::DeleteResponse {
        let existed = self.lock().remove(&key).is_some();
        if existed {
            let _ = self.changes.send(pb::WatchEvent {
                kind: watch_event::Kind::Delete as i32,
                key,
                value: Bytes::new(),
            });
        }
        pb::DeleteResponse { existed }
    }
}

#[connect_plugin::async_trait]
impl pb::KvService for KvStore {
    async fn get(
        &self,
        request: Request<pb::GetRequest>,
    ) -> Result<Response<pb::GetResponse>, Status> {
        self.get(&request.get_ref().key).map(Response::new)
    }

    async fn put(
        &self,
        request: Request<pb::PutRequest>,
    ) -> Result<Response<pb::PutResponse>, Status> {
        Ok(Response::new(KvStore::put(self, request.into_inner())))
    }

    async fn delete(
        &self,
        request: Request<pb::DeleteRequest>,
    ) -> Result<Response<pb::DeleteResponse>, Status> {
        Ok(Response::new(KvStore::delete(
            self,
            request.into_inner().key,
        )))
    }

    async fn watch(
        &self,
        request: Request<pb::WatchRequest>,
    ) -> Result<Response<Streaming<pb::WatchEvent>>, Status> {
        let prefix = request.into_inner().prefix;
        // Subscribed before the answer goes out: a caller whose watch() returned sees
        // every later change.
        let rx = self.changes.subscribe();
        let events = futures::stream::unfold(rx, move |mut rx| {
            let prefix = prefix.clone();
            async move {
                loop {
                    match rx.recv().await {
                        Ok(e) if e.key.starts_with(&prefix) => return Some((Ok(e), rx)),
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            let st =
                                Status::data_loss(format!("the watcher fell {n} changes behind"));
                            return Some((Err(st), rx));
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        });
        Ok(Response::new(Streaming::from_stream(events)))
    }

    async fn batch(
        &self,
        request: Request<Streaming<pb::BatchRequest>>,
    ) -> Result<Response<Streaming<pb::BatchResponse>>, Status> {
        let store = self.clone();
        let answers = request.into_inner().map(move |r| {
            let r = r?;
            let result = match r.op {
                Some(batch_request::Op::Get(g)) => match store.get(&g.key) {
                    Ok(v) => Some(batch_response::Result::Get(v)),
                    Err(e) => {
                        return Ok(pb::BatchResponse {
                            result: None,
                            error: e.message().to_owned(),
                        });
                    }
                },
                Some(batch_request::Op::Put(p)) => Some(batch_response::Result::Put(store.put(p))),
                Some(batch_request::Op::Delete(d)) => {
                    Some(batch_response::Result::Delete(store.delete(d.key)))
                }
                None => {
                    return Err(Status::invalid_argument(
                        "a batch request without an operation",
                    ));
                }
            };
            Ok(pb::BatchResponse {
                result,
                error: String::new(),
            })
        });
        Ok(Response::new(Streaming::from_stream(answers)))
    }
}
