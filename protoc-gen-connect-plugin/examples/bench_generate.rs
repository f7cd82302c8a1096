//! How long generation takes for a large request: 500 services × 10 methods across 50 files
//! (10 packages of 5 files), every method with a leading comment and its own request and
//! response messages, all four method kinds, and a tenth of the methods taking a message of
//! another package. The request is built in memory (no protoc), and only
//! `protoc_gen_connect_plugin::generate` is timed.
//!
//! ```sh
//! cargo run --release -p protoc-gen-connect-plugin --example bench_generate [RUNS]
//! ```
//!
//! Prints every run, the median, and where the time of one run goes (building the tokens,
//! parsing them with syn, printing with prettyplease).

use std::time::{Duration, Instant};

use prost_types::compiler::CodeGeneratorRequest;
use prost_types::source_code_info::Location;
use prost_types::{
    DescriptorProto, FileDescriptorProto, MethodDescriptorProto, MethodOptions,
    ServiceDescriptorProto, SourceCodeInfo,
};
use protoc_gen_connect_plugin::{generate, model, options};

const FILES: usize = 50;
const PACKAGES: usize = 10;
const SERVICES_PER_FILE: usize = 10;
const METHODS_PER_SERVICE: usize = 10;

fn package(p: usize) -> String {
    format!("bench.p{p}.v1")
}

fn request() -> CodeGeneratorRequest {
    let mut files = Vec::new();
    for f in 0..FILES {
        let p = f % PACKAGES;
        let pkg = package(p);
        let mut messages = Vec::new();
        let mut services = Vec::new();
        let mut locations = Vec::new();
        for s in 0..SERVICES_PER_FILE {
            let service_name = format!("Bench{f}x{s}Service");
            locations.push(Location {
                path: vec![6, s as i32],
                leading_comments: Some(format!(
                    " Service {service_name}.\n\n It does things:\n\n     example({s}) // code\n"
                )),
                ..Default::default()
            });
            let mut methods = Vec::new();
            for m in 0..METHODS_PER_SERVICE {
                let req = format!("{service_name}M{m}Request");
                let res = format!("{service_name}M{m}Response");
                messages.push(DescriptorProto {
                    name: Some(req.clone()),
                    ..Default::default()
                });
                messages.push(DescriptorProto {
                    name: Some(res.clone()),
                    ..Default::default()
                });
                // One method in ten takes the first message of the next package.
                let input = if m == 0 {
                    format!(
                        ".{}.Bench{}x0ServiceM0Request",
                        package((p + 1) % PACKAGES),
                        (p + 1) % PACKAGES
                    )
                } else {
                    format!(".{pkg}.{req}")
                };
                locations.push(Location {
                    path: vec![6, s as i32, 2, m as i32],
                    leading_comments: Some(format!(" Method number {m}.\n ```\n code\n ```\n")),
                    ..Default::default()
                });
                methods.push(MethodDescriptorProto {
                    name: Some(format!("Method{m}")),
                    input_type: Some(input),
                    output_type: Some(format!(".{pkg}.{res}")),
                    client_streaming: Some(m % 4 >= 2),
                    server_streaming: Some(m % 2 == 1),
                    options: (m == 5).then(|| MethodOptions {
                        idempotency_level: Some(1),
                        ..Default::default()
                    }),
                });
            }
            services.push(ServiceDescriptorProto {
                name: Some(service_name),
                method: methods,
                options: None,
            });
        }
        files.push(FileDescriptorProto {
            name: Some(format!("bench/p{p}/v1/file{f}.proto")),
            package: Some(pkg),
            message_type: messages,
            service: services,
            source_code_info: Some(SourceCodeInfo {
                location: locations,
            }),
            syntax: Some("proto3".into()),
            ..Default::default()
        });
    }
    CodeGeneratorRequest {
        file_to_generate: files.iter().map(|f| f.name().to_owned()).collect(),
        parameter: Some(String::new()),
        proto_file: files,
        ..Default::default()
    }
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(7);
    let req = request();
    let services: usize = req.proto_file.iter().map(|f| f.service.len()).sum();
    let methods: usize = req
        .proto_file
        .iter()
        .flat_map(|f| &f.service)
        .map(|s| s.method.len())
        .sum();
    println!(
        "request: {} files, {services} services, {methods} methods",
        req.proto_file.len()
    );
    let mut times: Vec<Duration> = Vec::new();
    for run in 1..=runs {
        let start = Instant::now();
        let response = protoc_gen_connect_plugin::generate(&req);
        let took = start.elapsed();
        if let Some(e) = response.error {
            eprintln!("generation failed: {e}");
            std::process::exit(1);
        }
        let bytes: usize = response.file.iter().map(|f| f.content().len()).sum();
        println!(
            "run {run}: {:.1} ms ({} files, {:.1} MB)",
            took.as_secs_f64() * 1e3,
            response.file.len(),
            bytes as f64 / 1e6
        );
        times.push(took);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "median of {runs}: {:.1} ms ({:.1} µs per method)",
        median.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e6 / methods as f64
    );
    phases(&req);
}

/// One run again, phase by phase, through the library's modules.
fn phases(req: &CodeGeneratorRequest) {
    let opts = options::Options::parse(req.parameter()).expect("options");
    let start = Instant::now();
    let types = model::TypeMap::new(&req.proto_file, &opts.extern_paths);
    let mut by_package: std::collections::BTreeMap<String, (Vec<model::Service>, Vec<String>)> =
        Default::default();
    for f in &req.proto_file {
        let entry = by_package.entry(f.package().to_owned()).or_default();
        entry.0.extend(model::services(f));
        entry.1.extend(model::messages(f));
    }
    let model_time = start.elapsed();
    let (mut tokens_time, mut parse_time, mut print_time) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for (package, (services, messages)) in &by_package {
        let t = Instant::now();
        let tokens =
            generate::package_code(package, services, messages, &types, &opts).expect("code");
        tokens_time += t.elapsed();
        let t = Instant::now();
        let file: syn::File = syn::parse2(tokens).expect("parses");
        parse_time += t.elapsed();
        let t = Instant::now();
        let text = prettyplease::unparse(&file);
        print_time += t.elapsed();
        std::hint::black_box(text);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "phases: model {:.1} ms, tokens (quote) {:.1} ms, syn parse {:.1} ms, prettyplease {:.1} ms",
        ms(model_time),
        ms(tokens_time),
        ms(parse_time),
        ms(print_time)
    );
}
