//! One command that shows the wire runtime working: serves EchoService on a loopback port
//! and calls it over Connect, gRPC and gRPC-Web, with all four method kinds, an error with
//! a detail, a deadline and gzip, then shuts the server down gracefully.

use std::time::Duration;

use connect_plugin::protocol::{Codec, Encoding, Protocol};
use connect_plugin::rpc::Request;
use connect_plugin::transport::ListenAddr;
use connect_plugin::{Channel, Client, ClientConfig, Server};
use echo::collect;
use echo::pb::{EchoRequest, Failure};
use echo::pb::{EchoService as _, EchoServiceClient};

fn req(message: &str) -> EchoRequest {
    EchoRequest {
        message: message.to_owned(),
        ..Default::default()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::new(echo::router()).bind("127.0.0.1:0").await?;
    let ListenAddr::Tcp(addr) = server.local_addr().clone() else {
        unreachable!("bound a TCP address")
    };
    println!("echo server listening on http://{addr}");
    let url = format!("http://{addr}");
    for protocol in [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb] {
        for codec in [Codec::Proto, Codec::Json] {
            let config = ClientConfig {
                protocol,
                codec,
                ..ClientConfig::default()
            };
            let client = EchoServiceClient::new(Client::with_config(
                Channel::builder(&url)?.build(),
                config,
            ));
            let unary = client.echo(req("hello").into()).await?.into_inner().message;
            let mut ss = req("tick");
            ss.count = 3;
            let (ticks, _) =
                collect(client.echo_server_stream(ss.into()).await?.into_inner()).await;
            let joined = client
                .echo_client_stream(Request::new(connect_plugin::Streaming::from_iter(vec![
                    req("a"),
                    req("b"),
                    req("c"),
                ])))
                .await?
                .into_inner()
                .message;
            let (bidi, _) = collect(
                client
                    .echo_bidi(Request::new(connect_plugin::Streaming::from_iter(vec![
                        req("ping"),
                        req("pong"),
                    ])))
                    .await?
                    .into_inner(),
            )
            .await;
            println!(
                "{protocol:?}/{}: unary={unary:?} server-stream={:?} client-stream={joined:?} bidi={:?}",
                codec.name(),
                ticks.iter().map(|t| t.index).collect::<Vec<_>>(),
                bidi.iter().map(|m| m.message.as_str()).collect::<Vec<_>>(),
            );
        }
    }
    let client = EchoServiceClient::new(Client::new(Channel::builder(&url)?.build()));
    let mut failing = req("x");
    failing.fail = Some(Failure {
        code: "not_found".into(),
        message: "no such echo".into(),
        with_detail: true,
    });
    let err = client
        .echo(failing.into())
        .await
        .expect_err("asked to fail");
    let detail = err
        .find_detail::<echo::pb::EchoResponse>()
        .map(|d| d.message);
    println!(
        "error: code={} message={:?} detail={detail:?}",
        err.code(),
        err.message()
    );
    let mut slow = req("slow");
    slow.delay_ms = 2_000;
    let started = std::time::Instant::now();
    let err = client
        .echo(Request::new(slow).with_timeout(Duration::from_millis(100)))
        .await
        .expect_err("deadline");
    println!(
        "deadline: code={} after {:?}",
        err.code(),
        started.elapsed()
    );
    let gz = EchoServiceClient::new(Client::with_config(
        Channel::builder(&url)?.build(),
        ClientConfig {
            send_compression: Encoding::Gzip,
            ..ClientConfig::default()
        },
    ));
    let mut big = req("compressed");
    big.payload = vec![7u8; 256 * 1024].into();
    let back = gz.echo(big.into()).await?.into_inner();
    println!("gzip: {} bytes echoed", back.payload.len());
    server.shutdown(Duration::from_secs(1)).await;
    println!("server shut down");
    Ok(())
}
