//! The client under test: reads `ClientCompatRequest`s from stdin until it ends, runs them
//! concurrently with connect-plugin's client, and writes one `ClientCompatResponse` per
//! request to stdout (one whole frame at a time).

use std::process::ExitCode;
use std::sync::Arc;

use conformance::client::run_case;
use conformance::io::{read_message, write_message};
use conformance::pb::ClientCompatRequest;
use tokio::sync::Mutex;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conformance-client: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    conformance::register_json_types();
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let stdout = Arc::new(Mutex::new(tokio::io::stdout()));
    let mut stdin = tokio::io::stdin();
    let mut cases = tokio::task::JoinSet::new();
    loop {
        let request = tokio::select! {
            r = read_message::<ClientCompatRequest, _>(&mut stdin) => r?,
            _ = sigterm.recv() => return Ok(()),
        };
        let Some(request) = request else { break };
        let stdout = stdout.clone();
        cases.spawn(async move {
            let response = run_case(request).await;
            let mut out = stdout.lock().await;
            write_message(&mut *out, &response).await
        });
    }
    loop {
        tokio::select! {
            next = cases.join_next() => match next {
                None => return Ok(()),
                Some(Ok(written)) => written?,
                Some(Err(e)) => return Err(e.into()),
            },
            _ = sigterm.recv() => return Ok(()),
        }
    }
}
