//! Serves EchoService on Connect, gRPC and gRPC-Web, proto and JSON, HTTP/1.1 and h2c.
//!
//! `echo-server --listen 127.0.0.1:0` prints `listening on http://IP:PORT`;
//! `echo-server --listen unix:/path` prints `listening on unix:/path`.

use std::io::Write;
use std::time::Duration;

use connect_plugin::Server;
use connect_plugin::transport::ListenAddr;

fn usage() -> ! {
    eprintln!(
        "usage: echo-server [--listen ADDR] [--max-receive-message-size BYTES] [--max-send-message-size BYTES]\n  ADDR: HOST:PORT (port 0 picks one) or unix:/path"
    );
    std::process::exit(2);
}

/// A size argument, or the usage.
fn bytes(arg: Option<String>) -> usize {
    arg.and_then(|v| v.parse().ok()).unwrap_or_else(|| usage())
}

#[tokio::main]
async fn main() {
    let mut listen = "127.0.0.1:0".to_owned();
    let mut max_receive = None;
    let mut max_send = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().unwrap_or_else(|| usage()),
            "--max-receive-message-size" => max_receive = Some(bytes(args.next())),
            "--max-send-message-size" => max_send = Some(bytes(args.next())),
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    let mut router = echo::router();
    if let Some(m) = max_receive {
        router = router.max_receive_message_size(m);
    }
    if let Some(m) = max_send {
        router = router.max_send_message_size(m);
    }
    let server = match Server::new(router).bind(&listen).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("echo-server: cannot listen on {listen}: {e}");
            std::process::exit(1);
        }
    };
    match server.local_addr() {
        ListenAddr::Tcp(a) => println!("listening on http://{a}"),
        other => println!("listening on {other}"),
    }
    let _ = std::io::stdout().flush();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    server.shutdown(Duration::from_secs(5)).await;
}
