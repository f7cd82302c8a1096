//! Shared helpers of the integration tests: locating protoc and the prost plugins, running
//! the whole generation pipeline the way `examples/echo/buf.gen.yaml` does, and comparing
//! directory trees.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Our plugin, as cargo built it for this test.
pub const PLUGIN: &str = env!("CARGO_BIN_EXE_protoc-gen-connect-plugin");

/// The environment variable that turns tests needing third-party tools into skips.
pub const SKIP_ENV: &str = "CONNECT_PLUGIN_SKIP_INTEROP";

/// How to install the prost plugins the pipeline runs.
pub const PROST_INSTALL: &str = "cargo install --locked protoc-gen-prost@0.5.0 protoc-gen-prost-serde@0.4.0 protoc-gen-prost-crate@0.5.0";

/// The repository root.
pub fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

/// `testdata/` at the repository root.
pub fn testdata() -> PathBuf {
    repo_root().join("testdata")
}

/// Whether tests that need third-party tools are to be skipped (prints why).
pub fn skipping(what: &str) -> bool {
    if std::env::var(SKIP_ENV).is_ok_and(|v| v == "1") {
        eprintln!("SKIP: {what} skipped because {SKIP_ENV}=1");
        return true;
    }
    false
}

/// A fresh, empty directory under cargo's per-target temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A program found on `PATH`, or else in cargo's bin directory.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// The three prost plugins.
pub struct ProstPlugins {
    pub prost: PathBuf,
    pub serde: PathBuf,
    pub krate: PathBuf,
}

/// The prost plugins; `None` (after printing why) when they are missing and
/// `CONNECT_PLUGIN_SKIP_INTEROP=1`; panics with the install command when they are missing
/// otherwise.
pub fn prost_plugins(what: &str) -> Option<ProstPlugins> {
    let names = [
        "protoc-gen-prost",
        "protoc-gen-prost-serde",
        "protoc-gen-prost-crate",
    ];
    let found: Vec<Option<PathBuf>> = names.iter().map(|n| find_tool(n)).collect();
    let missing: Vec<&str> = names
        .iter()
        .zip(&found)
        .filter(|(_, f)| f.is_none())
        .map(|(n, _)| *n)
        .collect();
    if !missing.is_empty() {
        if skipping(what) {
            return None;
        }
        panic!(
            "{} not found on PATH or in ~/.cargo/bin; install with:\n    {PROST_INSTALL}\n\
             (or set {SKIP_ENV}=1 to skip)",
            missing.join(", ")
        );
    }
    let mut found = found.into_iter().flatten();
    Some(ProstPlugins {
        prost: found.next().unwrap(),
        serde: found.next().unwrap(),
        krate: found.next().unwrap(),
    })
}

/// protoc from `protoc-bin-vendored`, and its well-known-types include directory.
pub fn protoc() -> (PathBuf, PathBuf) {
    (
        protoc_bin_vendored::protoc_bin_path().expect("protoc-bin-vendored has no protoc here"),
        protoc_bin_vendored::include_path().expect("protoc-bin-vendored has no include dir"),
    )
}

/// Every regular file under `dir` (relative path → contents), skipping nothing.
pub fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap();
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// How two trees differ: `None` when they are byte-identical; otherwise a report of the
/// missing and extra files and a diff of the first differing file.
pub fn compare_trees(
    expected: &BTreeMap<String, Vec<u8>>,
    actual: &BTreeMap<String, Vec<u8>>,
) -> Option<String> {
    let mut report = String::new();
    for name in expected.keys().filter(|k| !actual.contains_key(*k)) {
        report.push_str(&format!("missing file (expected, not generated): {name}\n"));
    }
    for name in actual.keys().filter(|k| !expected.contains_key(*k)) {
        report.push_str(&format!("extra file (generated, not expected): {name}\n"));
    }
    let differing: Vec<&String> = expected
        .iter()
        .filter(|(k, v)| actual.get(*k).is_some_and(|a| a != *v))
        .map(|(k, _)| k)
        .collect();
    for name in &differing {
        report.push_str(&format!("differs: {name}\n"));
    }
    if let Some(first) = differing.first() {
        report.push_str(&diff(first, &expected[*first], &actual[*first]));
    }
    if report.is_empty() {
        None
    } else {
        Some(report)
    }
}

/// A unified-style diff of the first hunk where `expected` and `actual` differ.
pub fn diff(name: &str, expected: &[u8], actual: &[u8]) -> String {
    let e = String::from_utf8_lossy(expected);
    let a = String::from_utf8_lossy(actual);
    let el: Vec<&str> = e.split_inclusive('\n').collect();
    let al: Vec<&str> = a.split_inclusive('\n').collect();
    let start = el.iter().zip(&al).take_while(|(x, y)| x == y).count();
    // The common tail, not reaching back into the common head.
    let tail = el[start..]
        .iter()
        .rev()
        .zip(al[start..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    const CONTEXT: usize = 3;
    const MAX: usize = 40;
    let from = start.saturating_sub(CONTEXT);
    let mut out = format!(
        "--- expected/{name}\n+++ generated/{name}\n@@ line {} @@\n",
        start + 1
    );
    let show = |l: &str| {
        let mut s = l.to_owned();
        if !s.ends_with('\n') {
            s.push_str("\n\\ no newline at end of file\n");
        }
        s
    };
    for l in &el[from..start] {
        out.push(' ');
        out.push_str(&show(l));
    }
    for l in el[start..el.len() - tail].iter().take(MAX) {
        out.push('-');
        out.push_str(&show(l));
    }
    for l in al[start..al.len() - tail].iter().take(MAX) {
        out.push('+');
        out.push_str(&show(l));
    }
    for l in el[el.len() - tail..].iter().take(CONTEXT) {
        out.push(' ');
        out.push_str(&show(l));
    }
    out
}

/// Runs a command to completion, capturing its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", cmd.get_program()))
}

/// A command's output for a failure message.
pub fn describe(out: &Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
