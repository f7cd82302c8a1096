//! The server under test: reads one `ServerCompatRequest` from stdin, serves
//! `ConformanceService` on 127.0.0.1 (every protocol, HTTP/1.1 and HTTP/2, TLS when asked),
//! writes a `ServerCompatResponse` with its address to stdout, and runs until SIGTERM.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use conformance::io::{read_message, write_message};
use conformance::pb::{self, ServerCompatRequest, ServerCompatResponse};
use conformance::service::Conformance;
use connect_plugin::Server;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conformance-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    conformance::register_json_types();
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let request: ServerCompatRequest = read_message(&mut tokio::io::stdin())
        .await?
        .ok_or("no ServerCompatRequest on stdin")?;
    let mut router = pb::conformance_service_router(Arc::new(Conformance));
    if request.message_receive_limit > 0 {
        router = router.max_receive_message_size(request.message_receive_limit as usize);
    }
    let mut server = Server::new(router);
    let mut pem_cert = Vec::new();
    if request.use_tls {
        let creds = request
            .server_creds
            .as_ref()
            .ok_or("use_tls without server_creds")?;
        let client_cert =
            (!request.client_tls_cert.is_empty()).then_some(&request.client_tls_cert[..]);
        server = server.tls(conformance::tls::server_config(
            &creds.cert,
            &creds.key,
            client_cert,
        )?);
        pem_cert = creds.cert.to_vec();
    }
    let running = server.bind("127.0.0.1:0").await?;
    let port = match running.local_addr() {
        connect_plugin::transport::ListenAddr::Tcp(addr) => addr.port(),
        other => return Err(format!("listening on {other:?}, not TCP").into()),
    };
    write_message(
        &mut tokio::io::stdout(),
        &ServerCompatResponse {
            host: "127.0.0.1".to_owned(),
            port: u32::from(port),
            pem_cert: pem_cert.into(),
        },
    )
    .await?;
    sigterm.recv().await;
    running.shutdown(Duration::from_secs(1)).await;
    Ok(())
}
