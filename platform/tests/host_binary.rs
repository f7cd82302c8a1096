//! The `connect-plugin-host` binary as a real process: it prints its address as the first
//! line on stdout, answers `/healthz` and `grpc.health`, admits a plugin with the right
//! join token (from a flag, a config file, a token file or the environment) and refuses a
//! wrong one, explains itself in `--help`, exits 2 on bad input and 0 on SIGTERM/SIGINT.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use connect_plugin::interceptors::auth::BearerToken;
use connect_plugin::pb::connectplugin::v1 as cp;
use connect_plugin::pb::grpc::health::v1 as hv1;
use connect_plugin::{Channel, Client, Code, Request, Status};
use rustix::process::{Pid, Signal, kill_process};
use tokio::io::{
    AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _,
};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_connect-plugin-host");
const SECRET: &str = "a-long-join-secret-for-the-binary-tests";
/// A bound on waiting for what should come much sooner; never a pause.
const PATIENCE: Duration = Duration::from_secs(30);

/// Writes `text` to the file `name` in `dir`.
fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A running host process: its address (from its first stdout line) and what it logs.
struct Host {
    child: Child,
    address: String,
    stderr: Arc<Mutex<String>>,
    /// Reads stderr until it closes.
    reader: tokio::task::JoinHandle<()>,
}

fn command(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("CONNECT_PLUGIN_JOIN_TOKENS")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

impl Host {
    async fn start(mut command: Command) -> Host {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let log = stderr.clone();
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = err.read(&mut buf).await {
                log.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        tokio::time::timeout(PATIENCE, stdout.read_line(&mut line))
            .await
            .expect("no first line")
            .unwrap();
        let Some(address) = line.trim_end().strip_prefix("listening on ") else {
            panic!(
                "first line {line:?}; stderr: {}",
                stderr.lock().unwrap().as_str()
            );
        };
        Host {
            address: address.to_owned(),
            child,
            stderr,
            reader,
        }
    }

    fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(self.child.id().unwrap() as i32).unwrap();
        kill_process(pid, signal).unwrap();
    }

    async fn exit(mut self) -> (ExitStatus, String) {
        let status = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("the host did not exit")
            .unwrap();
        // Everything it wrote, to the end: the reader ends when stderr closes.
        tokio::time::timeout(PATIENCE, &mut self.reader)
            .await
            .expect("stderr did not close")
            .unwrap();
        let log = self.stderr.lock().unwrap().clone();
        (status, log)
    }

    fn client(&self) -> Client {
        Client::new(Channel::builder(&self.address).unwrap().build())
    }

    async fn handshake(&self, self_id: &str, join_token: Option<&str>) -> Result<String, Status> {
        let client = match join_token {
            Some(t) => self.client().with_interceptor(BearerToken::new(t).unwrap()),
            None => self.client(),
        };
        let c = cp::HandshakeServiceClient::new(client);
        let response = cp::HandshakeService::handshake(
            &c,
            Request::new(cp::HandshakeRequest {
                core_protocol_version: 1,
                app_protocol_versions: vec![1],
                self_id: self_id.into(),
                self_version: "1.0.0".into(),
                ..Default::default()
            }),
        )
        .await?;
        Ok(response.into_inner().runtime_token)
    }

    /// Admitted with the right token, refused `unauthenticated` with a wrong one or none.
    async fn admits_only_with(&self, self_id: &str, secret: &str) {
        let token = self.handshake(self_id, Some(secret)).await.unwrap();
        assert!(token.starts_with("cprt_"), "{token}");
        let wrong = self.handshake(self_id, Some("wrong-secret")).await;
        assert_eq!(wrong.unwrap_err().code(), Code::Unauthenticated);
        let none = self.handshake(self_id, None).await;
        assert_eq!(none.unwrap_err().code(), Code::Unauthenticated);
    }

    async fn health_check(&self) -> i32 {
        let c = hv1::HealthClient::new(self.client());
        hv1::Health::check(&c, Request::new(hv1::HealthCheckRequest::default()))
            .await
            .unwrap()
            .into_inner()
            .status
    }
}

/// A plain HTTP/1.1 GET over `io`: the status line and the body.
async fn http_get(mut io: impl AsyncRead + AsyncWrite + Unpin, path: &str) -> (String, String) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    io.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    io.read_to_string(&mut response).await.unwrap();
    let status = response.lines().next().unwrap_or_default().to_owned();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

async fn tcp_get(address: &str, path: &str) -> (String, String) {
    let authority = address.strip_prefix("http://").unwrap();
    http_get(
        tokio::net::TcpStream::connect(authority).await.unwrap(),
        path,
    )
    .await
}

async fn output(args: &[&str]) -> std::process::Output {
    tokio::time::timeout(PATIENCE, command(args).output())
        .await
        .expect("the host did not exit")
        .unwrap()
}

#[tokio::test]
async fn serves_health_admits_by_join_token_and_stops_on_sigterm() {
    let token = format!("logger-*={SECRET}");
    let host = Host::start(command(&[
        "--listen",
        "127.0.0.1:0",
        "--join-token",
        &token,
        "--allow-address",
        "http://127.0.0.1:*",
    ]))
    .await;
    assert!(
        host.address.starts_with("http://127.0.0.1:"),
        "{}",
        host.address
    );
    let port: u16 = host.address.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0);

    assert_eq!(
        tcp_get(&host.address, "/healthz").await,
        ("HTTP/1.1 200 OK".into(), "ok\n".into())
    );
    assert_eq!(
        tcp_get(&host.address, "/readyz").await,
        ("HTTP/1.1 200 OK".into(), "ready\n".into())
    );
    assert_eq!(
        host.health_check().await,
        hv1::health_check_response::ServingStatus::Serving as i32
    );
    host.admits_only_with("logger-eu", SECRET).await;
    // The token is for `logger-*` only.
    let other = host.handshake("cache", Some(SECRET)).await;
    assert_eq!(other.unwrap_err().code(), Code::Unauthenticated);

    host.signal(Signal::TERM);
    let (status, log) = host.exit().await;
    assert_eq!(status.code(), Some(0), "{status:?}: {log}");
    assert!(log.contains("SIGTERM"), "{log}");
    assert!(!log.contains(SECRET), "the secret was logged: {log}");
}

#[tokio::test]
async fn reads_a_config_file_a_token_file_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir,
        "tokens",
        &format!("# team a\nfrom-file={SECRET}-file\n"),
    );
    let config = write(
        &dir,
        "host.toml",
        &format!(
            r#"
            listen = "127.0.0.1:0"
            join_token_file = "tokens"
            token_ttl = "5m"
            log_level = "debug"

            [[join_tokens]]
            pattern = "inline"
            secret = "{SECRET}"

            [limits]
            max_plugins = 8
            "#
        ),
    );
    let mut cmd = command(&["--config", config.to_str().unwrap()]);
    cmd.env(
        "CONNECT_PLUGIN_JOIN_TOKENS",
        format!("from-env={SECRET}-env"),
    );
    let host = Host::start(cmd).await;
    host.admits_only_with("inline", SECRET).await;
    host.admits_only_with("from-file", &format!("{SECRET}-file"))
        .await;
    host.admits_only_with("from-env", &format!("{SECRET}-env"))
        .await;

    host.signal(Signal::INT);
    let (status, log) = host.exit().await;
    assert_eq!(status.code(), Some(0), "{status:?}: {log}");
    assert!(log.contains("SIGINT"), "{log}");
    assert!(log.contains("DEBUG"), "the file's log level applies: {log}");
}

#[tokio::test]
async fn listens_on_a_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("host.sock");
    let listen = format!("unix:{}", socket.display());
    let host = Host::start(command(&["--listen", &listen, "--development-mode"])).await;
    assert_eq!(host.address, listen);
    let stream = tokio::net::UnixStream::connect(&socket).await.unwrap();
    let (status, body) = http_get(stream, "/healthz").await;
    assert_eq!(
        (status.as_str(), body.as_str()),
        ("HTTP/1.1 200 OK", "ok\n")
    );

    host.signal(Signal::TERM);
    let (status, log) = host.exit().await;
    assert_eq!(status.code(), Some(0), "{status:?}: {log}");
    assert!(log.contains("DEVELOPMENT MODE"), "{log}");
    assert!(!Path::new(&socket).exists(), "the socket file is removed");
}

#[tokio::test]
async fn help_explains_every_flag() {
    let out = output(&["--help"]).await;
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--listen",
        "--config",
        "--cookie",
        "--join-token ",
        "--join-token-file",
        "--allow-address",
        "--development-mode",
        "--token-ttl",
        "--sweep-every",
        "--shutdown-grace",
        "--log-level",
        "CONNECT_PLUGIN_JOIN_TOKENS",
        "Example:",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help:\n{help}");
    }
}

#[tokio::test]
async fn bad_input_exits_2_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let unknown_key = write(
        &dir,
        "unknown.toml",
        "listen = \"127.0.0.1:0\"\nlisen = 1\n",
    );
    let bad_duration = write(&dir, "duration.toml", "token_ttl = \"ten minutes\"\n");
    let bad_tokens = write(&dir, "tokens", "nonsense-hunter2\n");
    let unknown_key = unknown_key.to_str().unwrap();
    let bad_duration = bad_duration.to_str().unwrap();
    let bad_tokens = bad_tokens.to_str().unwrap();
    let missing = dir.path().join("missing.toml");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--nope"], "--nope"),
        (vec![], "no address to listen on"),
        (vec!["--listen", "nowhere"], "invalid listen address"),
        (
            vec!["--listen", "127.0.0.1:0", "--token-ttl", "10"],
            "invalid duration",
        ),
        (
            vec!["--listen", "127.0.0.1:0", "--join-token", "logger"],
            "PATTERN=SECRET",
        ),
        (
            vec!["--listen", "127.0.0.1:0", "--cookie", "K"],
            "KEY=VALUE",
        ),
        (
            vec!["--listen", "127.0.0.1:0", "--allow-address", "ftp://x"],
            "invalid allowed address",
        ),
        (
            vec!["--listen", "127.0.0.1:0", "--log-level", "=[bad"],
            "invalid log level",
        ),
        (vec!["--config", unknown_key], "unknown field `lisen`"),
        (vec!["--config", bad_duration], "invalid duration"),
        (vec!["--config", missing.to_str().unwrap()], "cannot read"),
        (
            vec!["--listen", "127.0.0.1:0", "--join-token-file", bad_tokens],
            "line 1",
        ),
    ];
    for (args, want) in cases {
        let out = output(&args).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: want {want:?} in {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[tokio::test]
async fn an_address_in_use_exits_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = output(&["--listen", &addr]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot listen on"), "{stderr}");
}
