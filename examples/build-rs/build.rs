//! Generates echo.v1 with prost-build, connect-plugin's ServiceGenerator and pbjson-build,
//! as a user who prefers build.rs to `buf generate` would.

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from("../echo/proto");
    let proto = root.join("echo/v1/echo.proto");
    println!("cargo:rerun-if-changed={}", proto.display());
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let descriptors = out.join("descriptors.bin");
    prost_build::Config::new()
        .protoc_executable(protoc_bin_vendored::protoc_bin_path().expect("vendored protoc"))
        .file_descriptor_set_path(&descriptors)
        .enable_type_names()
        .bytes(["."])
        // `google.protobuf.Any` fields in the proto3 JSON form (none in echo.proto).
        .extern_path(".google.protobuf.Any", "::connect_plugin::Any")
        .service_generator(Box::new(protoc_gen_connect_plugin::ServiceGenerator::new()))
        .compile_protos(&[&proto], &[&root])
        .expect("compile echo.proto");
    let set = std::fs::read(&descriptors).expect("descriptor set");
    pbjson_build::Builder::new()
        .register_descriptors(&set)
        .expect("descriptors")
        .ignore_unknown_fields()
        .build(&[".echo.v1"])
        .expect("pbjson");
}
