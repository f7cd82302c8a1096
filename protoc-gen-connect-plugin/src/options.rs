//! The generator's options, passed as `opt:` in `buf.gen.yaml` or `--connect-plugin_opt=`.

/// Parsed options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Path of the runtime crate (`::connect_plugin`, or `crate` inside the runtime).
    pub runtime: String,
    /// `(proto prefix, Rust path)` pairs: types under the prefix live in another crate.
    pub extern_paths: Vec<(String, String)>,
    /// Emit the remote client.
    pub client: bool,
    /// Emit the server adapter.
    pub server: bool,
    /// Emit the `include!` into protoc-gen-prost's file through the `module` insertion point.
    pub include: bool,
    /// Write every file at the top of the output directory (protoc-gen-prost's option of the
    /// same name; by default files go under `package/parts/`).
    pub flat_output_dir: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            runtime: "::connect_plugin".to_owned(),
            extern_paths: Vec::new(),
            client: true,
            server: true,
            include: true,
            flat_output_dir: false,
        }
    }
}

/// The well-known types map to pbjson-types (prost types with the proto3 JSON mapping),
/// unless an `extern_path` says otherwise.
pub const DEFAULT_WKT_PATH: (&str, &str) = (".google.protobuf", "::pbjson_types");

/// `google.protobuf.Any` maps to the runtime's `Any` (its `codegen` re-export), which has the
/// proto3 JSON form, unless an `extern_path` for `.google.protobuf.Any` says otherwise. Give
/// protoc-gen-prost `extern_path=.google.protobuf.Any=::connect_plugin::Any` too, so message
/// fields use the same type.
pub const ANY_PROTO_NAME: &str = ".google.protobuf.Any";

/// What the options accept, for error messages.
pub const USAGE: &str = "options: runtime=PATH, extern_path=.proto.prefix=::rust::path, no_client, no_server, no_include, flat_output_dir";

impl Options {
    /// Parses the comma-separated parameter string.
    pub fn parse(parameter: &str) -> Result<Options, String> {
        let mut o = Options::default();
        for item in parameter
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let (key, value) = match item.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (item, None),
            };
            match (key, value) {
                ("runtime", Some(v)) => {
                    syn::parse_str::<syn::Path>(v)
                        .map_err(|e| format!("runtime={v}: not a Rust path: {e}"))?;
                    o.runtime = v.to_owned();
                }
                ("extern_path", Some(v)) => {
                    let (proto, rust) = v.split_once('=').ok_or_else(|| {
                        format!("extern_path={v}: want extern_path=.proto.prefix=::rust::path")
                    })?;
                    if !proto.starts_with('.') {
                        return Err(format!(
                            "extern_path={v}: the proto prefix must be fully qualified (start with '.')"
                        ));
                    }
                    syn::parse_str::<syn::Path>(rust)
                        .map_err(|e| format!("extern_path={v}: {rust} is not a Rust path: {e}"))?;
                    o.extern_paths.push((proto.to_owned(), rust.to_owned()));
                }
                ("no_client", None) => o.client = false,
                ("no_server", None) => o.server = false,
                ("no_include", None) => o.include = false,
                ("flat_output_dir", None) => o.flat_output_dir = true,
                _ => return Err(format!("unknown option {item:?}; {USAGE}")),
            }
        }
        if !o.client && !o.server {
            return Err("no_client and no_server together leave nothing to generate".to_owned());
        }
        if !o.extern_paths.iter().any(|(p, _)| p == DEFAULT_WKT_PATH.0) {
            o.extern_paths
                .push((DEFAULT_WKT_PATH.0.to_owned(), DEFAULT_WKT_PATH.1.to_owned()));
        }
        if !o.extern_paths.iter().any(|(p, _)| p == ANY_PROTO_NAME) {
            let any = format!("{}::codegen::Any", o.runtime);
            o.extern_paths.push((ANY_PROTO_NAME.to_owned(), any));
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_option() {
        let o = Options::parse(
            "runtime=crate, extern_path=.acme.v1=::acme_types::v1,no_client,no_include",
        )
        .unwrap();
        assert_eq!(o.runtime, "crate");
        assert!(!o.client && o.server && !o.include);
        assert_eq!(
            o.extern_paths[0],
            (".acme.v1".into(), "::acme_types::v1".into())
        );
        assert_eq!(
            o.extern_paths[1..],
            [
                (".google.protobuf".into(), "::pbjson_types".into()),
                (".google.protobuf.Any".into(), "crate::codegen::Any".into())
            ]
        );
        let d = Options::parse("").unwrap();
        assert_eq!(d.runtime, "::connect_plugin");
        assert!(d.client && d.server && d.include);
        let o = Options::parse(
            "extern_path=.google.protobuf=::prost_types,extern_path=.google.protobuf.Any=::my::Any",
        )
        .unwrap();
        assert_eq!(
            o.extern_paths,
            vec![
                (".google.protobuf".into(), "::prost_types".into()),
                (".google.protobuf.Any".into(), "::my::Any".into())
            ]
        );
    }

    #[test]
    fn rejects_bad_options() {
        for bad in [
            "frobnicate",
            "no_client=1",
            "runtime=not a path",
            "extern_path=acme=::x",
            "extern_path=.a",
            "no_client,no_server",
        ] {
            assert!(Options::parse(bad).is_err(), "{bad}");
        }
    }
}
