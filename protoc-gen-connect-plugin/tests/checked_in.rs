//! The generated code checked into the repository is what the generator makes today: each
//! `buf.gen.yaml` of the repository is run again into a scratch directory with the
//! freshly built plugin, and the result must match the checked-in files byte for byte.
//! Fix a failure with `scripts/generate.sh`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files_under(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                let rel = p.strip_prefix(root).expect("under root").to_path_buf();
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).expect("copy");
        }
    }
}

/// The tools `buf generate` needs, or `None` (after saying why) when the test is skipped.
fn tools() -> Option<(PathBuf, String)> {
    let buf = repo().join("interop/node/node_modules/.bin/buf");
    let cargo_bin = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo"))
        .join("bin");
    let plugin_dir = Path::new(env!("CARGO_BIN_EXE_protoc-gen-connect-plugin"))
        .parent()
        .expect("binary dir")
        .to_path_buf();
    let missing = !buf.exists() || !cargo_bin.join("protoc-gen-prost").exists();
    if missing {
        if std::env::var("CONNECT_PLUGIN_SKIP_INTEROP").as_deref() == Ok("1") {
            eprintln!("skipped: buf or protoc-gen-prost missing and CONNECT_PLUGIN_SKIP_INTEROP=1");
            return None;
        }
        panic!(
            "buf or protoc-gen-prost is missing: run scripts/install-codegen.sh (scripts/test.sh does)"
        );
    }
    let path = format!(
        "{}:{}:{}",
        plugin_dir.display(),
        cargo_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Some((buf, path))
}

fn check(dir: &str, out: &str) {
    let Some((buf, path)) = tools() else { return };
    let src = repo().join(dir);
    let scratch = std::env::temp_dir().join(format!(
        "cp-checked-in-{}-{}",
        std::process::id(),
        dir.replace('/', "_")
    ));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).expect("scratch");
    for f in ["buf.yaml", "buf.gen.yaml"] {
        std::fs::copy(src.join(f), scratch.join(f)).expect("copy config");
    }
    copy_dir(&src.join("proto"), &scratch.join("proto"));
    let run = Command::new(&buf)
        .arg("generate")
        .current_dir(&scratch)
        .env("PATH", &path)
        .output()
        .expect("run buf");
    assert!(
        run.status.success(),
        "buf generate in {dir} failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let fresh = files_under(&scratch.join(out));
    let checked_in = files_under(&src.join(out));
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(!fresh.is_empty(), "buf generate wrote nothing for {dir}");
    let names = |m: &BTreeMap<PathBuf, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&fresh),
        names(&checked_in),
        "{dir}/{out} has other files than the generator makes: run scripts/generate.sh"
    );
    for (name, content) in &fresh {
        assert!(
            checked_in.get(name) == Some(content),
            "{dir}/{out}/{} is stale: run scripts/generate.sh",
            name.display()
        );
    }
}

#[test]
fn runtime_protocol_code_is_fresh() {
    check(".", "runtime/src/gen");
}

#[test]
fn echo_example_code_is_fresh() {
    check("examples/echo", "src/gen");
}

#[test]
fn kv_example_code_is_fresh() {
    check("examples/kv", "src/gen");
}

#[test]
fn echo_proto_is_the_interop_contract() {
    let contract = repo().join("../shared/interop/proto/echo/v1/echo.proto");
    let Ok(want) = std::fs::read(&contract) else {
        eprintln!(
            "skipped: {} is not beside the repository",
            contract.display()
        );
        return;
    };
    let have = std::fs::read(repo().join("examples/echo/proto/echo/v1/echo.proto")).expect("copy");
    assert!(
        want == have,
        "examples/echo/proto/echo/v1/echo.proto differs from shared/interop's contract"
    );
}
