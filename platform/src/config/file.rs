//! The host's configuration file (TOML), as written: every setting optional, unknown keys
//! refused (a misspelt setting is an error, not silently ignored).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;
use super::duration::deserialize_opt;
use super::secrets::Secret;

/// A configuration file.
///
/// ```
/// use connect_plugin_platform::config::ConfigFile;
///
/// let file = ConfigFile::parse(r#"
///     listen = "127.0.0.1:7000"
///     allow_addresses = ["http://127.0.0.1:*"]
///     token_ttl = "15m"
///
///     [[join_tokens]]
///     pattern = "logger-*"
///     secret = "a-long-random-secret"
/// "#).unwrap();
/// assert_eq!(file.listen.as_deref(), Some("127.0.0.1:7000"));
/// assert_eq!(file.join_tokens.len(), 1);
/// ```
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `HOST:PORT` or `unix:/path`.
    pub listen: Option<String>,
    /// The application's magic cookie plugins must present.
    pub cookie: Option<CookieSetting>,
    /// Join tokens written in the file.
    #[serde(default)]
    pub join_tokens: Vec<JoinTokenSetting>,
    /// A file of join tokens, one `PATTERN=SECRET` a line (relative to the config file's
    /// folder).
    pub join_token_file: Option<PathBuf>,
    /// Address patterns self-registering plugins may declare.
    #[serde(default)]
    pub allow_addresses: Vec<String>,
    /// Admits plugins without a credential. Never in production.
    pub development_mode: Option<bool>,
    /// The application protocol versions the host speaks.
    pub app_protocol_versions: Option<Vec<u32>>,
    /// Runtime token lifetime.
    #[serde(default, deserialize_with = "deserialize_opt")]
    pub token_ttl: Option<Duration>,
    /// How often expired tokens are swept.
    #[serde(default, deserialize_with = "deserialize_opt")]
    pub sweep_every: Option<Duration>,
    /// How long calls in flight may take to finish on shutdown.
    #[serde(default, deserialize_with = "deserialize_opt")]
    pub shutdown_grace: Option<Duration>,
    /// The log filter (`info`, `debug`, `connect_plugin_platform=debug,info`, …).
    pub log_level: Option<String>,
    /// Bounds.
    #[serde(default)]
    pub limits: LimitsSetting,
    /// How the router picks a provider: `first`, `round-robin` (the default), `random`,
    /// `weighted` or `least-in-flight`.
    pub selection: Option<String>,
    /// `[[policy]]` rules: which plugins may provide and require which types (the first
    /// matching rule applies; a plugin no rule matches may use what it declares).
    #[serde(default)]
    pub policy: Vec<PolicySetting>,
    /// The file this was read from, if any (relative paths in it are relative to its
    /// folder).
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

/// `[cookie]`: `key` and `value`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CookieSetting {
    /// The cookie's name.
    pub key: String,
    /// Its value.
    pub value: String,
}

/// `[[join_tokens]]`: `pattern` and `secret`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinTokenSetting {
    /// `logger`, `logger-*` or `*`.
    pub pattern: String,
    /// The secret.
    pub secret: Secret,
}

/// `[[policy]]`: `plugins` (a self id pattern), and the types they may `provides` and
/// `requires` (each absent: any).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySetting {
    /// `logger`, `logger-*` or `*`.
    pub plugins: String,
    /// The types they may provide; absent: any.
    pub provides: Option<Vec<String>>,
    /// The types they may require (and so call); absent: any.
    pub requires: Option<Vec<String>>,
}

/// `[limits]`: each optional, the platform's default when absent.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSetting {
    /// Plugins admitted at once.
    pub max_plugins: Option<usize>,
    /// Plugins admitted at once under one self id.
    pub max_plugins_per_self_id: Option<usize>,
    /// Services one plugin may declare it provides (and, separately, requires).
    pub max_declarations: Option<usize>,
    /// Runtime tokens in all.
    pub max_tokens: Option<usize>,
    /// Runtime tokens one plugin may hold at once.
    pub max_tokens_per_plugin: Option<usize>,
    /// Registrations in all.
    pub max_registrations: Option<usize>,
    /// Registrations of one plugin.
    pub max_registrations_per_plugin: Option<usize>,
    /// Distinct service types.
    pub max_service_types: Option<usize>,
    /// Registry watches open at once in all.
    pub max_watches: Option<usize>,
    /// Registry watches one plugin may hold open.
    pub max_watches_per_plugin: Option<usize>,
}

impl ConfigFile {
    /// Parses TOML text.
    pub fn parse(text: &str) -> Result<ConfigFile, toml::de::Error> {
        toml::from_str(text)
    }

    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut file = ConfigFile::parse(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        file.path = Some(path.to_owned());
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_reads() {
        let file = ConfigFile::parse(
            r#"
            listen = "unix:/run/host.sock"
            join_token_file = "tokens"
            allow_addresses = ["http://127.0.0.1:*", "unix:/run/plugins/*"]
            development_mode = true
            app_protocol_versions = [1, 2]
            token_ttl = "10m"
            sweep_every = "5s"
            shutdown_grace = "500ms"
            log_level = "debug"
            selection = "least-in-flight"

            [cookie]
            key = "KV_PLUGIN"
            value = "hello"

            [[join_tokens]]
            pattern = "cache"
            secret = "s3cret"

            [[policy]]
            plugins = "cache-*"
            provides = ["cache"]
            requires = []

            [limits]
            max_plugins = 10
            max_plugins_per_self_id = 2
            max_declarations = 3
            max_tokens = 40
            max_tokens_per_plugin = 2
            max_registrations = 50
            max_registrations_per_plugin = 5
            max_service_types = 6
            max_watches = 70
            max_watches_per_plugin = 7
            "#,
        )
        .unwrap();
        assert_eq!(file.token_ttl, Some(Duration::from_secs(600)));
        assert_eq!(file.shutdown_grace, Some(Duration::from_millis(500)));
        assert_eq!(file.cookie.unwrap().key, "KV_PLUGIN");
        assert_eq!(file.join_tokens[0].secret.expose(), "s3cret");
        assert_eq!(file.limits.max_watches_per_plugin, Some(7));
        assert_eq!(file.app_protocol_versions, Some(vec![1, 2]));
        assert_eq!(file.selection.as_deref(), Some("least-in-flight"));
        assert_eq!(file.policy[0].provides, Some(vec!["cache".to_owned()]));
        assert_eq!(file.policy[0].requires, Some(vec![]));
    }

    #[test]
    fn mistakes_are_refused_with_their_place() {
        for (bad, want) in [
            ("lisen = \"x\"", "unknown field `lisen`"),
            ("token_ttl = \"ten minutes\"", "invalid duration"),
            ("token_ttl = 10", "invalid type"),
            ("[limits]\nmax_plugins = -1", "invalid value"),
            ("listen = ", "string values must be quoted"),
        ] {
            let e = ConfigFile::parse(bad).unwrap_err().to_string();
            assert!(e.contains(want), "{bad:?}: {e}");
            assert!(e.contains("line"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let file =
            ConfigFile::parse("[[join_tokens]]\npattern = \"a\"\nsecret = \"hunter2\"").unwrap();
        assert!(!format!("{file:?}").contains("hunter2"));
    }

    #[test]
    fn a_missing_file_is_named() {
        let e = ConfigFile::load(Path::new("/nonexistent/host.toml")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/host.toml"), "{e}");
    }
}
