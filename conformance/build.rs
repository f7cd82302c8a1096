//! Generates `connectrpc.conformance.v1` — the suite's protocol and its `ConformanceService`
//! — with prost-build, connect-plugin's ServiceGenerator and pbjson-build (the build.rs path
//! a user who prefers it to `buf generate` takes).

use std::path::PathBuf;

const FILES: [&str; 5] = [
    "config.proto",
    "service.proto",
    "server_compat.proto",
    "client_compat.proto",
    "suite.proto",
];

fn main() {
    let root = PathBuf::from("proto");
    let protos: Vec<PathBuf> = FILES
        .iter()
        .map(|f| root.join("connectrpc/conformance/v1").join(f))
        .collect();
    for p in &protos {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let descriptors = out.join("descriptors.bin");
    let include = protoc_bin_vendored::include_path().expect("vendored protoc includes");
    prost_build::Config::new()
        .protoc_executable(protoc_bin_vendored::protoc_bin_path().expect("vendored protoc"))
        .file_descriptor_set_path(&descriptors)
        .enable_type_names()
        .bytes(["."])
        // The well-known types come from pbjson-types (prost types with the proto3 JSON
        // mapping) instead of prost-types, whose default mapping this replaces.
        .compile_well_known_types()
        .extern_path(".google.protobuf", "::pbjson_types")
        // `google.protobuf.Any` in the proto3 JSON form (`{"@type": …}`) the suite reads.
        .extern_path(".google.protobuf.Any", "::connect_plugin::Any")
        .service_generator(Box::new(protoc_gen_connect_plugin::ServiceGenerator::new()))
        .compile_protos(&protos, &[root, include])
        .expect("compile the conformance protos");
    let set = std::fs::read(&descriptors).expect("descriptor set");
    pbjson_build::Builder::new()
        .register_descriptors(&set)
        .expect("descriptors")
        .extern_path(".google.protobuf", "::pbjson_types")
        .extern_path(".google.protobuf.Any", "::connect_plugin::Any")
        .build(&[".connectrpc.conformance.v1"])
        .expect("pbjson");
}
