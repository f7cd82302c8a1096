//! The real runtime through the fault proxy: connect-plugin's EchoService client calling
//! its server across a `FaultProxy`.

use std::future::Future;
use std::time::{Duration, Instant};

use connect_plugin::protocol::Code;
use connect_plugin::rpc::Request;
use connect_plugin::transport::{HttpVersion, ListenAddr, RunningServer};
use connect_plugin::{Channel, Client, Server};
use connect_plugin_testkit::proxy::{Direction, FaultProxy, NewConnections};
use echo::pb::{EchoRequest, EchoService as _, EchoServiceClient};

async fn within<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("timed out (a test guard, not a timing assertion)")
}

/// The echo server, and a proxy in front of it.
async fn plugin_behind_proxy() -> (RunningServer, FaultProxy) {
    let server = Server::new(echo::router())
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let ListenAddr::Tcp(addr) = server.local_addr().clone() else {
        panic!("a TCP server")
    };
    let proxy = FaultProxy::start(addr).await.unwrap();
    (server, proxy)
}

fn client(url: &str, version: HttpVersion) -> EchoServiceClient {
    EchoServiceClient::new(Client::new(
        Channel::builder(url).unwrap().http_version(version).build(),
    ))
}

fn req(message: &str) -> Request<EchoRequest> {
    Request::new(EchoRequest {
        message: message.into(),
        ..Default::default()
    })
}

#[tokio::test]
async fn calls_go_through_and_fail_unavailable_after_reset() {
    for version in [HttpVersion::Http2, HttpVersion::Http1] {
        let (_server, proxy) = plugin_behind_proxy().await;
        let faults = proxy.handle();
        let echo = client(&proxy.url(), version);

        let r = within(echo.echo(req("through"))).await.unwrap();
        assert_eq!(r.get_ref().message, "through", "{version:?}");
        assert_eq!(faults.stats().accepted, 1, "{version:?}");

        // Reset the open connection, and every new one.
        faults
            .set_new_connections(NewConnections::Reset)
            .await
            .unwrap();
        assert_eq!(within(faults.reset_existing()).await, 1, "{version:?}");
        let err = within(echo.echo(req("reset"))).await.unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{version:?}: {err}");

        // Healed: the same client reconnects.
        faults
            .set_new_connections(NewConnections::Forward)
            .await
            .unwrap();
        let r = within(echo.echo(req("again"))).await.unwrap();
        assert_eq!(r.get_ref().message, "again", "{version:?}");
        proxy.shutdown().await;
    }
}

#[tokio::test]
async fn refused_plugin_is_unavailable() {
    let (_server, proxy) = plugin_behind_proxy().await;
    let faults = proxy.handle();
    faults
        .set_new_connections(NewConnections::Refuse)
        .await
        .unwrap();
    let echo = client(&proxy.url(), HttpVersion::Http2);
    let err = within(echo.echo(req("nobody"))).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err}");
}

#[tokio::test]
async fn latency_and_stall_seen_by_calls() {
    let (_server, proxy) = plugin_behind_proxy().await;
    let faults = proxy.handle();
    let echo = client(&proxy.url(), HttpVersion::Http2);
    within(echo.echo(req("warm"))).await.unwrap();

    faults.set_latency(Direction::Both, Duration::from_millis(100));
    let start = Instant::now();
    within(echo.echo(req("slow"))).await.unwrap();
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(200), "took only {took:?}");

    // A stalled reply: the call's deadline expires.
    faults.clear();
    faults.stall(Direction::Downstream);
    let err = within(echo.echo(req("stuck").with_timeout(Duration::from_millis(300))))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err}");
    faults.resume(Direction::Downstream);
    let r = within(echo.echo(req("flowing"))).await.unwrap();
    assert_eq!(r.get_ref().message, "flowing");
}
