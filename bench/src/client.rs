//! One measurement per process, over exactly one connection (HTTP/2 multiplexes the 64
//! concurrent calls of `conc64` over it). Prints one JSON line:
//! `{"peer","test","count","secs","rate","p50_us","p99_us"}`.

use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};

use crate::{Args, PAYLOAD, Peer, Res, STREAM_N, runtime};

/// How much work each test does.
#[derive(Debug, Clone)]
pub struct Sizing {
    pub seq_warmup: usize,
    pub seq_calls: usize,
    pub conc: usize,
    pub conc_warmup_secs: f64,
    pub conc_secs: f64,
    pub stream_warmup: usize,
    pub streams: usize,
}

impl Sizing {
    /// The `--quick` smoke workload.
    pub fn quick() -> Sizing {
        Sizing {
            seq_warmup: 200,
            seq_calls: 2_000,
            conc: 64,
            conc_warmup_secs: 0.25,
            conc_secs: 1.0,
            stream_warmup: 2,
            streams: 20,
        }
    }

    /// The full workload, or the `--quick` smoke workload; any count can be overridden.
    pub fn from_args(a: &Args, quick: bool) -> Res<Sizing> {
        let d = if quick {
            Sizing::quick()
        } else {
            Sizing {
                seq_warmup: 2_000,
                seq_calls: 20_000,
                conc: 64,
                conc_warmup_secs: 1.0,
                conc_secs: 5.0,
                stream_warmup: 10,
                streams: 200,
            }
        };
        Ok(Sizing {
            seq_warmup: a.num("seq-warmup", d.seq_warmup)?,
            seq_calls: a.num("seq-calls", d.seq_calls)?,
            conc: a.num("conc", d.conc)?,
            conc_warmup_secs: a.num("conc-warmup-secs", d.conc_warmup_secs)?,
            conc_secs: a.num("conc-secs", d.conc_secs)?,
            stream_warmup: a.num("stream-warmup", d.stream_warmup)?,
            streams: a.num("streams", d.streams)?,
        })
    }

    /// The options that reproduce this sizing in a child process.
    pub fn to_args(&self) -> Vec<String> {
        vec![
            format!("--seq-warmup={}", self.seq_warmup),
            format!("--seq-calls={}", self.seq_calls),
            format!("--conc={}", self.conc),
            format!("--conc-warmup-secs={}", self.conc_warmup_secs),
            format!("--conc-secs={}", self.conc_secs),
            format!("--stream-warmup={}", self.stream_warmup),
            format!("--streams={}", self.streams),
        ]
    }
}

/// What one test measured.
struct Outcome {
    count: usize,
    secs: f64,
    /// Sorted latencies in ns (empty for the stream test).
    lat_ns: Vec<u64>,
}

/// Nearest-rank percentile of sorted latencies, in µs.
pub(crate) fn percentile_us(sorted_ns: &[u64], p: f64) -> Option<f64> {
    if sorted_ns.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted_ns.len() as f64).ceil() as usize;
    Some(sorted_ns[rank.clamp(1, sorted_ns.len()) - 1] as f64 / 1e3)
}

/// Runs `--test` against `--addr` with `--peer`'s client.
pub fn main(args: &Args) -> Res<()> {
    let peer = Peer::parse(args.req("peer")?)?;
    let addr: std::net::SocketAddr = args.req("addr")?.parse()?;
    if !addr.ip().is_loopback() {
        return Err("this benchmark only talks to loopback addresses".into());
    }
    let test = args.req("test")?.to_string();
    // `--test seq-ab`: `--addr` serves `connect-plugin`, `--addr-b` `connect-plugin-chain`;
    // calls to the two alternate (see `ab`).
    let addr_b: Option<std::net::SocketAddr> = match args.get("addr-b") {
        Some(a) => Some(a.parse()?),
        None => None,
    };
    if addr_b.is_some_and(|a| !a.ip().is_loopback()) {
        return Err("this benchmark only talks to loopback addresses".into());
    }
    let sz = Sizing::from_args(args, args.flag("quick"))?;
    // A hung peer must not hang the orchestrator.
    let limit = Duration::from_secs(args.num("time-limit-secs", 300)?);
    let t = test.clone();
    // `--in-task`: run the test in a spawned task (on a worker thread) rather than in
    // `block_on` on the main thread, to tell costs of the client from costs of crossing
    // threads on every call.
    let in_task = args.flag("in-task");
    let line = runtime()?.block_on(async move {
        let work = async move {
            let t = t.as_str();
            if t == "seq-ab" {
                let b = addr_b.ok_or("--test seq-ab needs --addr-b")?;
                return seq_ab(addr, b, &sz).await;
            }
            let out = match peer {
                Peer::Hyper => run_test(HyperCaller::connect(addr).await?, t, &sz).await,
                Peer::Tonic => run_test(TonicCaller::connect(addr).await?, t, &sz).await,
                Peer::ConnectPlugin => {
                    run_test(
                        CpCaller::new(addr, connect_plugin::Protocol::Connect)?,
                        t,
                        &sz,
                    )
                    .await
                }
                Peer::ConnectPluginGrpc => {
                    run_test(CpCaller::new(addr, connect_plugin::Protocol::Grpc)?, t, &sz).await
                }
                Peer::ConnectPluginChain => {
                    let CpCaller(client) = CpCaller::new(addr, connect_plugin::Protocol::Connect)?;
                    run_test(CpCaller(chain()?.apply(&client)), t, &sz).await
                }
                Peer::ReqwestConnect => run_test(ReqwestCaller::new(addr)?, t, &sz).await,
            }?;
            Res::Ok(serde_json::json!({
                "count": out.count,
                "secs": out.secs,
                "rate": out.count as f64 / out.secs,
                "p50_us": percentile_us(&out.lat_ns, 50.0),
                "p99_us": percentile_us(&out.lat_ns, 99.0),
            }))
        };
        let done = if in_task {
            match tokio::time::timeout(limit, tokio::spawn(work)).await {
                Ok(joined) => Some(joined.map_err(|e| format!("the test task failed: {e}"))?),
                Err(_) => None,
            }
        } else {
            tokio::time::timeout(limit, work).await.ok()
        };
        done.unwrap_or_else(|| Err(format!("the test did not finish within {limit:?}").into()))
    })?;
    let mut line = line;
    line["peer"] = peer.name().into();
    line["test"] = test.into();
    println!("{line}");
    Ok(())
}

/// `seq-ab`: sequential calls alternating between a plain client of `plain` and a client
/// with the `BENCH_CHAIN` chain of `chained` (see [`crate::ab`]).
async fn seq_ab(
    plain: std::net::SocketAddr,
    chained: std::net::SocketAddr,
    sz: &Sizing,
) -> Res<serde_json::Value> {
    let a = CpCaller::new(plain, connect_plugin::Protocol::Connect)?;
    let CpCaller(client) = CpCaller::new(chained, connect_plugin::Protocol::Connect)?;
    let b = CpCaller(chain()?.apply(&client));
    crate::ab::interleave(
        sz.seq_warmup,
        sz.seq_calls,
        || {
            let mut a = a.clone();
            async move { a.unary().await }
        },
        || {
            let mut b = b.clone();
            async move { b.unary().await }
        },
    )
    .await
}

async fn run_test<C: Caller>(c: C, test: &str, sz: &Sizing) -> Res<Outcome> {
    match test {
        "seq" => seq(c, sz).await,
        "conc64" | "conc" => conc(c, sz).await,
        "stream" => stream(c, sz).await,
        other => Err(format!("unknown --test {other:?} (seq|conc64|stream)").into()),
    }
}

/// One peer's client: a unary echo of [`PAYLOAD`], and one server stream of [`STREAM_N`]
/// messages. Clones share the one connection.
trait Caller: Clone + Send + Sync + 'static {
    /// One unary call; checks the echo.
    fn unary(&mut self) -> impl Future<Output = Res<()>> + Send;
    /// One server stream; returns how many messages arrived.
    fn stream(&mut self) -> impl Future<Output = Res<usize>> + Send;
}

async fn seq<C: Caller>(mut c: C, sz: &Sizing) -> Res<Outcome> {
    for _ in 0..sz.seq_warmup {
        c.unary().await?;
    }
    let mut lat = Vec::with_capacity(sz.seq_calls);
    let start = Instant::now();
    for _ in 0..sz.seq_calls {
        let t0 = Instant::now();
        c.unary().await?;
        lat.push(t0.elapsed().as_nanos() as u64);
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort_unstable();
    Ok(Outcome {
        count: lat.len(),
        secs,
        lat_ns: lat,
    })
}

/// `conc` tasks, each with one call in flight at all times, for the warm-up and then the
/// measured window. Throughput counts calls that complete inside the window; latency
/// percentiles use the calls that both start and complete inside it.
async fn conc<C: Caller>(c: C, sz: &Sizing) -> Res<Outcome> {
    let begin = Instant::now();
    let from = begin + Duration::from_secs_f64(sz.conc_warmup_secs);
    let until = from + Duration::from_secs_f64(sz.conc_secs);
    let mut tasks = Vec::with_capacity(sz.conc);
    for _ in 0..sz.conc {
        let mut c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut completed = 0usize;
            let mut lat = Vec::with_capacity(1 << 14);
            loop {
                let t0 = Instant::now();
                if t0 >= until {
                    break;
                }
                c.unary().await?;
                let t1 = Instant::now();
                if t1 >= from && t1 <= until {
                    completed += 1;
                    if t0 >= from {
                        lat.push((t1 - t0).as_nanos() as u64);
                    }
                }
            }
            Res::Ok((completed, lat))
        }));
    }
    let mut count = 0;
    let mut all = Vec::new();
    for t in tasks {
        let (n, lat) = t.await??;
        count += n;
        all.extend(lat);
    }
    all.sort_unstable();
    Ok(Outcome {
        count,
        secs: sz.conc_secs,
        lat_ns: all,
    })
}

async fn stream<C: Caller>(mut c: C, sz: &Sizing) -> Res<Outcome> {
    for _ in 0..sz.stream_warmup {
        let n = c.stream().await?;
        if n != STREAM_N {
            return Err(format!("short stream: {n} messages").into());
        }
    }
    let mut count = 0;
    let start = Instant::now();
    for _ in 0..sz.streams {
        let n = c.stream().await?;
        if n != STREAM_N {
            return Err(format!("short stream: {n} messages").into());
        }
        count += n;
    }
    Ok(Outcome {
        count,
        secs: start.elapsed().as_secs_f64(),
        lat_ns: Vec::new(),
    })
}

// ---------------------------------------------------------------------------------------------
// The floor: hyper's HTTP/2 client connection, no pool, no tower.

#[derive(Clone)]
struct HyperCaller {
    sender: hyper::client::conn::http2::SendRequest<Full<Bytes>>,
    echo: http::Uri,
    stream: http::Uri,
}

impl HyperCaller {
    async fn connect(addr: std::net::SocketAddr) -> Res<HyperCaller> {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let (sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp)).await?;
        tokio::spawn(conn);
        Ok(HyperCaller {
            sender,
            echo: format!("http://{addr}/echo").parse()?,
            stream: format!("http://{addr}/stream").parse()?,
        })
    }

    async fn post(&mut self, uri: http::Uri) -> Res<Bytes> {
        self.sender.ready().await?;
        let req = http::Request::post(uri)
            .header(http::header::CONTENT_TYPE, "application/octet-stream")
            .body(Full::new(Bytes::from_static(PAYLOAD.as_bytes())))?;
        let resp = self.sender.send_request(req).await?;
        if !resp.status().is_success() {
            return Err(format!("HTTP status {}", resp.status()).into());
        }
        Ok(resp.into_body().collect().await?.to_bytes())
    }
}

impl Caller for HyperCaller {
    async fn unary(&mut self) -> Res<()> {
        let body = self.post(self.echo.clone()).await?;
        if body != PAYLOAD.as_bytes() {
            return Err("bad echo".into());
        }
        Ok(())
    }

    async fn stream(&mut self) -> Res<usize> {
        let body = self.post(self.stream.clone()).await?;
        if body.len() % PAYLOAD.len() != 0 || !body.starts_with(PAYLOAD.as_bytes()) {
            return Err("ragged stream".into());
        }
        Ok(body.len() / PAYLOAD.len())
    }
}

// ---------------------------------------------------------------------------------------------
// tonic: one `Channel` (one HTTP/2 connection behind a tower buffer), cloned per task.

#[derive(Clone)]
struct TonicCaller(
    crate::tonic_pb::echo_service_client::EchoServiceClient<tonic::transport::Channel>,
);

impl TonicCaller {
    async fn connect(addr: std::net::SocketAddr) -> Res<TonicCaller> {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
            .tcp_nodelay(true)
            .connect()
            .await?;
        Ok(TonicCaller(
            crate::tonic_pb::echo_service_client::EchoServiceClient::new(channel),
        ))
    }
}

impl Caller for TonicCaller {
    async fn unary(&mut self) -> Res<()> {
        let r = self
            .0
            .echo(crate::tonic_pb::EchoRequest {
                message: PAYLOAD.to_owned(),
            })
            .await?;
        if r.get_ref().message != PAYLOAD {
            return Err("bad echo".into());
        }
        Ok(())
    }

    async fn stream(&mut self) -> Res<usize> {
        let mut s = self
            .0
            .echo_stream(crate::tonic_pb::EchoRequest {
                message: PAYLOAD.to_owned(),
            })
            .await?
            .into_inner();
        let mut n = 0;
        while let Some(m) = s.message().await? {
            if m.message != PAYLOAD {
                return Err("bad stream message".into());
            }
            n += 1;
        }
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------------
// connect-plugin: `Client` over a `Channel` (HTTP/2 prior knowledge, one connection, the
// default), Connect protocol or gRPC.

/// An interceptor that passes calls on (`BENCH_CHAIN=noop`).
struct PassOn;

impl connect_plugin::rpc::Interceptor for PassOn {
    fn intercept_client<'a>(
        &'a self,
        call: connect_plugin::rpc::ClientCall,
        next: connect_plugin::rpc::ClientNext<'a>,
    ) -> futures::future::BoxFuture<
        'a,
        Result<connect_plugin::rpc::ClientOutput, connect_plugin::Status>,
    > {
        let call = next.run(call);
        Box::pin(call)
    }
}

#[derive(Clone)]
struct CpCaller(connect_plugin::Client);

/// The chain a plugin's dispensed clients get by default (circuit breaker, retry), with a
/// bearer token in front, as `PluginClient` builds it.
fn chain() -> Res<connect_plugin::interceptors::ClientChain> {
    use connect_plugin::interceptors::auth::{ApiKey, BearerToken};
    use connect_plugin::interceptors::{BreakerConfig, CircuitBreaker, ClientChain, RetryPolicy};
    // BENCH_CHAIN=auth,breaker,retry (the default) picks parts, to see what each costs.
    let parts = crate::server::chain_parts();
    let mut chain = ClientChain::new();
    if parts.contains("auth") {
        chain = chain.interceptor(BearerToken::new(crate::server::BENCH_TOKEN)?);
    }
    if parts.contains("apikey") {
        chain = chain.interceptor(ApiKey::new(crate::server::BENCH_API_KEY)?.indexed());
    }
    if parts.contains("breaker") {
        chain = chain.circuit_breaker(std::sync::Arc::new(CircuitBreaker::new(
            "bench",
            BreakerConfig::default(),
        )));
    }
    if parts.contains("retry") {
        chain = chain.retry(RetryPolicy::default());
    }
    // `noop`: an interceptor that passes every call on, for what the chain's mechanism
    // itself costs (each adds one boxed future).
    for _ in 0..parts.matches("noop").count() {
        chain = chain.interceptor(PassOn);
    }
    Ok(chain)
}

impl CpCaller {
    fn new(addr: std::net::SocketAddr, protocol: connect_plugin::Protocol) -> Res<CpCaller> {
        let channel = connect_plugin::Channel::builder(&format!("http://{addr}"))?.build();
        let config = connect_plugin::ClientConfig {
            protocol,
            ..Default::default()
        };
        Ok(CpCaller(connect_plugin::Client::with_config(
            channel, config,
        )))
    }
}

impl Caller for CpCaller {
    async fn unary(&mut self) -> Res<()> {
        use crate::cp_pb::{ECHO, EchoRequest, EchoResponse};
        let r: connect_plugin::Response<EchoResponse> = self
            .0
            .unary(
                &ECHO,
                connect_plugin::Request::new(EchoRequest {
                    message: PAYLOAD.to_owned(),
                }),
            )
            .await?;
        if r.get_ref().message != PAYLOAD {
            return Err("bad echo".into());
        }
        Ok(())
    }

    async fn stream(&mut self) -> Res<usize> {
        use crate::cp_pb::{ECHO_STREAM, EchoRequest, EchoResponse};
        let mut s = self
            .0
            .server_streaming::<EchoRequest, EchoResponse>(
                &ECHO_STREAM,
                connect_plugin::Request::new(EchoRequest {
                    message: PAYLOAD.to_owned(),
                }),
            )
            .await?
            .into_inner();
        let mut n = 0;
        while let Some(m) = s.message().await? {
            if m.message != PAYLOAD {
                return Err("bad stream message".into());
            }
            n += 1;
        }
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------------
// reqwest: a minimal Connect client on reqwest 0.12 (h2c with prior knowledge, no TLS), against
// connect-plugin's server. Unary: a POST of the binary proto message with
// `content-type: application/proto` and `connect-protocol-version: 1`. Server stream: a POST of
// one envelope (`application/connect+proto`), then the response's envelopes until the
// end-stream message.

// Set up as cheaply as reqwest allows: URLs parsed once (a `&str` is parsed on every call),
// and no redirect policy (it parses the URL once more per call; connect-plugin's and tonic's
// clients do not follow redirects either).
#[derive(Clone)]
struct ReqwestCaller {
    client: reqwest::Client,
    echo: reqwest::Url,
    stream: reqwest::Url,
}

impl ReqwestCaller {
    fn new(addr: std::net::SocketAddr) -> Res<ReqwestCaller> {
        let client = reqwest::Client::builder()
            .http2_prior_knowledge()
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(ReqwestCaller {
            client,
            echo: format!("http://{addr}{}", crate::cp_pb::ECHO.path).parse()?,
            stream: format!("http://{addr}{}", crate::cp_pb::ECHO_STREAM.path).parse()?,
        })
    }

    fn request_body() -> Vec<u8> {
        use prost::Message as _;
        crate::cp_pb::EchoRequest {
            message: PAYLOAD.to_owned(),
        }
        .encode_to_vec()
    }
}

/// Splits one enveloped message (flags, payload) off the front of `buf`, if whole.
fn take_envelope(buf: &mut bytes::BytesMut) -> Option<(u8, Bytes)> {
    if buf.len() < 5 {
        return None;
    }
    let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
    if buf.len() < 5 + len {
        return None;
    }
    let frame = buf.split_to(5 + len).freeze();
    Some((frame[0], frame.slice(5..)))
}

impl Caller for ReqwestCaller {
    async fn unary(&mut self) -> Res<()> {
        use prost::Message as _;
        let resp = self
            .client
            .post(self.echo.clone())
            .header(http::header::CONTENT_TYPE, "application/proto")
            .header("connect-protocol-version", "1")
            .body(Self::request_body())
            .send()
            .await?;
        if resp.status() != http::StatusCode::OK {
            return Err(format!("HTTP status {}", resp.status()).into());
        }
        let reply = crate::cp_pb::EchoResponse::decode(resp.bytes().await?)?;
        if reply.message != PAYLOAD {
            return Err("bad echo".into());
        }
        Ok(())
    }

    async fn stream(&mut self) -> Res<usize> {
        use prost::Message as _;
        let mut body = bytes::BytesMut::new();
        let message = Self::request_body();
        body.extend_from_slice(&[0]);
        body.extend_from_slice(&(message.len() as u32).to_be_bytes());
        body.extend_from_slice(&message);
        let mut resp = self
            .client
            .post(self.stream.clone())
            .header(http::header::CONTENT_TYPE, "application/connect+proto")
            .header("connect-protocol-version", "1")
            .body(body.freeze())
            .send()
            .await?;
        if resp.status() != http::StatusCode::OK {
            return Err(format!("HTTP status {}", resp.status()).into());
        }
        let mut buf = bytes::BytesMut::new();
        let mut n = 0;
        loop {
            while let Some((flags, payload)) = take_envelope(&mut buf) {
                if flags & 0x02 != 0 {
                    // The end-stream message: `{}` unless the call failed.
                    if &payload[..] != b"{}" {
                        return Err(format!(
                            "stream failed: {}",
                            String::from_utf8_lossy(&payload)
                        )
                        .into());
                    }
                    return Ok(n);
                }
                let m = crate::cp_pb::EchoResponse::decode(payload)?;
                if m.message != PAYLOAD {
                    return Err("bad stream message".into());
                }
                n += 1;
            }
            match resp.chunk().await? {
                Some(chunk) => buf.extend_from_slice(&chunk),
                None => return Err("the stream ended without an end-stream message".into()),
            }
        }
    }
}
