//! What the generator needs from the descriptors: services, methods, comments, and where
//! every message type lives in Rust.

use std::collections::HashMap;

use heck::{ToSnakeCase, ToUpperCamelCase};
use prost_types::{DescriptorProto, FileDescriptorProto};

/// A service to generate.
#[derive(Debug, Clone)]
pub struct Service {
    /// Name as in the proto (`KVService`).
    pub proto_name: String,
    /// Proto package (`kv.v1`), possibly empty.
    pub package: String,
    /// Leading comment.
    pub comment: String,
    /// `option deprecated = true`.
    pub deprecated: bool,
    /// Methods, in proto order.
    pub methods: Vec<Method>,
}

/// A method to generate.
#[derive(Debug, Clone)]
pub struct Method {
    /// Name as in the proto (`Get`).
    pub proto_name: String,
    /// Fully-qualified input type (`.kv.v1.GetRequest`).
    pub input: String,
    /// Fully-qualified output type.
    pub output: String,
    /// The client sends a stream.
    pub client_streaming: bool,
    /// The server sends a stream.
    pub server_streaming: bool,
    /// Leading comment.
    pub comment: String,
    /// `option deprecated = true`.
    pub deprecated: bool,
    /// `idempotency_level`: 0 unknown, 1 no side effects, 2 idempotent.
    pub idempotency: i32,
}

impl Service {
    /// `package.Service`.
    pub fn full_name(&self) -> String {
        if self.package.is_empty() {
            self.proto_name.clone()
        } else {
            format!("{}.{}", self.package, self.proto_name)
        }
    }
}

/// Reads the services of one file.
pub fn services(file: &FileDescriptorProto) -> Vec<Service> {
    let comments = comments_by_path(file);
    let package = file.package().to_owned();
    file.service
        .iter()
        .enumerate()
        .map(|(si, s)| Service {
            proto_name: s.name().to_owned(),
            package: package.clone(),
            comment: comments
                .get(&vec![6, si as i32])
                .cloned()
                .unwrap_or_default(),
            deprecated: s.options.as_ref().is_some_and(|o| o.deprecated()),
            methods: s
                .method
                .iter()
                .enumerate()
                .map(|(mi, m)| Method {
                    proto_name: m.name().to_owned(),
                    input: m.input_type().to_owned(),
                    output: m.output_type().to_owned(),
                    client_streaming: m.client_streaming(),
                    server_streaming: m.server_streaming(),
                    comment: comments
                        .get(&vec![6, si as i32, 2, mi as i32])
                        .cloned()
                        .unwrap_or_default(),
                    deprecated: m.options.as_ref().is_some_and(|o| o.deprecated()),
                    idempotency: m
                        .options
                        .as_ref()
                        .and_then(|o| o.idempotency_level)
                        .unwrap_or(0),
                })
                .collect(),
        })
        .collect()
}

/// The fully-qualified names (`.pkg.Outer.Inner`) of every message of one file that prost
/// generates a type for: nested ones included, map entries left out.
pub fn messages(file: &FileDescriptorProto) -> Vec<String> {
    fn walk(prefix: &str, m: &DescriptorProto, out: &mut Vec<String>) {
        if m.options.as_ref().is_some_and(|o| o.map_entry()) {
            return;
        }
        let fq = format!("{prefix}.{}", m.name());
        for n in &m.nested_type {
            walk(&fq, n, out);
        }
        out.push(fq);
    }
    let prefix = if file.package().is_empty() {
        String::new()
    } else {
        format!(".{}", file.package())
    };
    let mut out = Vec::new();
    for m in &file.message_type {
        walk(&prefix, m, &mut out);
    }
    out
}

fn comments_by_path(file: &FileDescriptorProto) -> HashMap<Vec<i32>, String> {
    let mut map = HashMap::new();
    if let Some(info) = &file.source_code_info {
        for loc in &info.location {
            if let Some(c) = &loc.leading_comments {
                map.insert(loc.path.clone(), c.clone());
            }
        }
    }
    map
}

/// Where message types live in Rust, as protoc-gen-prost lays them out: one module per
/// package component (snake_case), one per enclosing message (snake_case), the type in
/// UpperCamelCase.
#[derive(Debug, Default)]
pub struct TypeMap {
    /// Fully-qualified proto name → (package, enclosing message names, name).
    types: HashMap<String, (String, Vec<String>, String)>,
    extern_paths: Vec<(String, String)>,
}

impl TypeMap {
    /// Indexes every message of every file.
    pub fn new(files: &[FileDescriptorProto], extern_paths: &[(String, String)]) -> Self {
        let mut types = HashMap::new();
        for f in files {
            let package = f.package().to_owned();
            for m in &f.message_type {
                index(&mut types, &package, &[], m);
            }
        }
        let mut extern_paths = extern_paths.to_vec();
        // Longest prefix first.
        extern_paths.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
        TypeMap {
            types,
            extern_paths,
        }
    }

    /// A map of types whose Rust paths are already known (prost-build resolves them for
    /// its service generators): fully-qualified proto name → Rust path.
    pub fn from_known(known: HashMap<String, String>) -> Self {
        TypeMap {
            types: HashMap::new(),
            extern_paths: known.into_iter().collect(),
        }
    }

    /// The Rust path of `fq` (`.pkg.Msg`) as seen from the module of `from_package`.
    pub fn rust_path(&self, fq: &str, from_package: &str) -> Result<String, String> {
        for (prefix, rust) in &self.extern_paths {
            if fq == prefix {
                return Ok(rust.clone());
            }
            if let Some(rest) = fq
                .strip_prefix(prefix.as_str())
                .and_then(|r| r.strip_prefix('.'))
            {
                let mut parts: Vec<&str> = rest.split('.').collect();
                let name = parts.pop().unwrap_or_default();
                let mut path = rust.clone();
                for p in parts {
                    // Enclosing messages start upper case; packages lower case.
                    path.push_str("::");
                    path.push_str(&module_ident(p));
                }
                path.push_str("::");
                path.push_str(&type_ident(name));
                return Ok(path);
            }
        }
        let (package, outer, name) = self
            .types
            .get(fq)
            .ok_or_else(|| format!("message type {fq} is not in the request's files"))?;
        let from: Vec<&str> = split_package(from_package);
        let to: Vec<&str> = split_package(package);
        let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
        let mut segs: Vec<String> = Vec::new();
        segs.extend(std::iter::repeat_n("super".to_owned(), from.len() - common));
        segs.extend(to[common..].iter().map(|p| module_ident(p)));
        segs.extend(outer.iter().map(|m| module_ident(m)));
        segs.push(type_ident(name));
        Ok(segs.join("::"))
    }
}

fn split_package(p: &str) -> Vec<&str> {
    p.split('.').filter(|s| !s.is_empty()).collect()
}

fn index(
    types: &mut HashMap<String, (String, Vec<String>, String)>,
    package: &str,
    outer: &[String],
    m: &DescriptorProto,
) {
    let mut fq = String::from(".");
    if !package.is_empty() {
        fq.push_str(package);
        fq.push('.');
    }
    for o in outer {
        fq.push_str(o);
        fq.push('.');
    }
    fq.push_str(m.name());
    types.insert(
        fq,
        (package.to_owned(), outer.to_vec(), m.name().to_owned()),
    );
    let mut inner = outer.to_vec();
    inner.push(m.name().to_owned());
    for n in &m.nested_type {
        index(types, package, &inner, n);
    }
}

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "else", "enum", "extern", "false", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static",
    "struct", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract", "become",
    "box", "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield",
    "async", "await", "dyn", "try", "gen",
];

/// Names that cannot be raw identifiers: an underscore is appended, as prost does.
const NOT_RAW: &[&str] = &["self", "super", "crate", "Self", "extern"];

/// Escapes a Rust identifier as prost does: raw for keywords, `_` suffix for the few that
/// cannot be raw, `_` prefix for a leading digit (`_2DPoint` is `_2dPoint` in prost).
pub fn escape(ident: String) -> String {
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{ident}")
    } else if NOT_RAW.contains(&ident.as_str()) {
        format!("{ident}_")
    } else if KEYWORDS.contains(&ident.as_str()) {
        format!("r#{ident}")
    } else {
        ident
    }
}

/// A module name for a package component or enclosing message (prost's rule).
pub fn module_ident(name: &str) -> String {
    escape(name.to_snake_case())
}

/// A type name (prost's rule).
pub fn type_ident(name: &str) -> String {
    escape(name.to_upper_camel_case())
}

/// A method name.
pub fn method_ident(name: &str) -> String {
    escape(name.to_snake_case())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(package: &str, messages: &[(&str, &[&str])]) -> FileDescriptorProto {
        FileDescriptorProto {
            package: Some(package.into()),
            message_type: messages
                .iter()
                .map(|(m, nested)| DescriptorProto {
                    name: Some((*m).into()),
                    nested_type: nested
                        .iter()
                        .map(|n| DescriptorProto {
                            name: Some((*n).into()),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn resolves_like_prost() {
        let files = [
            file("kv.v1", &[("GetRequest", &[]), ("Outer", &["Inner"])]),
            file("kv.common", &[("Key", &[])]),
            file("other.v2", &[("Thing", &[])]),
            file("", &[("Root", &[])]),
        ];
        let ext = vec![
            (".google.protobuf".to_owned(), "::pbjson_types".to_owned()),
            (".acme".to_owned(), "::acme".to_owned()),
        ];
        let m = TypeMap::new(&files, &ext);
        assert_eq!(
            m.rust_path(".kv.v1.GetRequest", "kv.v1").unwrap(),
            "GetRequest"
        );
        assert_eq!(
            m.rust_path(".kv.v1.Outer.Inner", "kv.v1").unwrap(),
            "outer::Inner"
        );
        assert_eq!(
            m.rust_path(".kv.common.Key", "kv.v1").unwrap(),
            "super::common::Key"
        );
        assert_eq!(
            m.rust_path(".other.v2.Thing", "kv.v1").unwrap(),
            "super::super::other::v2::Thing"
        );
        assert_eq!(m.rust_path(".Root", "kv.v1").unwrap(), "super::super::Root");
        assert_eq!(
            m.rust_path(".kv.v1.GetRequest", "").unwrap(),
            "kv::v1::GetRequest"
        );
        assert_eq!(
            m.rust_path(".google.protobuf.Empty", "kv.v1").unwrap(),
            "::pbjson_types::Empty"
        );
        assert_eq!(
            m.rust_path(".acme.v1.Widget.Part", "kv.v1").unwrap(),
            "::acme::v1::widget::Part"
        );
        assert!(m.rust_path(".nope.X", "kv.v1").is_err());
    }

    #[test]
    fn lists_messages_without_map_entries() {
        let mut f = file(
            "kv.v1",
            &[("Outer", &["Inner", "LabelsEntry"]), ("Key", &[])],
        );
        f.message_type[0].nested_type[1].options = Some(prost_types::MessageOptions {
            map_entry: Some(true),
            ..Default::default()
        });
        assert_eq!(
            messages(&f),
            [".kv.v1.Outer.Inner", ".kv.v1.Outer", ".kv.v1.Key"]
        );
        f.package = None;
        assert_eq!(messages(&f), [".Outer.Inner", ".Outer", ".Key"]);
    }

    #[test]
    fn escapes_identifiers() {
        assert_eq!(method_ident("Type"), "r#type");
        assert_eq!(method_ident("Self"), "self_");
        assert_eq!(method_ident("GetKV"), "get_kv");
        assert_eq!(type_ident("Self"), "Self_");
        assert_eq!(type_ident("KVService"), "KvService");
        // heck drops the leading underscore; prost then prefixes one to the digit.
        assert_eq!(type_ident("_2DPoint"), "_2dPoint");
        assert_eq!(module_ident("_3d"), "_3d");
    }
}
