//! Generates the echo.v1 message types (prost) and their proto3 JSON mapping (pbjson).
//! The service code is written by hand against the rpc layer until the generator exists.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    // The contract lives in shared/, beside the repository; a vendored copy is the fallback.
    let shared = manifest.join("../../../shared/interop/proto");
    let local = manifest.join("proto");
    let root = if shared.join("echo/v1/echo.proto").exists() {
        shared
    } else {
        local
    };
    let proto = root.join("echo/v1/echo.proto");
    println!("cargo:rerun-if-changed={}", proto.display());
    let protoc = protoc_bin_vendored::protoc_bin_path().expect("vendored protoc");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    let descriptors = out.join("echo.bin");
    let mut config = prost_build::Config::new();
    config
        .protoc_executable(protoc)
        .file_descriptor_set_path(&descriptors)
        .bytes(["."])
        .enable_type_names()
        .compile_protos(&[&proto], &[&root])
        .expect("compile echo.proto");
    let set = std::fs::read(&descriptors).expect("descriptor set");
    pbjson_build::Builder::new()
        .register_descriptors(&set)
        .expect("descriptors")
        .build(&[".echo.v1"])
        .expect("pbjson");
}
