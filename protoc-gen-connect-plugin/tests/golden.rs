//! Golden files: every scenario folder under `testdata/` holds input protos and, in
//! `expected/`, exactly what protoc writes when it runs protoc-gen-prost,
//! protoc-gen-prost-serde, this plugin and protoc-gen-prost-crate over them with the options
//! of `examples/echo/buf.gen.yaml` (plus the scenario's own). The test runs real protoc
//! (`protoc-bin-vendored`) with the plugin binary cargo built and compares every file byte for
//! byte. `UPDATE_GOLDEN=1` rewrites `expected/`.
//!
//! Also here: the binary's behaviour on bad input (an error response, exit code 0, never a
//! panic), `--version`, the declared features, and determinism.
//!
//! Needs the prost plugins (`cargo install --locked protoc-gen-prost@0.5.0
//! protoc-gen-prost-serde@0.4.0 protoc-gen-prost-crate@0.5.0`);
//! `CONNECT_PLUGIN_SKIP_INTEROP=1` skips the tests that run them when they are missing.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;
use prost::Message;
use prost_types::compiler::code_generator_response::Feature;
use prost_types::compiler::{CodeGeneratorRequest, CodeGeneratorResponse};

const UPDATE_HINT: &str = "run UPDATE_GOLDEN=1 cargo test -p protoc-gen-connect-plugin --test golden (and review the diff of testdata/)";

/// One folder of `testdata/`.
struct Scenario {
    name: &'static str,
    /// Options of protoc-gen-connect-plugin (besides `extern_paths` and `flat`).
    connect: &'static [&'static str],
    /// Extra options of protoc-gen-prost.
    prost: &'static [&'static str],
    /// Whether protoc-gen-prost-serde runs (pbjson-build cannot handle the default package).
    serde: bool,
    /// Whether protoc-gen-prost-crate runs (it panics on the default package).
    krate: bool,
    /// `flat_output_dir` for every plugin.
    flat: bool,
    /// `extern_path`s for protoc-gen-prost, protoc-gen-prost-serde and this plugin.
    extern_paths: &'static [&'static str],
    /// More import directories, relative to `testdata/` (their files are imported, not
    /// generated).
    includes: &'static [&'static str],
}

const BASE: Scenario = Scenario {
    name: "",
    connect: &[],
    prost: &[],
    serde: true,
    krate: true,
    flat: false,
    extern_paths: &[],
    includes: &[],
};

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "streaming",
        ..BASE
    },
    Scenario {
        name: "samepackage",
        ..BASE
    },
    Scenario {
        name: "diffpackage",
        ..BASE
    },
    Scenario {
        name: "defaultpackage",
        // pbjson-build panics on the default package ("expected package"), so the messages
        // get plain serde derives instead (enough for the compile test); and
        // protoc-gen-prost-crate panics on it too, so testdata/golden writes the modules.
        serde: false,
        krate: false,
        // protoc-gen-prost names the default package's file `_`; this plugin inserts there.
        prost: &["type_attribute=.=#[derive(::serde::Serialize\\,::serde::Deserialize)]"],
        ..BASE
    },
    Scenario {
        name: "noservice",
        ..BASE
    },
    Scenario {
        name: "keywords",
        ..BASE
    },
    Scenario {
        name: "wkt",
        ..BASE
    },
    Scenario {
        name: "collisions",
        ..BASE
    },
    Scenario {
        name: "comments",
        ..BASE
    },
    Scenario {
        name: "options_noclient",
        connect: &["no_client"],
        ..BASE
    },
    Scenario {
        name: "options_noserver",
        connect: &["no_server"],
        ..BASE
    },
    Scenario {
        name: "options_noinclude",
        connect: &["no_include"],
        ..BASE
    },
    Scenario {
        name: "options_flat",
        flat: true,
        ..BASE
    },
    Scenario {
        name: "options_runtime",
        connect: &["runtime=crate"],
        ..BASE
    },
    Scenario {
        name: "options_externpath",
        // In the compile test (testdata/golden) this module is the diffpackage scenario's.
        extern_paths: &[".diffpackage.common.v1=crate::diffpackage::diffpackage::common::v1"],
        includes: &["diffpackage"],
        ..BASE
    },
];

fn scenario(name: &str) -> &'static Scenario {
    SCENARIOS
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no scenario {name}"))
}

/// The `.proto` files of a scenario folder (not under `expected/`), relative, sorted.
fn protos(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = read_tree(dir)
        .into_keys()
        .filter(|f| f.ends_with(".proto") && !f.starts_with("expected/"))
        .collect();
    files.sort();
    files
}

fn joined(mut opts: Vec<String>) -> String {
    opts.retain(|o| !o.is_empty());
    opts.join(",")
}

/// Runs protoc with the four plugins over scenario `s` into `out`.
fn generate(s: &Scenario, plugins: &ProstPlugins, out: &Path) {
    let dir = testdata().join(s.name);
    let (protoc, wkt_include) = protoc();
    let files = protos(&dir);
    assert!(!files.is_empty(), "{}: no .proto files", dir.display());
    let flat = if s.flat { "flat_output_dir" } else { "" };
    let externs: Vec<String> = s
        .extern_paths
        .iter()
        .map(|e| format!("extern_path={e}"))
        .collect();

    let mut prost_opts: Vec<String> = [
        "enable_type_names",
        "compile_well_known_types",
        "bytes=.",
        "extern_path=.google.protobuf=::pbjson_types",
        "extern_path=.google.protobuf.Any=::connect_plugin::Any",
        flat,
    ]
    .map(String::from)
    .to_vec();
    prost_opts.extend(externs.iter().cloned());
    prost_opts.extend(s.prost.iter().map(|o| o.to_string()));

    let mut serde_opts = vec!["ignore_unknown_fields".to_owned(), flat.to_owned()];
    serde_opts.extend(externs.iter().cloned());

    let mut connect_opts: Vec<String> = s.connect.iter().map(|o| o.to_string()).collect();
    connect_opts.extend(externs.iter().cloned());
    connect_opts.push(flat.to_owned());

    let crate_opts = vec![
        "include_file=mod.rs".to_owned(),
        "no_features".to_owned(),
        flat.to_owned(),
    ];

    let out_s = out.display().to_string();
    let mut cmd = Command::new(&protoc);
    cmd.current_dir(&dir)
        .arg("-I.")
        .arg(format!("-I{}", wkt_include.display()));
    for inc in s.includes {
        cmd.arg(format!("-I{}", testdata().join(inc).display()));
    }
    cmd.arg(format!(
        "--plugin=protoc-gen-prost={}",
        plugins.prost.display()
    ))
    .arg(format!(
        "--plugin=protoc-gen-prost-serde={}",
        plugins.serde.display()
    ))
    .arg(format!("--plugin=protoc-gen-connect-plugin={PLUGIN}"))
    .arg(format!(
        "--plugin=protoc-gen-prost-crate={}",
        plugins.krate.display()
    ))
    .arg(format!("--prost_out={out_s}"))
    .arg(format!("--prost_opt={}", joined(prost_opts)));
    if s.serde {
        cmd.arg(format!("--prost-serde_out={out_s}"))
            .arg(format!("--prost-serde_opt={}", joined(serde_opts)));
    }
    cmd.arg(format!("--connect-plugin_out={out_s}"));
    let connect_opts = joined(connect_opts);
    if !connect_opts.is_empty() {
        cmd.arg(format!("--connect-plugin_opt={connect_opts}"));
    }
    if s.krate {
        cmd.arg(format!("--prost-crate_out={out_s}"))
            .arg(format!("--prost-crate_opt={}", joined(crate_opts)));
    }
    cmd.args(&files);
    let result = run(&mut cmd);
    assert!(
        result.status.success(),
        "protoc failed for scenario {}: {cmd:?}\n{}",
        s.name,
        describe(&result)
    );
}

fn check(name: &str) {
    let Some(plugins) = prost_plugins(&format!("golden scenario {name}")) else {
        return;
    };
    let s = scenario(name);
    let out = TempDir::new(&format!("golden-{name}"));
    generate(s, &plugins, out.path());
    let expected_dir = testdata().join(name).join("expected");
    let actual = read_tree(out.path());
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        let _ = std::fs::remove_dir_all(&expected_dir);
        for (rel, content) in &actual {
            let path = expected_dir.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, content).unwrap();
        }
        eprintln!(
            "UPDATE_GOLDEN=1: wrote {} files to {}",
            actual.len(),
            expected_dir.display()
        );
        return;
    }
    let expected = read_tree(&expected_dir);
    assert!(
        !expected.is_empty(),
        "{} is empty or missing; {UPDATE_HINT}",
        expected_dir.display()
    );
    if let Some(report) = compare_trees(&expected, &actual) {
        panic!(
            "scenario {name}: generated output differs from testdata/{name}/expected\n{report}\n{UPDATE_HINT}"
        );
    }
}

macro_rules! golden {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name));
            }
        )*

        /// Every scenario in the table has a test above, and every scenario folder of
        /// `testdata/` is in the table.
        #[test]
        fn every_scenario_folder_is_tested() {
            let tested = [$(stringify!($name)),*];
            let table: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
            let mut sorted_tested = tested.to_vec();
            sorted_tested.sort();
            let mut sorted_table = table.clone();
            sorted_table.sort();
            assert_eq!(sorted_tested, sorted_table, "the golden! list and SCENARIOS differ");
            let mut folders = Vec::new();
            for e in std::fs::read_dir(testdata()).unwrap() {
                let path = e.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                // Scenario folders hold protos beside `expected/`; `golden` (the compile
                // test crate) and `buf-user` (the buf generate test's module) are not ones.
                if path.join("expected").is_dir() || (!protos(&path).is_empty() && name != "buf-user") {
                    folders.push(name);
                }
            }
            for f in &folders {
                assert!(table.contains(&f.as_str()), "testdata/{f} is not in SCENARIOS");
            }
            for t in &table {
                assert!(folders.iter().any(|f| f == t), "scenario {t} has no folder under testdata/");
            }
        }
    };
}

golden!(
    streaming,
    samepackage,
    diffpackage,
    defaultpackage,
    noservice,
    keywords,
    wkt,
    collisions,
    comments,
    options_noclient,
    options_noserver,
    options_noinclude,
    options_flat,
    options_runtime,
    options_externpath,
);

/// Two runs of the whole pipeline over every scenario write byte-identical trees (each run
/// of the binary is a new process, so hash-map seeds differ).
#[test]
fn output_is_deterministic() {
    let Some(plugins) = prost_plugins("determinism test") else {
        return;
    };
    for s in SCENARIOS {
        let a = TempDir::new(&format!("det-a-{}", s.name));
        let b = TempDir::new(&format!("det-b-{}", s.name));
        generate(s, &plugins, a.path());
        generate(s, &plugins, b.path());
        if let Some(report) = compare_trees(&read_tree(a.path()), &read_tree(b.path())) {
            panic!("scenario {}: two runs differ\n{report}", s.name);
        }
    }
}

/// Runs the plugin binary directly with `input` on stdin: it must exit 0 and answer with a
/// `CodeGeneratorResponse`.
fn run_plugin(input: &[u8]) -> CodeGeneratorResponse {
    let mut child = Command::new(PLUGIN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Write from another thread so a plugin that answers early cannot deadlock the test.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "the plugin must exit 0 (errors go into the response)\n{}",
        describe(&out)
    );
    CodeGeneratorResponse::decode(&out.stdout[..]).unwrap_or_else(|e| {
        panic!(
            "stdout is not a CodeGeneratorResponse: {e}\n{}",
            describe(&out)
        )
    })
}

/// A request protoc would send for scenario `name` (descriptors with source info).
fn request_for(name: &str, parameter: &str) -> CodeGeneratorRequest {
    let s = scenario(name);
    let dir = testdata().join(s.name);
    let (protoc, include) = protoc();
    let tmp = TempDir::new(&format!("descset-{name}"));
    let set_path = tmp.path().join("set.binpb");
    let files = protos(&dir);
    let mut cmd = Command::new(protoc);
    cmd.current_dir(&dir)
        .arg("-I.")
        .arg(format!("-I{}", include.display()))
        .arg("--include_imports")
        .arg("--include_source_info")
        .arg(format!("--descriptor_set_out={}", set_path.display()))
        .args(&files);
    let result = run(&mut cmd);
    assert!(result.status.success(), "{}", describe(&result));
    let set =
        prost_types::FileDescriptorSet::decode(&std::fs::read(&set_path).unwrap()[..]).unwrap();
    CodeGeneratorRequest {
        file_to_generate: files,
        parameter: Some(parameter.to_owned()),
        proto_file: set.file,
        ..Default::default()
    }
}

fn proto3_optional_declared(r: &CodeGeneratorResponse) -> bool {
    r.supported_features() & Feature::Proto3Optional as u64 != 0
}

#[test]
fn garbage_on_stdin_is_an_error_response() {
    let inputs: [&[u8]; 4] = [
        b"\xff\xff\xff\xff",
        // A length-delimited field longer than the input.
        b"\x0a\x7fabc",
        // Field 0 is never valid.
        b"\x00\x01",
        b"hello, plugin\n",
    ];
    for input in inputs {
        assert!(
            CodeGeneratorRequest::decode(input).is_err(),
            "test input {input:?} should not decode"
        );
        let r = run_plugin(input);
        let err = r
            .error
            .as_deref()
            .unwrap_or_else(|| panic!("no error for {input:?}: {r:?}"));
        assert!(
            err.starts_with("protoc-gen-connect-plugin: ") && err.contains("CodeGeneratorRequest"),
            "{err}"
        );
        assert!(r.file.is_empty());
    }
}

#[test]
fn empty_stdin_is_an_empty_request() {
    let r = run_plugin(b"");
    assert_eq!(r.error, None);
    assert!(r.file.is_empty());
    assert!(proto3_optional_declared(&r));
}

#[test]
fn unknown_option_is_an_error_response() {
    let r = run_plugin(&request_for("streaming", "frobnicate").encode_to_vec());
    let err = r.error.as_deref().expect("an error");
    assert!(err.contains("unknown option \"frobnicate\""), "{err}");
    assert!(r.file.is_empty());
    assert!(proto3_optional_declared(&r));

    for (parameter, want) in [
        ("no_client,no_server", "nothing to generate"),
        ("runtime=not a path", "runtime=not a path"),
        ("extern_path=acme=::acme", "fully qualified"),
        ("no_include=yes", "unknown option"),
    ] {
        let r = run_plugin(&request_for("streaming", parameter).encode_to_vec());
        let err = r
            .error
            .as_deref()
            .unwrap_or_else(|| panic!("{parameter}: no error"));
        assert!(err.contains(want), "{parameter}: {err}");
    }
}

#[test]
fn inconsistent_requests_are_error_responses() {
    // A file to generate that is not in the request.
    let mut req = request_for("streaming", "");
    req.file_to_generate.push("nope.proto".into());
    let r = run_plugin(&req.encode_to_vec());
    let err = r.error.as_deref().expect("an error");
    assert!(err.contains("nope.proto"), "{err}");

    // A method whose input type is not in the request.
    let mut req = request_for("streaming", "");
    let file = req
        .proto_file
        .iter_mut()
        .find(|f| f.name() == "streaming/v1/counter.proto")
        .unwrap();
    file.service[0].method[0].input_type = Some(".streaming.v1.Missing".into());
    let r = run_plugin(&req.encode_to_vec());
    let err = r.error.as_deref().expect("an error");
    assert!(err.contains(".streaming.v1.Missing"), "{err}");
}

#[test]
fn the_response_declares_proto3_optional() {
    let r = run_plugin(&request_for("diffpackage", "").encode_to_vec());
    assert_eq!(r.error, None);
    assert!(!r.file.is_empty());
    assert!(proto3_optional_declared(&r));
}

#[test]
fn version_flag_prints_the_version() {
    for flag in ["--version", "-V"] {
        let out = run(Command::new(PLUGIN).arg(flag).stdin(Stdio::null()));
        assert!(out.status.success(), "{}", describe(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("protoc-gen-connect-plugin {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

/// protoc itself accepts the plugin for a file with proto3 `optional` fields only when the
/// plugin declares the feature; run it alone (no prost plugins needed).
#[test]
fn protoc_accepts_proto3_optional() {
    let (protoc, include) = protoc();
    let dir = testdata().join("diffpackage");
    let out = TempDir::new("proto3-optional");
    let result = run(Command::new(protoc)
        .current_dir(&dir)
        .arg("-I.")
        .arg(format!("-I{}", include.display()))
        .arg(format!("--plugin=protoc-gen-connect-plugin={PLUGIN}"))
        .arg(format!(
            "--connect-plugin_out=no_include:{}",
            out.path().display()
        ))
        .args(protos(&dir)));
    assert!(result.status.success(), "{}", describe(&result));
    let files: Vec<String> = read_tree(out.path()).into_keys().collect();
    assert_eq!(
        files,
        vec!["diffpackage/v1/diffpackage.v1.connect_plugin.rs"]
    );
}

/// A service in a package with a keyword component (`keywords.type`): protoc-gen-prost
/// writes `keywords/r#type/keywords.type.rs` (its module name), and our file and its
/// `include!` must go to the same directory, or protoc fails with "Tried to insert into file
/// that doesn't exist".
#[test]
fn service_in_a_keyword_package_lands_beside_prosts_file() {
    let Some(plugins) = prost_plugins("keyword package test") else {
        return;
    };
    let src = TempDir::new("kwpkg-src");
    let proto_dir = src.path().join("keywords/type");
    std::fs::create_dir_all(&proto_dir).unwrap();
    std::fs::write(
        proto_dir.join("svc.proto"),
        "syntax = \"proto3\";\npackage keywords.type;\nmessage Self {}\nservice async { rpc Await(Self) returns (Self); }\n",
    )
    .unwrap();
    let out = TempDir::new("kwpkg-out");
    let (protoc, _) = protoc();
    let result = run(Command::new(protoc)
        .current_dir(src.path())
        .arg("-I.")
        .arg(format!(
            "--plugin=protoc-gen-prost={}",
            plugins.prost.display()
        ))
        .arg(format!("--plugin=protoc-gen-connect-plugin={PLUGIN}"))
        .arg(format!("--prost_out={}", out.path().display()))
        .arg(format!("--connect-plugin_out={}", out.path().display()))
        .arg("keywords/type/svc.proto"));
    assert!(result.status.success(), "{}", describe(&result));
    let tree = read_tree(out.path());
    let files: Vec<&String> = tree.keys().collect();
    assert_eq!(
        files,
        vec![
            "keywords/r#type/keywords.type.connect_plugin.rs",
            "keywords/r#type/keywords.type.rs"
        ]
    );
    let prost_file = String::from_utf8_lossy(&tree["keywords/r#type/keywords.type.rs"]);
    assert!(prost_file.contains("include!(\"keywords.type.connect_plugin.rs\");"));
}

/// A service in the default package with protoc-gen-prost's default options: prost writes the
/// package's file as `_` (its `default_package_filename` defaults to `_`, with no `.rs`), so
/// the `include!` must go into `_`, or protoc fails with "_.rs: Tried to insert into file that
/// doesn't exist".
#[test]
fn default_package_with_prost_defaults() {
    let Some(plugins) = prost_plugins("default package test") else {
        return;
    };
    let dir = testdata().join("defaultpackage");
    let out = TempDir::new("defpkg-out");
    let (protoc, _) = protoc();
    let result = run(Command::new(protoc)
        .current_dir(&dir)
        .arg("-I.")
        .arg(format!(
            "--plugin=protoc-gen-prost={}",
            plugins.prost.display()
        ))
        .arg(format!("--plugin=protoc-gen-connect-plugin={PLUGIN}"))
        .arg(format!("--prost_out={}", out.path().display()))
        .arg(format!("--connect-plugin_out={}", out.path().display()))
        .args(protos(&dir)));
    assert!(result.status.success(), "{}", describe(&result));
    let tree = read_tree(out.path());
    let root = String::from_utf8_lossy(&tree["_"]);
    assert!(
        root.contains("include!(\"_.connect_plugin.rs\");"),
        "{root}"
    );
    assert!(tree.contains_key("_.connect_plugin.rs"));
}
