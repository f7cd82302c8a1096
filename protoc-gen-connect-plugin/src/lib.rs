//! `protoc-gen-connect-plugin`: generates connect-plugin code from proto services.
//!
//! For every proto package it writes `PACKAGE.connect_plugin.rs` (named after
//! protoc-gen-prost's `PACKAGE.rs`), and by default inserts an `include!` of it into the prost
//! file through the `module` insertion point, so `buf generate` with protoc-gen-prost needs
//! no glue. For `service KVService` it emits:
//!
//! - `KV_SERVICE_NAME`, and per method a path constant (`KV_SERVICE_GET_PATH`) and a
//!   `MethodDescriptor` (`KV_SERVICE_GET`) carrying the stream type and idempotency;
//! - **one trait, `KvService`**, implemented both by the plugin's own type and by the
//!   remote client, so host code holding an `Arc<dyn KvService>` works with either;
//! - `KvServiceClient`, the remote implementation over a runtime `Client`;
//! - `kv_service_router(Arc<dyn KvService>) -> Router`, the server adapter;
//! - `KvServicePlugin`, the runtime `Plugin` descriptor (name `kv`, path
//!   `/kv.v1.KVService/`, version from the package's `v1`), so dispensing returns an
//!   `Arc<dyn KvService>` without a downcast.
//!
//! ## The method signature
//!
//! Each trait method takes a `Request<In>` and returns `Result<Response<Out>, Status>` (with
//! `Streaming<_>` in place of the message for streaming sides), as a boxed `Send` future:
//!
//! ```text
//! fn get(&self, request: Request<GetRequest>) -> BoxFuture<Result<Response<GetResponse>, Status>>
//! ```
//!
//! Why: the trait must be object-safe (`Arc<dyn KvService>`), which rules out generic
//! arguments, and one trait serves both sides, so the same signature must carry a
//! handler's view (headers, deadline, peer, extensions set by interceptors) and a caller's
//! options (headers, per-call timeout). `Request<T>: From<T>` keeps the common call to one
//! line of domain code — `kv.get(GetRequest { key }.into()).await?.into_inner()` — and the
//! metadata is there when wanted (`Request::new(m).with_timeout(..)`,
//! `request.metadata()`, `response.headers()`). The future is spelled out exactly as
//! `async_trait` expands an `async fn`, with fully-qualified paths (a proto message may be
//! called `Box` or `Result`), so implementors write `#[connect_plugin::async_trait]` and
//! plain `async fn`s. Streams are `Streaming<T>`, which is both what arrives from the wire
//! and what a local implementation builds from any stream or `Vec`.
//!
//! ## Options
//!
//! `runtime=PATH` (default `::connect_plugin`; `crate` inside the runtime itself),
//! `extern_path=.proto.prefix=::rust::path` (repeatable; `.google.protobuf` maps to
//! `::pbjson_types` unless given), `no_client`, `no_server`, `no_include`,
//! `flat_output_dir` (as protoc-gen-prost's; give both the same). Unknown options are
//! errors.

pub mod docs;
pub mod generate;
pub mod model;
pub mod options;
#[cfg(feature = "prost-build")]
pub mod prost_build_support;

use std::collections::BTreeMap;

use prost_types::compiler::code_generator_response::{Feature, File};
use prost_types::compiler::{CodeGeneratorRequest, CodeGeneratorResponse};

pub use options::Options;
#[cfg(feature = "prost-build")]
pub use prost_build_support::ServiceGenerator;

/// The generator's version, written into every file's header.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The directory protoc-gen-prost writes a package's file into: the package's module path
/// (`kv/v1/`), or the top with `flat_output_dir`.
pub fn output_dir(package: &str, flat: bool) -> String {
    if flat {
        return String::new();
    }
    package
        .split('.')
        .filter(|p| !p.is_empty())
        .map(|p| format!("{}/", heck::ToSnakeCase::to_snake_case(p)))
        .collect()
}

/// The file protoc-gen-prost writes for a package (`kv.v1.rs`).
pub fn prost_file_name(package: &str) -> String {
    if package.is_empty() {
        "_.rs".to_owned()
    } else {
        format!("{package}.rs")
    }
}

/// The file this generator writes for a package (`kv.v1.connect_plugin.rs`).
pub fn output_file_name(package: &str) -> String {
    if package.is_empty() {
        "_.connect_plugin.rs".to_owned()
    } else {
        format!("{package}.connect_plugin.rs")
    }
}

/// Runs the generator: never panics on input; problems go into the response's `error`.
pub fn generate(request: &CodeGeneratorRequest) -> CodeGeneratorResponse {
    let mut response = match run(request) {
        Ok(files) => CodeGeneratorResponse {
            file: files,
            ..Default::default()
        },
        Err(e) => CodeGeneratorResponse {
            error: Some(format!("protoc-gen-connect-plugin: {e}")),
            ..Default::default()
        },
    };
    response.supported_features = Some(Feature::Proto3Optional as u64);
    response
}

fn run(request: &CodeGeneratorRequest) -> Result<Vec<File>, String> {
    let opts = Options::parse(request.parameter())?;
    let types = model::TypeMap::new(&request.proto_file, &opts.extern_paths);
    // Package → (source files, services), in a stable order.
    let mut packages: BTreeMap<String, (Vec<String>, Vec<model::Service>)> = BTreeMap::new();
    for name in &request.file_to_generate {
        let file = request
            .proto_file
            .iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| format!("file {name} to generate is missing from the request"))?;
        let services = model::services(file);
        if services.is_empty() {
            continue;
        }
        let entry = packages.entry(file.package().to_owned()).or_default();
        entry.0.push(name.clone());
        entry.1.extend(services);
    }
    let mut files = Vec::new();
    for (package, (sources, services)) in packages {
        let tokens = generate::package_code(&services, &types, &opts)?;
        let parsed: syn::File = syn::parse2(tokens)
            .map_err(|e| format!("internal error: generated code does not parse: {e}"))?;
        let mut content = format!(
            "// @generated by protoc-gen-connect-plugin {VERSION}. DO NOT EDIT.\n// source: {}\n\n",
            sources.join(", ")
        );
        content.push_str(&prettyplease::unparse(&parsed));
        let out_name = output_file_name(&package);
        let dir = output_dir(&package, opts.flat_output_dir);
        if opts.include {
            files.push(File {
                name: Some(format!("{dir}{}", prost_file_name(&package))),
                insertion_point: Some("module".to_owned()),
                content: Some(format!("include!(\"{out_name}\");\n")),
                ..Default::default()
            });
        }
        files.push(File {
            name: Some(format!("{dir}{out_name}")),
            content: Some(content),
            ..Default::default()
        });
    }
    Ok(files)
}
