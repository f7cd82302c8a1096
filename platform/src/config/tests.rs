//! The merge rule and the checks, on files written to a temporary folder.

use std::path::PathBuf;

use super::*;

/// Writes `text` to the file `name` in `dir`.
fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn listen_only() -> Overrides {
    Overrides {
        listen: Some("127.0.0.1:0".into()),
        ..Overrides::default()
    }
}

fn file(text: &str) -> ConfigFile {
    ConfigFile::parse(text).unwrap()
}

#[test]
fn defaults_are_the_platforms() {
    let c = HostConfig::resolve(None, listen_only()).unwrap();
    let d = PlatformConfig::default();
    assert_eq!(c.tokens, d.tokens);
    assert_eq!(c.members, d.members);
    assert_eq!(c.registry, d.registry);
    assert_eq!(c.max_watches, d.max_watches);
    assert_eq!(c.app_versions, d.app_versions);
    assert_eq!(c.shutdown_grace, DEFAULT_SHUTDOWN_GRACE);
    assert!(!c.development_mode);
    assert!(c.join_tokens.is_empty() && c.allow.is_empty() && c.cookie.is_none());
    assert_eq!(c.sweep_every, None);
}

#[test]
fn single_values_come_from_the_command_line_first() {
    let f = file(
        r#"
        listen = "127.0.0.1:7000"
        token_ttl = "10m"
        sweep_every = "1m"
        shutdown_grace = "3s"
        log_level = "debug"
        [cookie]
        key = "FILE"
        value = "file"
        "#,
    );
    let from_file = HostConfig::resolve(Some(f.clone()), Overrides::default()).unwrap();
    assert_eq!(from_file.listen, "127.0.0.1:7000");
    assert_eq!(from_file.tokens.ttl, Duration::from_secs(600));
    assert_eq!(from_file.sweep_every, Some(Duration::from_secs(60)));
    assert_eq!(from_file.shutdown_grace, Duration::from_secs(3));
    assert_eq!(from_file.log_level.as_deref(), Some("debug"));
    assert_eq!(from_file.cookie, Some(MagicCookie::new("FILE", "file")));

    let overridden = HostConfig::resolve(
        Some(f),
        Overrides {
            listen: Some("unix:/tmp/h.sock".into()),
            token_ttl: Some(Duration::from_secs(5)),
            sweep_every: Some(Duration::from_secs(1)),
            shutdown_grace: Some(Duration::from_secs(1)),
            log_level: Some("warn".into()),
            cookie: Some(MagicCookie::new("CLI", "cli")),
            ..Overrides::default()
        },
    )
    .unwrap();
    assert_eq!(overridden.listen, "unix:/tmp/h.sock");
    assert_eq!(overridden.tokens.ttl, Duration::from_secs(5));
    assert_eq!(overridden.sweep_every, Some(Duration::from_secs(1)));
    assert_eq!(overridden.shutdown_grace, Duration::from_secs(1));
    assert_eq!(overridden.log_level.as_deref(), Some("warn"));
    assert_eq!(overridden.cookie, Some(MagicCookie::new("CLI", "cli")));
}

#[test]
fn lists_come_from_every_source() {
    let dir = tempfile::tempdir().unwrap();
    let tokens_file = write(&dir, "tokens", "# team a\nfrom-file=secret-from-file\n");
    let extra_file = write(&dir, "extra", "from-flag-file=secret-from-flag-file\n");
    let config = write(
        &dir,
        "host.toml",
        r#"
        listen = "127.0.0.1:0"
        join_token_file = "tokens"
        allow_addresses = ["http://127.0.0.1:*"]
        [[join_tokens]]
        pattern = "inline"
        secret = "secret-inline"
        "#,
    );
    assert!(tokens_file.starts_with(dir.path()));
    let c = HostConfig::resolve(
        Some(ConfigFile::load(&config).unwrap()),
        Overrides {
            join_tokens: vec!["from-flag=secret-from-flag".parse().unwrap()],
            join_token_files: vec![extra_file],
            join_tokens_env: Some(Secret::new("from-env=secret-from-env\n")),
            allow_addresses: vec!["unix:/run/plugins/*".into()],
            ..Overrides::default()
        },
    )
    .unwrap();
    let tokens = c.platform_config().join_tokens;
    assert_eq!(tokens.len(), 5);
    for (id, secret) in [
        ("inline", "secret-inline"),
        ("from-file", "secret-from-file"),
        ("from-flag-file", "secret-from-flag-file"),
        ("from-flag", "secret-from-flag"),
        ("from-env", "secret-from-env"),
    ] {
        assert!(tokens.admits(id, secret.as_bytes()), "{id}");
    }
    let check = |a: &str| c.allow.check(&crate::address::Address::parse(a).unwrap());
    assert!(check("http://127.0.0.1:9000").is_ok());
    assert!(check("unix:/run/plugins/p.sock").is_ok());
    assert!(check("http://10.0.0.1:9000").is_err());
}

#[test]
fn unwise_settings_are_warned_about() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let open = write(&dir, "open", "logger=short\n");
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    let closed = write(&dir, "closed", "cache=a-long-enough-secret-here\n");
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o600)).unwrap();
    let c = HostConfig::resolve(
        None,
        Overrides {
            join_token_files: vec![open.clone(), closed],
            ..listen_only()
        },
    )
    .unwrap();
    assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
    assert!(c.warnings[0].contains(&*open.to_string_lossy()));
    assert!(c.warnings[0].contains("chmod 600"));
    assert!(c.warnings[1].contains("shorter than"));
    assert!(c.warnings[1].contains("`logger`"), "{}", c.warnings[1]);
}

#[test]
fn development_mode_is_turned_on_by_either() {
    let on = file("listen = \"127.0.0.1:0\"\ndevelopment_mode = true");
    let off = file("listen = \"127.0.0.1:0\"\ndevelopment_mode = false");
    let flag = Overrides {
        development_mode: true,
        ..Overrides::default()
    };
    assert!(
        HostConfig::resolve(Some(on), Overrides::default())
            .unwrap()
            .development_mode
    );
    assert!(
        HostConfig::resolve(Some(off.clone()), flag)
            .unwrap()
            .development_mode
    );
    assert!(
        !HostConfig::resolve(Some(off), Overrides::default())
            .unwrap()
            .development_mode
    );
}

#[test]
fn limits_reach_the_platform_config() {
    let f = file(
        r#"
        listen = "127.0.0.1:0"
        app_protocol_versions = [2, 3]
        [limits]
        max_plugins = 10
        max_tokens_per_plugin = 2
        max_registrations_per_plugin = 5
        max_watches = 70
        "#,
    );
    let p = HostConfig::resolve(Some(f), Overrides::default())
        .unwrap()
        .platform_config();
    assert_eq!(p.members.max_members, 10);
    assert_eq!(p.tokens.max_per_runtime, 2);
    assert_eq!(p.registry.max_per_provider, 5);
    assert_eq!(p.max_watches, 70);
    assert_eq!(p.app_versions, vec![2, 3]);
}

#[test]
fn bad_settings_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let bad_tokens = write(&dir, "tokens", "ok=secret-secret\nnot a token hunter2\n");
    let cases: Vec<(Option<ConfigFile>, Overrides, &str)> = vec![
        (None, Overrides::default(), "no address to listen on"),
        (
            None,
            Overrides {
                listen: Some("localhost".into()),
                ..Overrides::default()
            },
            "invalid listen address",
        ),
        (
            None,
            Overrides {
                listen: Some("unix:".into()),
                ..Overrides::default()
            },
            "invalid listen address",
        ),
        (
            Some(file(
                "[[join_tokens]]\npattern = \"Bad\"\nsecret = \"hunter2\"",
            )),
            listen_only(),
            "not a self id pattern",
        ),
        (
            None,
            Overrides {
                join_token_files: vec![bad_tokens.clone()],
                ..listen_only()
            },
            "line 2: a join token is written PATTERN=SECRET",
        ),
        (
            None,
            Overrides {
                join_token_files: vec![dir.path().join("missing")],
                ..listen_only()
            },
            "cannot read",
        ),
        (
            None,
            Overrides {
                join_tokens_env: Some(Secret::new("hunter2")),
                ..listen_only()
            },
            "CONNECT_PLUGIN_JOIN_TOKENS, line 1",
        ),
        (
            None,
            Overrides {
                allow_addresses: vec!["ftp://x".into()],
                ..listen_only()
            },
            "invalid allowed address",
        ),
        (
            Some(file("[limits]\nmax_plugins = 0")),
            listen_only(),
            "`max_plugins`: must be at least 1",
        ),
        (
            None,
            Overrides {
                token_ttl: Some(Duration::from_millis(10)),
                ..listen_only()
            },
            "`token_ttl`",
        ),
        (
            None,
            Overrides {
                sweep_every: Some(Duration::ZERO),
                ..listen_only()
            },
            "`sweep_every`",
        ),
        (
            Some(file("app_protocol_versions = []")),
            listen_only(),
            "`app_protocol_versions`",
        ),
    ];
    for (f, o, want) in cases {
        let e = HostConfig::resolve(f, o).unwrap_err().to_string();
        assert!(e.contains(want), "want {want:?} in {e:?}");
        assert!(!e.contains("hunter2"), "{e}");
    }
}

#[test]
fn selection_and_policy_reach_the_platform() {
    let f = file(
        r#"
        selection = "first"

        [[policy]]
        plugins = "cache-*"
        provides = ["cache"]
        requires = []
        "#,
    );
    let config = HostConfig::resolve(Some(f), listen_only()).unwrap();
    assert_eq!(config.selection, crate::select::Strategy::First);
    let platform = config.platform_config();
    assert!(platform.policy.may_provide("cache-eu", "cache"));
    assert!(!platform.policy.may_provide("cache-eu", "logger"));
    assert!(!platform.policy.may_require("cache-eu", "logger"));
    assert!(
        platform.policy.may_provide("logger", "logger"),
        "no rule: what it declares"
    );
    let c = |id| crate::select::Candidate {
        provider_id: id,
        weight: 1,
        in_flight: 0,
        health: crate::select::Health::Healthy,
    };
    // "first" always picks the first.
    for _ in 0..3 {
        assert_eq!(
            crate::select::choose(&*platform.select, &[c("a"), c("b")]),
            Some(0)
        );
    }
    for (bad, setting) in [
        ("selection = \"fastest\"", "selection"),
        ("[[policy]]\nplugins = \"Cache\"", "policy.plugins"),
    ] {
        let e = HostConfig::resolve(Some(file(bad)), listen_only()).unwrap_err();
        assert!(e.to_string().contains(setting), "{bad}: {e}");
    }
}
