//! Calls EchoService and prints each response's message on its own line.
//!
//! `echo-client --url URL [--protocol connect|grpc|grpcweb] [--codec proto|json] [--gzip]
//! [--http1] [--get] [--timeout-ms N] [--delay-ms N] [--fail-code C --fail-message M
//! [--fail-detail]] [--payload-size N] METHOD --message M [--count N]`
//!
//! METHOD is `unary`, `server-stream`, `client-stream` or `bidi`. On error prints
//! `CODE: MESSAGE` and a `detail: TYPE MESSAGE` line per detail on stderr and exits 1.

use std::time::Duration;

use connect_plugin::protocol::{Codec, Encoding, Protocol};
use connect_plugin::rpc::Request;
use connect_plugin::transport::HttpVersion;
use connect_plugin::{Channel, Client, ClientConfig, Status};
use echo::collect;
use echo::pb::{EchoRequest, EchoResponse, Failure};
use echo::pb::{EchoService as _, EchoServiceClient};

const USAGE: &str = "usage: echo-client --url URL [--protocol connect|grpc|grpcweb] [--codec proto|json] [--gzip] [--http1] [--get] [--timeout-ms N] [--delay-ms N] [--fail-code CODE --fail-message MSG [--fail-detail]] [--payload-size N] unary|server-stream|client-stream|bidi --message M [--count N]";

fn usage(why: &str) -> ! {
    eprintln!("echo-client: {why}\n{USAGE}");
    std::process::exit(2);
}

struct Args {
    url: String,
    protocol: Protocol,
    codec: Codec,
    gzip: bool,
    http1: bool,
    get: bool,
    timeout: Option<Duration>,
    method: String,
    request: EchoRequest,
    count: i32,
    payload_size: Option<usize>,
}

fn parse() -> Args {
    let mut a = Args {
        url: String::new(),
        protocol: Protocol::Connect,
        codec: Codec::Proto,
        gzip: false,
        http1: false,
        get: false,
        timeout: None,
        method: String::new(),
        request: EchoRequest::default(),
        count: 1,
        payload_size: None,
    };
    let mut fail = Failure::default();
    let mut failing = false;
    let mut it = std::env::args().skip(1);
    let value = |it: &mut dyn Iterator<Item = String>, name: &str| -> String {
        it.next()
            .unwrap_or_else(|| usage(&format!("{name} needs a value")))
    };
    let num = |s: String, name: &str| -> i64 {
        s.parse()
            .unwrap_or_else(|_| usage(&format!("{name} wants a number")))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--url" => a.url = value(&mut it, "--url"),
            "--protocol" => {
                a.protocol = match value(&mut it, "--protocol").as_str() {
                    "connect" => Protocol::Connect,
                    "grpc" => Protocol::Grpc,
                    "grpcweb" | "grpc-web" => Protocol::GrpcWeb,
                    other => usage(&format!("unknown protocol {other}")),
                }
            }
            "--codec" => {
                let c = value(&mut it, "--codec");
                a.codec =
                    Codec::from_name(&c).unwrap_or_else(|| usage(&format!("unknown codec {c}")))
            }
            "--gzip" => a.gzip = true,
            "--http1" => a.http1 = true,
            "--get" => a.get = true,
            "--timeout-ms" => {
                a.timeout = Some(Duration::from_millis(num(
                    value(&mut it, "--timeout-ms"),
                    "--timeout-ms",
                ) as u64))
            }
            "--delay-ms" => {
                a.request.delay_ms = num(value(&mut it, "--delay-ms"), "--delay-ms") as i32
            }
            "--fail-code" => {
                fail.code = value(&mut it, "--fail-code");
                failing = true;
            }
            "--fail-message" => {
                fail.message = value(&mut it, "--fail-message");
                failing = true;
            }
            "--fail-detail" => fail.with_detail = true,
            "--payload-size" => {
                a.payload_size =
                    Some(num(value(&mut it, "--payload-size"), "--payload-size") as usize)
            }
            "--message" => a.request.message = value(&mut it, "--message"),
            "--count" => a.count = num(value(&mut it, "--count"), "--count") as i32,
            "-h" | "--help" => usage("help"),
            m if !m.starts_with('-') && a.method.is_empty() => a.method = m.to_owned(),
            other => usage(&format!("unexpected argument {other}")),
        }
    }
    if a.url.is_empty() {
        usage("--url is required");
    }
    if failing {
        a.request.fail = Some(fail);
    }
    if let Some(n) = a.payload_size {
        a.request.payload = (0..n).map(|i| (i % 251) as u8).collect::<Vec<u8>>().into();
    }
    a
}

fn print_response(r: &EchoResponse, with_payload: bool) {
    println!("{}", r.message);
    if with_payload {
        println!("payload {} bytes", r.payload.len());
    }
}

fn fail(e: &Status) -> ! {
    eprintln!("{}: {}", e.code(), e.message());
    for d in e.details() {
        match d.decode::<EchoResponse>() {
            Some(r) => eprintln!("detail: {} {}", d.type_name(), r.message),
            None => eprintln!("detail: {} ({} bytes)", d.type_name(), d.value().len()),
        }
    }
    std::process::exit(1);
}

#[tokio::main]
async fn main() {
    let a = parse();
    let channel = match Channel::builder(&a.url) {
        Ok(b) => b
            .http_version(if a.http1 {
                HttpVersion::Http1
            } else {
                HttpVersion::Http2
            })
            .build(),
        Err(e) => usage(&e.to_string()),
    };
    let config = ClientConfig {
        protocol: a.protocol,
        codec: a.codec,
        send_compression: if a.gzip {
            Encoding::Gzip
        } else {
            Encoding::Identity
        },
        timeout: a.timeout,
        use_get: a.get,
        ..ClientConfig::default()
    };
    let client = EchoServiceClient::new(Client::with_config(channel, config));
    let with_payload = a.payload_size.is_some();
    let expected_payload = a.request.payload.clone();
    let check_payload = |r: &EchoResponse, expected: &[u8]| {
        if with_payload && r.payload[..] != expected[..] {
            eprintln!(
                "payload mismatch: sent {} bytes, got {} bytes back",
                expected.len(),
                r.payload.len()
            );
            std::process::exit(3);
        }
    };
    let count = a.count.max(0) as usize;
    let requests = std::iter::repeat_n(a.request.clone(), count).collect::<Vec<_>>();
    match a.method.as_str() {
        "unary" => match client.echo(a.request.into()).await {
            Ok(r) => {
                check_payload(r.get_ref(), &expected_payload);
                print_response(r.get_ref(), with_payload);
            }
            Err(e) => fail(&e),
        },
        "server-stream" => {
            let mut req = a.request;
            req.count = a.count;
            match client.echo_server_stream(req.into()).await {
                Ok(r) => {
                    let (msgs, err) = collect(r.into_inner()).await;
                    for m in &msgs {
                        check_payload(m, &expected_payload);
                        print_response(m, with_payload);
                    }
                    if let Some(e) = err {
                        fail(&e);
                    }
                }
                Err(e) => fail(&e),
            }
        }
        "client-stream" => {
            let total: Vec<u8> = requests
                .iter()
                .flat_map(|r| r.payload.iter().copied())
                .collect();
            match client
                .echo_client_stream(Request::new(connect_plugin::Streaming::from_iter(requests)))
                .await
            {
                Ok(r) => {
                    check_payload(r.get_ref(), &total);
                    print_response(r.get_ref(), with_payload);
                }
                Err(e) => fail(&e),
            }
        }
        "bidi" => match client
            .echo_bidi(Request::new(connect_plugin::Streaming::from_iter(requests)))
            .await
        {
            Ok(r) => {
                let (msgs, err) = collect(r.into_inner()).await;
                for m in &msgs {
                    check_payload(m, &expected_payload);
                    print_response(m, with_payload);
                }
                if let Some(e) = err {
                    fail(&e);
                }
            }
            Err(e) => fail(&e),
        },
        "" => usage("METHOD is required"),
        other => usage(&format!("unknown method {other}")),
    }
}
