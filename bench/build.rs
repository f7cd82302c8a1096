//! Two independent sets of bindings for `proto/echo/v1/echo.proto`:
//! * `$OUT_DIR/tonic/echo.v1.rs`: prost messages + tonic client/server (tonic-prost-build);
//! * `$OUT_DIR/cp/echo.v1.rs` + `echo.v1.serde.rs`: prost messages with the proto3 JSON
//!   mapping (pbjson), which connect-plugin's `Message` bound asks for, and the service code
//!   of protoc-gen-connect-plugin's prost-build `ServiceGenerator` (method descriptors, the
//!   `EchoService` trait, its remote client and router, `EchoServicePlugin`).
//!
//! protoc comes from protoc-bin-vendored. The rustc version is recorded for the report.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    let root = manifest.join("proto");
    let proto = root.join("echo/v1/echo.proto");
    println!("cargo:rerun-if-changed={}", proto.display());
    let protoc = protoc_bin_vendored::protoc_bin_path().expect("vendored protoc");
    // SAFETY: the build script is single-threaded here; tonic-prost-build reads $PROTOC.
    unsafe { std::env::set_var("PROTOC", &protoc) };

    let tonic_out = out.join("tonic");
    std::fs::create_dir_all(&tonic_out).expect("mkdir");
    tonic_prost_build::configure()
        .out_dir(&tonic_out)
        .compile_protos(&[&proto], &[&root])
        .expect("tonic-prost-build");

    let cp_out = out.join("cp");
    std::fs::create_dir_all(&cp_out).expect("mkdir");
    let descriptors = cp_out.join("echo.bin");
    let mut config = prost_build::Config::new();
    config
        .protoc_executable(&protoc)
        .out_dir(&cp_out)
        .file_descriptor_set_path(&descriptors)
        .service_generator(Box::new(protoc_gen_connect_plugin::ServiceGenerator::new()))
        .compile_protos(&[&proto], &[&root])
        .expect("prost-build");
    let set = std::fs::read(&descriptors).expect("descriptor set");
    pbjson_build::Builder::new()
        .register_descriptors(&set)
        .expect("descriptors")
        .out_dir(&cp_out)
        .build(&[".echo.v1"])
        .expect("pbjson-build");

    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .unwrap_or_default();
    println!("cargo:rustc-env=BENCH_RUSTC_VERSION={}", version.trim());

    // Which runtime was measured: the repository's HEAD, "+dirty" when runtime/ has
    // uncommitted changes (other engineers edit it concurrently).
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(&manifest)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
    };
    let rev = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_default();
    let dirty = git(&[
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        "../runtime",
    ])
    .is_some_and(|s| !s.trim().is_empty());
    let rev = match (rev.trim(), dirty) {
        ("", _) => "unknown".to_string(),
        (r, true) => format!("{r}+dirty"),
        (r, false) => r.to_string(),
    };
    println!("cargo:rustc-env=BENCH_RUNTIME_REV={rev}");
    println!("cargo:rerun-if-changed=../runtime/src");
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/index");
}
