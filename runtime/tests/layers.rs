//! The layering of `runtime/src`, checked: a layer's code never refers to a layer above it.
//!
//! [`LAYERS`] is the one statement of the rule. The test reads every `.rs` file under
//! `runtime/src` and finds each path into the crate its code names — `crate::…` (and
//! `$crate::…`), the items of `use crate::{…}` groups, `super::…` chains resolved from the
//! file's (and inline module's) place, and the crate root's re-exports, which `lib.rs`
//! declares and the test reads from there (`crate::Client` is rpc's) — and fails, naming the
//! file, the line and the path, when one leads into a module its layer may not use.
//!
//! Comments, doc comments included, and string literals are skipped: a doc link may point
//! upward (transport's docs link to the rpc router that uses it) without making a
//! dependency. `lib.rs`, the crate's facade, is not checked; every other file is, tests
//! included.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The layers of the runtime and, for each, what its code may refer to besides itself: a
/// module of the crate (`"rpc"`), or a single item of one (`"plugin::Plugin"`). Lowest
/// first: `protocol` < `transport` < `rpc` < `interceptors` < `plugin`, each using only
/// those below it. `pb` (the generated code in `gen/`) and `codegen` (what generated code
/// names) are the generated-code surface: they use protocol, rpc and the plugin descriptor
/// (`Plugin`, `PluginInfo`), and plugin uses `pb`.
const LAYERS: &[(&str, &[&str])] = &[
    ("protocol", &[]),
    ("transport", &["protocol"]),
    ("rpc", &["protocol", "transport"]),
    ("interceptors", &["protocol", "transport", "rpc"]),
    (
        "plugin",
        &["protocol", "transport", "rpc", "interceptors", "pb"],
    ),
    (
        "codegen",
        &["protocol", "rpc", "plugin::Plugin", "plugin::PluginInfo"],
    ),
    (
        "pb",
        &[
            "protocol",
            "rpc",
            "codegen",
            "plugin::Plugin",
            "plugin::PluginInfo",
        ],
    ),
];

// ---------------------------------------------------------------------------------------
// Tokens: just enough of Rust's lexer to tell code from comments and literals.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
    /// A string literal's contents (raw, escapes left as written).
    Str(String),
    /// Numbers, characters, lifetimes.
    Other,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// The code tokens of `src`, with their line numbers; comments dropped.
fn tokenize(src: &str) -> Vec<Token> {
    let chars: Vec<char> = src.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // A string literal from the quote at `start`: its contents, and the index after it.
    let string = |start: usize, hashes: usize, raw: bool, line: &mut usize| {
        let mut j = start + 1;
        let mut text = String::new();
        while let Some(c) = at(j) {
            if c == '\n' {
                *line += 1;
            }
            if !raw && c == '\\' {
                text.push(c);
                if let Some(next) = at(j + 1) {
                    if next == '\n' {
                        *line += 1;
                    }
                    text.push(next);
                }
                j += 2;
                continue;
            }
            if c == '"' && (0..hashes).all(|h| at(j + 1 + h) == Some('#')) {
                return (text, j + 1 + hashes);
            }
            text.push(c);
            j += 1;
        }
        (text, j)
    };
    while let Some(c) = at(i) {
        let start_line = line;
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '/' if at(i + 1) == Some('/') => {
                while at(i).is_some_and(|c| c != '\n') {
                    i += 1;
                }
            }
            '/' if at(i + 1) == Some('*') => {
                let mut depth = 0;
                while let Some(c) = at(i) {
                    if c == '/' && at(i + 1) == Some('*') {
                        depth += 1;
                        i += 2;
                    } else if c == '*' && at(i + 1) == Some('/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if c == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                }
            }
            '"' => {
                let (text, next) = string(i, 0, false, &mut line);
                out.push(Token {
                    tok: Tok::Str(text),
                    line: start_line,
                });
                i = next;
            }
            '\'' => {
                // A character literal ('x', '\n', '\u{1F600}') or a lifetime ('a).
                if at(i + 1) == Some('\\') {
                    let mut j = i + 2;
                    while at(j).is_some_and(|c| c != '\'') {
                        j += 1;
                    }
                    i = j + 1;
                } else if at(i + 2) == Some('\'') {
                    i += 3;
                } else {
                    i += 1;
                    while at(i).is_some_and(is_ident_char) {
                        i += 1;
                    }
                }
                out.push(Token {
                    tok: Tok::Other,
                    line: start_line,
                });
            }
            c if is_ident_start(c) => {
                let start = i;
                while at(i).is_some_and(is_ident_char) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let prefix = matches!(word.as_str(), "r" | "br" | "cr");
                if prefix && matches!(at(i), Some('"' | '#')) {
                    let mut hashes = 0;
                    while at(i + hashes) == Some('#') {
                        hashes += 1;
                    }
                    if at(i + hashes) == Some('"') {
                        let (text, next) = string(i + hashes, hashes, true, &mut line);
                        out.push(Token {
                            tok: Tok::Str(text),
                            line: start_line,
                        });
                        i = next;
                        continue;
                    }
                    if word == "r" && hashes == 1 && at(i + 1).is_some_and(is_ident_start) {
                        // A raw identifier: `r#type`.
                        let s = i + 1;
                        i = s;
                        while at(i).is_some_and(is_ident_char) {
                            i += 1;
                        }
                        out.push(Token {
                            tok: Tok::Ident(chars[s..i].iter().collect()),
                            line: start_line,
                        });
                        continue;
                    }
                }
                if matches!(word.as_str(), "b" | "c") && at(i) == Some('"') {
                    let (text, next) = string(i, 0, false, &mut line);
                    out.push(Token {
                        tok: Tok::Str(text),
                        line: start_line,
                    });
                    i = next;
                    continue;
                }
                if word == "b" && at(i) == Some('\'') {
                    // A byte literal: b'x', b'\n'.
                    let mut j = i + 1;
                    if at(j) == Some('\\') {
                        j += 1;
                    }
                    j += 1;
                    while at(j).is_some_and(|c| c != '\'') {
                        j += 1;
                    }
                    i = j + 1;
                    out.push(Token {
                        tok: Tok::Other,
                        line: start_line,
                    });
                    continue;
                }
                out.push(Token {
                    tok: Tok::Ident(word),
                    line: start_line,
                });
            }
            c if c.is_ascii_digit() => {
                while at(i).is_some_and(is_ident_char) {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Other,
                    line: start_line,
                });
            }
            ':' if at(i + 1) == Some(':') => {
                out.push(Token {
                    tok: Tok::PathSep,
                    line: start_line,
                });
                i += 2;
            }
            c => {
                out.push(Token {
                    tok: Tok::Punct(c),
                    line: start_line,
                });
                i += 1;
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Paths: every path into the crate that a file's code names.
// ---------------------------------------------------------------------------------------

/// A path as a use tree names it: its segments, the name it is visible under (an `as`
/// rename, else its last segment) and the line of its last segment.
#[derive(Debug, Clone)]
struct TreePath {
    segments: Vec<String>,
    visible: Option<String>,
    line: usize,
}

fn ident(tokens: &[Token], i: usize) -> Option<&str> {
    match tokens.get(i).map(|t| &t.tok) {
        Some(Tok::Ident(s)) => Some(s),
        _ => None,
    }
}

fn is(tokens: &[Token], i: usize, tok: &Tok) -> bool {
    tokens.get(i).is_some_and(|t| &t.tok == tok)
}

/// Reads the path (or use tree: `{a::b, c::{d, e}}`, `*`, `self`, `x as y`) at `i` after
/// `prefix`; pushes each path it names to `out` and returns the index after it.
fn use_tree(tokens: &[Token], mut i: usize, prefix: &[String], out: &mut Vec<TreePath>) -> usize {
    let line = tokens.get(i).map_or(0, |t| t.line);
    if is(tokens, i, &Tok::Punct('{')) {
        i += 1;
        loop {
            if is(tokens, i, &Tok::Punct('}')) || i >= tokens.len() {
                return i + 1;
            }
            let next = use_tree(tokens, i, prefix, out);
            if next == i {
                return i; // not a use tree after all
            }
            i = next;
            if is(tokens, i, &Tok::Punct(',')) {
                i += 1;
            }
        }
    }
    if is(tokens, i, &Tok::Punct('*')) {
        out.push(TreePath {
            segments: prefix.to_vec(),
            visible: None,
            line,
        });
        return i + 1;
    }
    let Some(name) = ident(tokens, i) else {
        return i;
    };
    let mut path = prefix.to_vec();
    if name != "self" {
        path.push(name.to_owned());
    }
    i += 1;
    let continues = is(tokens, i, &Tok::PathSep)
        && (ident(tokens, i + 1).is_some()
            || is(tokens, i + 1, &Tok::Punct('{'))
            || is(tokens, i + 1, &Tok::Punct('*')));
    if continues && name != "self" {
        return use_tree(tokens, i + 1, &path, out);
    }
    let mut visible = path.last().cloned();
    if ident(tokens, i) == Some("as") {
        visible = ident(tokens, i + 1).map(str::to_owned);
        i += 2;
    }
    out.push(TreePath {
        segments: path,
        visible,
        line,
    });
    i
}

/// A path into the crate that code names: where it was written, as written, and resolved
/// from the crate root.
#[derive(Debug, Clone)]
struct Reference {
    line: usize,
    written: String,
    absolute: Vec<String>,
}

/// Every path into the crate that the code of a file at `module` (its module path from the
/// crate root) names: `crate::`, `$crate::` and `super::` paths, use groups expanded.
/// Inline modules (`mod tests { … }`) move `super` one level down, as they do for rustc.
fn references(tokens: &[Token], module: &[String]) -> Vec<Reference> {
    let mut found = Vec::new();
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut pending_mod: Option<(String, usize)> = None;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i].tok {
            Tok::Punct('{') => {
                depth += 1;
                if let Some((name, at)) = pending_mod.take() {
                    if at == i {
                        inline.push((name, depth));
                    }
                }
            }
            Tok::Punct('}') => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Ident(word) if word == "mod" => {
                if let Some(name) = ident(tokens, i + 1) {
                    pending_mod = Some((name.to_owned(), i + 2));
                }
            }
            _ => {}
        }
        let start = ident(tokens, i);
        let path_start = i == 0 || !is(tokens, i - 1, &Tok::PathSep);
        let (base, written, mut j) = match start {
            Some("crate") if path_start && is(tokens, i + 1, &Tok::PathSep) => {
                (Vec::new(), "crate".to_owned(), i + 2)
            }
            Some("super") if path_start && is(tokens, i + 1, &Tok::PathSep) => {
                let here: Vec<String> = module
                    .iter()
                    .cloned()
                    .chain(inline.iter().map(|(n, _)| n.clone()))
                    .collect();
                let mut ups = 0;
                let mut j = i;
                while ident(tokens, j) == Some("super") && is(tokens, j + 1, &Tok::PathSep) {
                    ups += 1;
                    j += 2;
                }
                let base = here[..here.len().saturating_sub(ups)].to_vec();
                (base, vec!["super"; ups].join("::"), j)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        let mut paths = Vec::new();
        let next = use_tree(tokens, j, &base, &mut paths);
        for p in paths {
            let rest = &p.segments[base.len().min(p.segments.len())..];
            let mut shown = written.clone();
            for s in rest {
                shown.push_str("::");
                shown.push_str(s);
            }
            if written != "crate" {
                shown.push_str(&format!(" (= crate::{})", p.segments.join("::")));
            }
            found.push(Reference {
                line: p.line,
                written: shown,
                absolute: p.segments,
            });
        }
        j = next.max(j);
        i = j.max(i + 1);
    }
    found
}

// ---------------------------------------------------------------------------------------
// The crate: its modules and root re-exports (from lib.rs), its files, the rule.
// ---------------------------------------------------------------------------------------

struct Crate {
    /// Top-level module → the folder (or file stem) under `src` it is read from.
    folders: HashMap<String, String>,
    /// What the crate root re-exports, by the name it is visible under → its path.
    reexports: HashMap<String, Vec<String>>,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

impl Crate {
    fn read() -> Crate {
        let lib = std::fs::read_to_string(src_dir().join("lib.rs")).expect("runtime/src/lib.rs");
        Crate::from_lib(&lib)
    }

    fn from_lib(lib: &str) -> Crate {
        let tokens = tokenize(lib);
        let mut folders = HashMap::new();
        let mut reexports = HashMap::new();
        let mut path_attr: Option<String> = None;
        let mut i = 0;
        while i < tokens.len() {
            if ident(&tokens, i) == Some("path")
                && is(&tokens, i.wrapping_sub(1), &Tok::Punct('['))
                && is(&tokens, i + 1, &Tok::Punct('='))
            {
                if let Some(Tok::Str(s)) = tokens.get(i + 2).map(|t| &t.tok) {
                    path_attr = Some(s.clone());
                }
            }
            if ident(&tokens, i) == Some("mod") && is(&tokens, i + 2, &Tok::Punct(';')) {
                if let Some(name) = ident(&tokens, i + 1) {
                    let folder = match path_attr.take() {
                        Some(p) => p
                            .split('/')
                            .next()
                            .unwrap_or(&p)
                            .trim_end_matches(".rs")
                            .to_owned(),
                        None => name.to_owned(),
                    };
                    folders.insert(name.to_owned(), folder);
                }
            }
            if ident(&tokens, i) == Some("pub") && ident(&tokens, i + 1) == Some("use") {
                let mut paths = Vec::new();
                i = use_tree(&tokens, i + 2, &[], &mut paths);
                for p in paths {
                    if let Some(name) = p.visible {
                        reexports.insert(name, p.segments);
                    }
                }
                continue;
            }
            i += 1;
        }
        Crate { folders, reexports }
    }

    /// The top-level module a file under `src` belongs to, and its module path.
    fn module_of(&self, relative: &Path) -> Option<Vec<String>> {
        let parts: Vec<String> = relative
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let first = parts.first()?.trim_end_matches(".rs");
        let top = self
            .folders
            .iter()
            .find(|(_, folder)| folder.as_str() == first)
            .map(|(module, _)| module.clone())?;
        let mut path = vec![top];
        for (k, part) in parts.iter().enumerate().skip(1) {
            let stem = part.trim_end_matches(".rs");
            let last = k == parts.len() - 1;
            // `mod.rs` is its folder; a file named like `a.v1.rs` is `include!`d, not a module.
            if !(last && (stem == "mod" || !stem.chars().all(is_ident_char))) {
                path.push(stem.to_owned());
            }
        }
        Some(path)
    }

    /// The layer-relevant form of `absolute`: through a root re-export to the module that
    /// defines it; `None` for paths to no module of the crate (`crate::async_trait`).
    fn target(&self, absolute: &[String]) -> Option<Vec<String>> {
        let first = absolute.first()?;
        if self.folders.contains_key(first) {
            return Some(absolute.to_vec());
        }
        let through = self.reexports.get(first)?;
        if !self.folders.contains_key(through.first()?) {
            return None;
        }
        Some(through.iter().chain(&absolute[1..]).cloned().collect())
    }
}

fn allowed(layer: &str) -> &'static [&'static str] {
    LAYERS
        .iter()
        .find(|(l, _)| *l == layer)
        .map(|(_, a)| *a)
        .unwrap_or(&[])
}

/// The violations of [`LAYERS`] in one file's source, as `file:line: message` lines.
fn check(krate: &Crate, file: &str, module: &[String], source: &str) -> Vec<String> {
    let layer = &module[0];
    let mut out = Vec::new();
    for r in references(&tokenize(source), module) {
        let Some(target) = krate.target(&r.absolute) else {
            continue;
        };
        if &target[0] == layer {
            continue;
        }
        let ok = allowed(layer).iter().any(|rule| {
            let rule: Vec<&str> = rule.split("::").collect();
            rule.len() <= target.len() && rule.iter().zip(&target).all(|(a, b)| a == b)
        });
        if !ok {
            out.push(format!(
                "{file}:{}: `{}` is in layer `{}`, which `{layer}` may not use \
                 (it may use: {})",
                r.line,
                r.written,
                target[0],
                match allowed(layer) {
                    [] => "no other layer".to_owned(),
                    a => a.join(", "),
                }
            ));
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn lower_layers_never_refer_to_higher_ones() {
    let krate = Crate::read();
    // The table places every module lib.rs declares, and nothing else.
    let mut declared: Vec<&String> = krate.folders.keys().collect();
    declared.sort();
    let mut placed: Vec<&str> = LAYERS.iter().map(|(l, _)| *l).collect();
    placed.sort();
    assert_eq!(
        declared, placed,
        "the modules lib.rs declares and those LAYERS (runtime/tests/layers.rs) places differ"
    );

    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    let mut checked: HashMap<String, usize> = HashMap::new();
    for path in &files {
        let relative = path.strip_prefix(&src).expect("under src");
        if relative == Path::new("lib.rs") {
            continue;
        }
        let name = format!("runtime/src/{}", relative.display());
        let module = krate
            .module_of(relative)
            .unwrap_or_else(|| panic!("{name} belongs to no module lib.rs declares"));
        *checked.entry(module[0].clone()).or_default() += 1;
        let source = std::fs::read_to_string(path).expect("readable source");
        violations.extend(check(&krate, &name, &module, &source));
    }
    // Every layer was found (a wrong path would make the test pass on nothing).
    for (layer, _) in LAYERS {
        assert!(
            checked.get(*layer).is_some_and(|n| *n > 0),
            "no file of {layer}"
        );
    }
    assert!(
        violations.is_empty(),
        "a layer refers to a layer above it (the rule: LAYERS in runtime/tests/layers.rs):\n{}",
        violations.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// The checker itself, on made-up sources.
// ---------------------------------------------------------------------------------------

fn module(path: &str) -> Vec<String> {
    path.split("::").map(str::to_owned).collect()
}

/// The lines of the violations in `source`, as if it were a file at `at`.
fn violation_lines(at: &str, source: &str) -> Vec<usize> {
    let krate = Crate::read();
    check(&krate, "fixture.rs", &module(at), source)
        .iter()
        .map(|v| {
            v.trim_start_matches("fixture.rs:")
                .split(':')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("file:line:")
        })
        .collect()
}

#[test]
fn upward_paths_are_found_in_every_form() {
    let source = r##"use crate::protocol::Status;
use crate::{protocol::Code, rpc::Client};
use crate::{
    protocol::{self, Encoding},
    interceptors::auth::Identity as Who,
};
fn f() -> crate::Router { todo!() }
fn g() { super::super::plugin::serve(); super::limits::X; }
mod inner {
    use super::super::super::rpc::Request;
    use super::super::Sibling;
}
fn h() -> $crate::rpc::Request { crate::Code::Ok; crate::async_trait; }
pub(crate) fn fine() {}
"##;
    assert_eq!(
        violation_lines("transport::body", source),
        [2, 5, 7, 8, 10, 13],
        "expected: rpc::Client, interceptors::…::Identity, crate::Router (rpc), \
         super::super::plugin, inner's super::super::super::rpc, $crate::rpc"
    );
}

#[test]
fn comments_and_literals_are_not_code() {
    let source = r###"// use crate::rpc::Client;
/// [`Router`](crate::rpc::Router)
/** crate::plugin::Plugin /* nested crate::rpc */ still a comment */
//! crate::interceptors
const A: &str = "crate::rpc::Client";
const B: &str = r#"crate::rpc::Client " still"#;
const C: &[u8] = b"crate::rpc";
const D: char = '"'; const E: u8 = b'\''; fn l<'a>(x: &'a str) -> &'a str { x }
use crate::protocol::Status;
"###;
    assert_eq!(
        violation_lines("transport::body", source),
        Vec::<usize>::new()
    );
    // And what follows a tricky literal is still read.
    let after = "const D: char = '\"';\nuse crate::rpc::Client;\n";
    assert_eq!(violation_lines("transport::body", after), [2]);
}

#[test]
fn the_generated_code_surface_uses_only_the_plugin_descriptor_of_plugin() {
    let source = "use crate::codegen::Plugin;
use crate::plugin::{Plugin, PluginInfo};
fn f(_: crate::Plugin) {}
use crate::plugin::PluginClient;
fn g(_: crate::PluginSet) {}
use crate::transport::Channel;
use crate::plugin;
";
    assert_eq!(
        violation_lines("pb::connectplugin::v1", source),
        [4, 5, 6, 7]
    );
    assert_eq!(
        violation_lines("codegen", "pub use crate::plugin::{Plugin, PluginInfo};"),
        Vec::<usize>::new()
    );
    // Plugin may use pb; rpc may not.
    let uses_pb = "use crate::pb::connectplugin::v1 as cp;";
    assert!(violation_lines("plugin::host", uses_pb).is_empty());
    assert_eq!(violation_lines("rpc::router", uses_pb), [1]);
}

#[test]
fn root_reexports_are_read_from_lib_rs() {
    let krate = Crate::read();
    let path = |name: &str| krate.reexports.get(name).map(|p| p.join("::"));
    assert_eq!(path("Client").as_deref(), Some("rpc::Client"));
    assert_eq!(path("Channel").as_deref(), Some("transport::Channel"));
    assert_eq!(path("Code").as_deref(), Some("protocol::Code"));
    assert_eq!(krate.folders.get("pb").map(String::as_str), Some("gen"));
    let fixture = Crate::from_lib(
        "#[path = \"generated/mod.rs\"]\npub mod out;\npub mod rpc;\npub use rpc::{Client as C, Router};\npub use other::Thing;\n",
    );
    assert_eq!(
        fixture.folders.get("out").map(String::as_str),
        Some("generated")
    );
    assert_eq!(fixture.reexports.get("C"), Some(&module("rpc::Client")));
    assert_eq!(
        fixture.target(&module("C::new")),
        Some(module("rpc::Client::new"))
    );
    assert_eq!(fixture.target(&module("Thing")), None);
}
