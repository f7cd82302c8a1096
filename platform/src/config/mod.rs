//! A host's settings as the `connect-plugin-host` binary takes them: a TOML file
//! ([`ConfigFile`]), then the command line and the environment ([`Overrides`]), merged by
//! one rule into a checked [`HostConfig`], which gives the [`PlatformConfig`].
//!
//! The rule: a setting that holds **one value** (`listen`, `cookie`, `token_ttl`,
//! `sweep_every`, `shutdown_grace`, `log_level`) takes the command line's value when one
//! is given, else the file's, else the default. A setting that holds **a list** (join
//! tokens, allowed addresses) takes them all: the file's, then those of the command line,
//! the join-token files and the environment. `--development-mode` can only turn
//! development mode on.

mod duration;
mod file;
mod secrets;

use std::path::{Path, PathBuf};
use std::time::Duration;

use connect_plugin::plugin::MagicCookie;

pub use duration::{DurationError, parse_duration};
pub use file::{ConfigFile, CookieSetting, JoinTokenSetting, LimitsSetting};
pub use secrets::{
    JoinTokenEntry, JoinTokenError, LineError, SHORT_SECRET, Secret, join_tokens,
    parse_join_token_lines, parse_join_token_words,
};

use crate::address::{AddressError, AllowList};
use crate::control::{MemberLimits, PlatformConfig, Policy, Rule, Types};
use crate::identity::{SelfIdPattern, TokenLimits};
use crate::registry::RegistryLimits;
use crate::select::{Builtin, Strategy};

/// The environment variable the binary reads join tokens from: `PATTERN=SECRET` entries
/// separated by whitespace.
pub const JOIN_TOKENS_ENV: &str = "CONNECT_PLUGIN_JOIN_TOKENS";

/// How long calls in flight may take to finish on shutdown, by default.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Why the settings cannot be used. Messages name the file, line or setting at fault and
/// never a secret.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid TOML for these settings.
    #[error("invalid config file {}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What and where (line and column).
        message: String,
    },
    /// A join token in a list (file or environment variable) is malformed.
    #[error("invalid join token in {origin}, {source}")]
    JoinTokenList {
        /// The file or variable.
        origin: String,
        /// The line and why.
        source: LineError,
    },
    /// A join token written in the config file is malformed.
    #[error("invalid join token in the config file: {0}")]
    JoinToken(#[from] JoinTokenError),
    /// An allowed-address pattern is malformed.
    #[error("invalid allowed address: {0}")]
    AllowAddress(#[from] AddressError),
    /// The listen address is malformed.
    #[error(
        "invalid listen address {0:?}: write HOST:PORT (port 0 picks a free one) or unix:/path"
    )]
    Listen(String),
    /// No listen address anywhere.
    #[error("no address to listen on: give --listen ADDR or `listen` in the config file")]
    NoListen,
    /// A setting is out of range.
    #[error("invalid setting `{setting}`: {why}")]
    Setting {
        /// The setting.
        setting: &'static str,
        /// Why.
        why: &'static str,
    },
}

/// What the command line and the environment add to or replace in the file's settings.
///
/// ```
/// use connect_plugin_platform::config::{ConfigFile, HostConfig, Overrides};
///
/// let file = ConfigFile::parse("listen = \"127.0.0.1:7000\"\nallow_addresses = [\"http://127.0.0.1:*\"]").unwrap();
/// let overrides = Overrides {
///     listen: Some("127.0.0.1:0".into()),
///     join_tokens: vec!["logger=a-long-random-secret".parse().unwrap()],
///     ..Overrides::default()
/// };
/// let config = HostConfig::resolve(Some(file), overrides).unwrap();
/// assert_eq!(config.listen, "127.0.0.1:0"); // one value: the command line's
/// assert_eq!(config.join_tokens.len(), 1); // lists: both
/// assert!(!config.allow.is_empty());
/// ```
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<String>,
    /// `--cookie KEY=VALUE`.
    pub cookie: Option<MagicCookie>,
    /// `--join-token PATTERN=SECRET`, each.
    pub join_tokens: Vec<JoinTokenEntry>,
    /// `--join-token-file FILE`, each.
    pub join_token_files: Vec<PathBuf>,
    /// The value of [`JOIN_TOKENS_ENV`], if set.
    pub join_tokens_env: Option<Secret>,
    /// `--allow-address PATTERN`, each.
    pub allow_addresses: Vec<String>,
    /// `--development-mode`.
    pub development_mode: bool,
    /// `--token-ttl`.
    pub token_ttl: Option<Duration>,
    /// `--sweep-every`.
    pub sweep_every: Option<Duration>,
    /// `--shutdown-grace`.
    pub shutdown_grace: Option<Duration>,
    /// `--log-level`.
    pub log_level: Option<String>,
}

/// The host's settings, merged and checked.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Where to listen: `HOST:PORT` or `unix:/path`.
    pub listen: String,
    /// The magic cookie plugins must present, if any.
    pub cookie: Option<MagicCookie>,
    /// The join tokens, from every source.
    pub join_tokens: Vec<JoinTokenEntry>,
    /// The addresses self-registering plugins may declare.
    pub allow: AllowList,
    /// Whether plugins are admitted without a credential.
    pub development_mode: bool,
    /// The application protocol versions the host speaks.
    pub app_versions: Vec<u32>,
    /// Runtime token bounds, lifetime included.
    pub tokens: TokenLimits,
    /// Admission bounds.
    pub members: MemberLimits,
    /// Registry bounds.
    pub registry: RegistryLimits,
    /// Registry watches in all.
    pub max_watches: usize,
    /// The sweep interval, if set (else the host picks one from the token lifetime).
    pub sweep_every: Option<Duration>,
    /// The grace period on shutdown.
    pub shutdown_grace: Duration,
    /// The log filter, if set.
    pub log_level: Option<String>,
    /// How the router picks a provider.
    pub selection: Strategy,
    /// What plugins may provide and require.
    pub policy: Policy,
    /// What is allowed and unwise (a file of secrets other users can read, a short
    /// secret), for the host to log once its logging is set up.
    pub warnings: Vec<String>,
}

/// A selection strategy by its name in the config file.
fn strategy(name: &str) -> Result<Strategy, ConfigError> {
    Ok(match name {
        "first" => Strategy::First,
        "round-robin" => Strategy::RoundRobin,
        "random" => Strategy::Random,
        "weighted" => Strategy::Weighted,
        "least-in-flight" => Strategy::LeastInFlight,
        _ => {
            return Err(ConfigError::Setting {
                setting: "selection",
                why: "want first, round-robin, random, weighted or least-in-flight",
            });
        }
    })
}

/// The policy the `[[policy]]` rules describe.
fn policy(rules: &[file::PolicySetting]) -> Result<Policy, ConfigError> {
    let types = |list: &Option<Vec<String>>| match list {
        None => Types::Any,
        Some(types) => Types::Only(types.clone()),
    };
    let mut policy = Policy::default();
    for r in rules {
        let plugins = SelfIdPattern::parse(&r.plugins).map_err(|_| ConfigError::Setting {
            setting: "policy.plugins",
            why: "want a self id, a prefix ending in *, or *",
        })?;
        policy = policy.rule(Rule {
            plugins,
            provides: types(&r.provides),
            requires: types(&r.requires),
        });
    }
    Ok(policy)
}

impl HostConfig {
    /// Merges `file` (if any) and `overrides` by the rule in the [module docs](self),
    /// reading the join-token files named, and checks the result.
    pub fn resolve(file: Option<ConfigFile>, overrides: Overrides) -> Result<Self, ConfigError> {
        let file = file.unwrap_or_default();
        let mut warnings = Vec::new();
        if !file.join_tokens.is_empty() {
            if let Some(path) = &file.path {
                warnings.extend(readable_by_others(path));
            }
        }
        let listen = overrides
            .listen
            .or(file.listen)
            .ok_or(ConfigError::NoListen)?;
        check_listen(&listen)?;

        let mut join_tokens = Vec::new();
        for t in file.join_tokens {
            join_tokens.push(JoinTokenEntry::new(&t.pattern, t.secret)?);
        }
        let base = file
            .path
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(Path::new(""));
        let token_files = file
            .join_token_file
            .map(|p| base.join(p))
            .into_iter()
            .chain(overrides.join_token_files);
        for path in token_files {
            join_tokens.extend(read_token_file(&path)?);
            warnings.extend(readable_by_others(&path));
        }
        join_tokens.extend(overrides.join_tokens);
        if let Some(env) = overrides.join_tokens_env {
            join_tokens.extend(parse_join_token_words(env.expose()).map_err(|source| {
                ConfigError::JoinTokenList {
                    origin: JOIN_TOKENS_ENV.to_owned(),
                    source,
                }
            })?);
        }
        warnings.extend(join_tokens.iter().filter(|t| t.is_short()).map(|t| {
            format!(
                "the join token for `{}` is shorter than {SHORT_SECRET} characters; use a long random secret",
                t.pattern
            )
        }));

        let mut allow = AllowList::new();
        for pattern in file
            .allow_addresses
            .iter()
            .chain(&overrides.allow_addresses)
        {
            allow.insert(pattern)?;
        }

        let defaults = PlatformConfig::default();
        let l = &file.limits;
        let pick = |v: Option<usize>, default: usize, setting: &'static str| match v {
            Some(0) => Err(ConfigError::Setting {
                setting,
                why: "must be at least 1",
            }),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        let tokens = TokenLimits {
            ttl: overrides
                .token_ttl
                .or(file.token_ttl)
                .unwrap_or(defaults.tokens.ttl),
            max_tokens: pick(l.max_tokens, defaults.tokens.max_tokens, "max_tokens")?,
            max_per_runtime: pick(
                l.max_tokens_per_plugin,
                defaults.tokens.max_per_runtime,
                "max_tokens_per_plugin",
            )?,
        };
        if tokens.ttl < Duration::from_secs(1) {
            return Err(ConfigError::Setting {
                setting: "token_ttl",
                why: "must be at least 1s",
            });
        }
        let members = MemberLimits {
            max_members: pick(l.max_plugins, defaults.members.max_members, "max_plugins")?,
            max_per_self_id: pick(
                l.max_plugins_per_self_id,
                defaults.members.max_per_self_id,
                "max_plugins_per_self_id",
            )?,
            max_declarations: pick(
                l.max_declarations,
                defaults.members.max_declarations,
                "max_declarations",
            )?,
            max_watches: pick(
                l.max_watches_per_plugin,
                defaults.members.max_watches,
                "max_watches_per_plugin",
            )?,
        };
        let registry = RegistryLimits {
            max_registrations: pick(
                l.max_registrations,
                defaults.registry.max_registrations,
                "max_registrations",
            )?,
            max_per_provider: pick(
                l.max_registrations_per_plugin,
                defaults.registry.max_per_provider,
                "max_registrations_per_plugin",
            )?,
            max_types: pick(
                l.max_service_types,
                defaults.registry.max_types,
                "max_service_types",
            )?,
        };
        let app_versions = file.app_protocol_versions.unwrap_or(defaults.app_versions);
        if app_versions.is_empty() {
            return Err(ConfigError::Setting {
                setting: "app_protocol_versions",
                why: "needs at least one version",
            });
        }
        let sweep_every = overrides.sweep_every.or(file.sweep_every);
        if sweep_every == Some(Duration::ZERO) {
            return Err(ConfigError::Setting {
                setting: "sweep_every",
                why: "must be more than 0",
            });
        }
        Ok(HostConfig {
            listen,
            cookie: overrides
                .cookie
                .or(file.cookie.map(|c| MagicCookie::new(c.key, c.value))),
            join_tokens,
            allow,
            development_mode: overrides.development_mode || file.development_mode == Some(true),
            app_versions,
            tokens,
            members,
            registry,
            max_watches: pick(l.max_watches, defaults.max_watches, "max_watches")?,
            sweep_every,
            shutdown_grace: overrides
                .shutdown_grace
                .or(file.shutdown_grace)
                .unwrap_or(DEFAULT_SHUTDOWN_GRACE),
            log_level: overrides.log_level.or(file.log_level),
            selection: file
                .selection
                .as_deref()
                .map(strategy)
                .transpose()?
                .unwrap_or_default(),
            policy: policy(&file.policy)?,
            warnings,
        })
    }

    /// The platform's configuration.
    pub fn platform_config(&self) -> PlatformConfig {
        PlatformConfig {
            cookie: self.cookie.clone(),
            app_versions: self.app_versions.clone(),
            join_tokens: join_tokens(&self.join_tokens),
            development_mode: self.development_mode,
            allow: self.allow.clone(),
            tokens: self.tokens,
            registry: self.registry,
            members: self.members,
            max_watches: self.max_watches,
            select: std::sync::Arc::new(Builtin::new(self.selection)),
            policy: self.policy.clone(),
            ..PlatformConfig::default()
        }
    }
}

/// Reads a join-token file (one `PATTERN=SECRET` a line).
fn read_token_file(path: &Path) -> Result<Vec<JoinTokenEntry>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_join_token_lines(&text).map_err(|source| ConfigError::JoinTokenList {
        origin: path.display().to_string(),
        source,
    })
}

/// A warning if the file at `path`, which holds secrets, can be read by other users.
fn readable_by_others(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o004 != 0).then(|| {
        format!(
            "{} holds join tokens and other users can read it (mode {:o}); chmod 600 it",
            path.display(),
            mode & 0o777
        )
    })
}

/// `HOST:PORT` with a numeric port, or `unix:` and a path.
fn check_listen(addr: &str) -> Result<(), ConfigError> {
    let ok = match addr.strip_prefix("unix:") {
        Some(path) => !path.is_empty(),
        None => addr
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok()),
    };
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Listen(addr.chars().take(200).collect()))
    }
}

/// Parses `--cookie KEY=VALUE`.
///
/// ```
/// use connect_plugin_platform::config::parse_cookie;
///
/// let cookie = parse_cookie("KV_PLUGIN=hello").unwrap();
/// assert_eq!((cookie.key.as_str(), cookie.value.as_str()), ("KV_PLUGIN", "hello"));
/// assert!(parse_cookie("KV_PLUGIN").is_err());
/// ```
pub fn parse_cookie(text: &str) -> Result<MagicCookie, &'static str> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok(MagicCookie::new(key, value)),
        _ => Err("a cookie is written KEY=VALUE"),
    }
}

#[cfg(test)]
mod tests;
