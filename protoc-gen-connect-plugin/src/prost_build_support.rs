//! For `build.rs` users: a `prost_build::ServiceGenerator` that writes the same code as the
//! protoc plugin, next to prost's messages.
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! let mut config = prost_build::Config::new();
//! config
//!     .enable_type_names()
//!     .service_generator(Box::new(protoc_gen_connect_plugin::ServiceGenerator::new()))
//!     .compile_protos(&["proto/kv/v1/kv.proto"], &["proto"])?;
//! # Ok(())
//! # }
//! ```
//!
//! The messages also need serde implementations for JSON (pbjson-build), as with
//! `buf generate`, and `google.protobuf.Any` fields want the runtime's `Any` (the proto3
//! JSON form): `config.extern_path(".google.protobuf.Any", "::connect_plugin::Any")`.
//!
//! Each package's `register_json_types()` registers the request and response types of its
//! methods (prost-build shows a service generator nothing else); register other messages
//! that travel inside an `Any` with `connect_plugin::register_json_type::<M>()`.

use std::collections::{BTreeMap, HashMap};

use crate::generate::{json_registration, services_code};
use crate::model::{Method, Service, TypeMap};
use crate::options::Options;

/// A `prost_build::ServiceGenerator` emitting connect-plugin service code.
#[derive(Debug, Clone)]
pub struct ServiceGenerator {
    options: Options,
    /// Per package, the message types its methods use (`.pkg.Msg` → Rust path), for
    /// `register_json_types()` at the end of the package.
    json_types: HashMap<String, BTreeMap<String, String>>,
}

impl Default for ServiceGenerator {
    fn default() -> Self {
        ServiceGenerator::new()
    }
}

impl ServiceGenerator {
    /// With the default options (runtime `::connect_plugin`, client and server).
    pub fn new() -> Self {
        ServiceGenerator {
            options: Options::default(),
            json_types: HashMap::new(),
        }
    }

    /// With options in the plugin's `opt:` syntax (`runtime=crate,no_client`). Options about
    /// files (`no_include`, `flat_output_dir`, `extern_path`) do not apply here: prost-build
    /// places the code and resolves types itself.
    pub fn with_options(parameter: &str) -> Result<Self, String> {
        Ok(ServiceGenerator {
            options: Options::parse(parameter)?,
            json_types: HashMap::new(),
        })
    }
}

fn comment(c: &prost_build::Comments) -> String {
    c.leading.join("\n")
}

impl prost_build::ServiceGenerator for ServiceGenerator {
    fn generate(&mut self, service: prost_build::Service, buf: &mut String) {
        let mut known = HashMap::new();
        let methods = service
            .methods
            .iter()
            .map(|m| {
                known.insert(m.input_proto_type.clone(), m.input_type.clone());
                known.insert(m.output_proto_type.clone(), m.output_type.clone());
                Method {
                    proto_name: m.proto_name.clone(),
                    input: m.input_proto_type.clone(),
                    output: m.output_proto_type.clone(),
                    client_streaming: m.client_streaming,
                    server_streaming: m.server_streaming,
                    comment: comment(&m.comments),
                    deprecated: m.options.deprecated(),
                    idempotency: m.options.idempotency_level.unwrap_or(0),
                }
            })
            .collect();
        let model = Service {
            proto_name: service.proto_name.clone(),
            package: service.package.clone(),
            comment: comment(&service.comments),
            deprecated: service.options.deprecated(),
            methods,
        };
        self.json_types
            .entry(service.package.clone())
            .or_default()
            .extend(known.clone());
        let types = TypeMap::from_known(known);
        push_code(buf, services_code(&[model], &types, &self.options));
    }

    fn finalize_package(&mut self, package: &str, buf: &mut String) {
        let known = self.json_types.remove(package).unwrap_or_default();
        let messages: Vec<String> = known.keys().cloned().collect();
        let types = TypeMap::from_known(known.into_iter().collect());
        push_code(
            buf,
            json_registration(package, &messages, &types, &self.options),
        );
    }
}

/// Appends formatted code, or, as a build script cannot return an error from a service
/// generator, a `compile_error!` with the reason where the code would have been.
fn push_code(buf: &mut String, tokens: Result<proc_macro2::TokenStream, String>) {
    let code = tokens
        .and_then(|tokens| syn::parse2::<syn::File>(tokens).map_err(|e| e.to_string()))
        .map(|file| prettyplease::unparse(&file));
    match code {
        Ok(code) => buf.push_str(&code),
        Err(e) => buf.push_str(&format!(
            "compile_error!({:?});\n",
            format!("protoc-gen-connect-plugin: {e}")
        )),
    }
}
