//! protoc/buf plugin entry point: a `CodeGeneratorRequest` on stdin, a
//! `CodeGeneratorResponse` on stdout.

use std::io::{Read, Write};

use prost::Message;
use prost_types::compiler::{CodeGeneratorRequest, CodeGeneratorResponse};

fn main() {
    if std::env::args().any(|a| a == "--version" || a == "-V") {
        println!(
            "protoc-gen-connect-plugin {}",
            protoc_gen_connect_plugin::VERSION
        );
        return;
    }
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("protoc-gen-connect-plugin: reading stdin: {e}");
        std::process::exit(1);
    }
    let response = match CodeGeneratorRequest::decode(&input[..]) {
        Ok(request) => protoc_gen_connect_plugin::generate(&request),
        Err(e) => CodeGeneratorResponse {
            error: Some(format!(
                "protoc-gen-connect-plugin: stdin is not a CodeGeneratorRequest: {e}"
            )),
            ..Default::default()
        },
    };
    let mut out = std::io::stdout().lock();
    if let Err(e) = out
        .write_all(&response.encode_to_vec())
        .and_then(|_| out.flush())
    {
        eprintln!("protoc-gen-connect-plugin: writing stdout: {e}");
        std::process::exit(1);
    }
}
