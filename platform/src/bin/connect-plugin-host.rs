//! `connect-plugin-host`: the host platform as a program. Reads its settings (command line,
//! config file, environment), serves the platform, prints `listening on …` as the first
//! line on stdout, logs to stderr, and shuts down gracefully on SIGTERM or SIGINT.
//!
//! Exit codes: 0 after a graceful shutdown (and for `--help`), 2 for bad flags or
//! settings, 1 when the host cannot start (the address is taken, say).

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use connect_plugin::plugin::MagicCookie;
use connect_plugin::transport::ListenAddr;
use connect_plugin_platform::Platform;
use connect_plugin_platform::config::{
    self, ConfigFile, HostConfig, JOIN_TOKENS_ENV, JoinTokenEntry, Overrides, Secret,
};

/// The connect-plugin host platform: admits self-registering plugins, keeps the registry
/// of the services they provide, and routes their calls to each other.
#[derive(Debug, Parser)]
#[command(
    name = "connect-plugin-host",
    version,
    after_long_help = AFTER_HELP,
    after_help = "Run with --help for the configuration rule, an example and security notes."
)]
struct Cli {
    /// Where to listen: HOST:PORT (port 0 picks a free one) or unix:/path. Required here or
    /// as `listen` in the config file.
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,

    /// A TOML config file holding the same settings (see the example below).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// The application's magic cookie plugins must present (a guard against the wrong
    /// application, not a credential).
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_cookie)]
    cookie: Option<MagicCookie>,

    /// A join token admitting plugins whose self id matches the pattern (`logger`,
    /// `logger-*` or `*`). Repeatable. Visible to other users in `ps`: prefer
    /// --join-token-file or CONNECT_PLUGIN_JOIN_TOKENS.
    #[arg(long = "join-token", value_name = "PATTERN=SECRET")]
    join_tokens: Vec<JoinTokenEntry>,

    /// A file of join tokens, one PATTERN=SECRET a line (`#` comments). Repeatable. Keep
    /// it readable by the host's user only.
    #[arg(long = "join-token-file", value_name = "FILE")]
    join_token_files: Vec<PathBuf>,

    /// An address pattern self-registering plugins may declare (`http://127.0.0.1:*`,
    /// `http://10.0.0.*:8080`, `unix:/run/plugins/*`). Repeatable. None by default.
    #[arg(long = "allow-address", value_name = "PATTERN")]
    allow_addresses: Vec<String>,

    /// Admits plugins WITHOUT a credential (each logged as a warning). Never in
    /// production.
    #[arg(long)]
    development_mode: bool,

    /// Runtime token lifetime (default 1h); plugins refresh before it ends.
    #[arg(long, value_name = "DURATION", value_parser = config::parse_duration)]
    token_ttl: Option<Duration>,

    /// How often expired tokens, and plugins left without one, are swept (default a
    /// quarter of the token lifetime, at most 30s).
    #[arg(long, value_name = "DURATION", value_parser = config::parse_duration)]
    sweep_every: Option<Duration>,

    /// How long calls in flight may take to finish on SIGTERM/SIGINT (default 10s).
    #[arg(long, value_name = "DURATION", value_parser = config::parse_duration)]
    shutdown_grace: Option<Duration>,

    /// Log filter for stderr (`info`, `debug`, `connect_plugin_platform=debug,info`, …).
    /// Default: RUST_LOG if set, else `info`.
    #[arg(long, value_name = "FILTER")]
    log_level: Option<String>,
}

const AFTER_HELP: &str = "\
Durations are a whole number and a unit: 500ms, 30s, 5m, 1h.

Settings come from the config file, then the command line and the environment. A setting
with one value (listen, cookie, token ttl, sweep interval, shutdown grace, log level)
takes the command line's value when given, else the file's. Lists (join tokens, allowed
addresses) take every source: the file, --join-token, --join-token-file and
CONNECT_PLUGIN_JOIN_TOKENS (PATTERN=SECRET entries separated by whitespace).
--development-mode can only turn development mode on.

The first line on stdout is `listening on http://IP:PORT` (or `listening on unix:/path`);
logs go to stderr. SIGTERM or SIGINT shuts down gracefully and exits 0. Exit code 2 means
bad flags or settings, 1 that the host could not start.

Example:
  connect-plugin-host --listen 127.0.0.1:7000 \\
      --join-token-file /etc/connect-plugin/join-tokens \\
      --allow-address 'http://127.0.0.1:*'

  host.toml:
    listen = \"127.0.0.1:7000\"
    allow_addresses = [\"http://127.0.0.1:*\"]
    join_token_file = \"join-tokens\"
    token_ttl = \"15m\"
    [limits]
    max_plugins = 256

Security: a join token admits any plugin whose self id matches its pattern; make each
secret long and random (openssl rand -base64 32). Tokens on the command line are visible
in `ps`; a file readable only by the host's user, or the environment variable, is safer.";

fn parse_cookie(text: &str) -> Result<MagicCookie, String> {
    config::parse_cookie(text).map_err(str::to_owned)
}

impl Cli {
    fn overrides(self) -> Overrides {
        Overrides {
            listen: self.listen,
            cookie: self.cookie,
            join_tokens: self.join_tokens,
            join_token_files: self.join_token_files,
            join_tokens_env: std::env::var(JOIN_TOKENS_ENV).ok().map(Secret::new),
            allow_addresses: self.allow_addresses,
            development_mode: self.development_mode,
            token_ttl: self.token_ttl,
            sweep_every: self.sweep_every,
            shutdown_grace: self.shutdown_grace,
            log_level: self.log_level,
        }
    }
}

fn main() -> ExitCode {
    // Usage errors exit 2 and --help 0, as clap does.
    let mut cli = Cli::parse();
    let file = match cli.config.take().map(|path| ConfigFile::load(&path)) {
        None => None,
        Some(Ok(file)) => Some(file),
        Some(Err(e)) => return usage_error(&e),
    };
    let config = match HostConfig::resolve(file, cli.overrides()) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    if let Err(e) = init_logs(config.log_level.as_deref()) {
        return usage_error(&e);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(config))
}

fn usage_error(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(2)
}

/// Logs to stderr: `--log-level` (or the file's `log_level`), else RUST_LOG, else `info`.
fn init_logs(level: Option<&str>) -> Result<(), String> {
    use tracing_subscriber::EnvFilter;
    let filter = match level {
        Some(l) => EnvFilter::try_new(l).map_err(|e| format!("invalid log level {l:?}: {e}"))?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init()
        .map_err(|e| e.to_string())
}

fn warn_about(config: &HostConfig) {
    if config.development_mode {
        tracing::warn!(
            "DEVELOPMENT MODE: plugins are admitted without a credential; never run a host like this in production"
        );
    } else if config.join_tokens.is_empty() {
        tracing::warn!(
            "no join tokens: no self-registering plugin can be admitted (give --join-token-file, \
             {JOIN_TOKENS_ENV} or join_tokens in the config file)"
        );
    }
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    if config.allow.is_empty() {
        tracing::info!(
            "no allowed addresses: self-registering plugins cannot declare an address to be called on"
        );
    }
}

async fn run(config: HostConfig) -> ExitCode {
    warn_about(&config);
    // Installed before the address is printed: whoever reads it may signal at once.
    let signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    let platform = Platform::new(config.platform_config());
    let mut serve = platform.serve();
    if let Some(every) = config.sweep_every {
        serve = serve.sweep_every(every);
    }
    let host = match serve.bind(&config.listen).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", config.listen);
            return ExitCode::FAILURE;
        }
    };
    let shown = match host.local_addr() {
        ListenAddr::Tcp(a) => format!("http://{a}"),
        other => other.to_string(),
    };
    // The first line on stdout, for whoever started the host to read the address from.
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "listening on {shown}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        tracing::warn!("stdout is closed; the listening address is only logged");
    }
    drop(stdout);
    tracing::info!(address = %shown, "host serving");

    let signal = signals.next().await;
    tracing::info!(signal, grace = ?config.shutdown_grace, "shutting down");
    host.shutdown(config.shutdown_grace).await;
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

/// SIGTERM and SIGINT, caught from the moment they are installed.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Waits for either; returns which.
    async fn next(mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}
