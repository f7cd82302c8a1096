//! The client adapter against the server adapter, driven as the conformance runner drives
//! them: the server process gets a `ServerCompatRequest` and answers with its address; the
//! client process gets `ClientCompatRequest`s built like the runner's (protocol × codec ×
//! HTTP version × stream type, success and error, cancellation, deadlines, Connect GET,
//! the receive limit, TLS with client certificates) and answers each; the results are
//! checked against what the suite expects.

use std::collections::HashMap;
use std::process::Stdio;

use bytes::Bytes;
use conformance::io::{read_message, write_message};
use conformance::pb::{
    self, BidiStreamRequest, ClientCompatRequest, ClientCompatResponse, ClientResponseResult,
    ClientStreamRequest, IdempotentUnaryRequest, ServerCompatRequest, ServerCompatResponse,
    ServerStreamRequest, StreamResponseDefinition, UnaryRequest, UnaryResponseDefinition,
    client_compat_request::Cancel, client_compat_request::cancel::CancelTiming,
    client_compat_response::Result as Outcome, unary_response_definition,
};
use conformance::service::pack;
use prost::Message as _;
use tokio::process::{Child, Command};

const RECEIVE_LIMIT: u32 = 200 * 1024;

struct Server {
    child: Child,
    host: String,
    port: u32,
    pem_cert: Bytes,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn start_server(request: ServerCompatRequest) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_conformance-server"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start conformance-server");
    let mut stdin = child.stdin.take().unwrap();
    write_message(&mut stdin, &request).await.unwrap();
    drop(stdin);
    let mut stdout = child.stdout.take().unwrap();
    let response: ServerCompatResponse = read_message(&mut stdout).await.unwrap().unwrap();
    assert_eq!(response.host, "127.0.0.1");
    assert_ne!(response.port, 0);
    Server {
        child,
        host: response.host,
        port: response.port,
        pem_cert: response.pem_cert,
    }
}

/// Runs `cases` through one client process, as the runner does (all written, stdin
/// closed, every answer read), and returns the answers by test name.
async fn run_client(cases: &[ClientCompatRequest]) -> HashMap<String, ClientCompatResponse> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_conformance-client"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start conformance-client");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let writer = {
        let cases = cases.to_vec();
        tokio::spawn(async move {
            for c in &cases {
                write_message(&mut stdin, c).await.unwrap();
            }
        })
    };
    let mut answers = HashMap::new();
    while let Some(answer) = read_message::<ClientCompatResponse, _>(&mut stdout)
        .await
        .unwrap()
    {
        answers.insert(answer.test_name.clone(), answer);
    }
    writer.await.unwrap();
    let status = child.wait().await.unwrap();
    assert!(status.success(), "conformance-client exited with {status}");
    assert_eq!(answers.len(), cases.len(), "one answer per case");
    answers
}

fn header(name: &str, values: &[&str]) -> pb::Header {
    pb::Header {
        name: name.to_owned(),
        value: values.iter().map(|v| (*v).to_owned()).collect(),
    }
}

fn values<'a>(headers: &'a [pb::Header], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case(name))
        .flat_map(|h| h.value.iter().map(String::as_str))
        .collect()
}

fn data(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn error(code: pb::Code, message: &str) -> pb::Error {
    pb::Error {
        code: code as i32,
        message: Some(message.to_owned()),
        details: vec![],
    }
}

#[derive(Clone, Copy, Debug)]
struct Shape {
    version: pb::HttpVersion,
    protocol: pb::Protocol,
    codec: pb::Codec,
    compression: pb::Compression,
}

fn shapes() -> Vec<Shape> {
    let mut out = Vec::new();
    for version in [pb::HttpVersion::HttpVersion1, pb::HttpVersion::HttpVersion2] {
        for protocol in [
            pb::Protocol::Connect,
            pb::Protocol::Grpc,
            pb::Protocol::GrpcWeb,
        ] {
            if protocol == pb::Protocol::Grpc && version == pb::HttpVersion::HttpVersion1 {
                continue; // gRPC needs HTTP/2
            }
            for codec in [pb::Codec::Proto, pb::Codec::Json] {
                for compression in [pb::Compression::Identity, pb::Compression::Gzip] {
                    out.push(Shape {
                        version,
                        protocol,
                        codec,
                        compression,
                    });
                }
            }
        }
    }
    out
}

fn case(
    name: String,
    shape: Shape,
    server: &Server,
    stream_type: pb::StreamType,
    method: &str,
    messages: Vec<connect_plugin::Any>,
) -> ClientCompatRequest {
    ClientCompatRequest {
        test_name: name,
        http_version: shape.version as i32,
        protocol: shape.protocol as i32,
        codec: shape.codec as i32,
        compression: shape.compression as i32,
        host: server.host.clone(),
        port: server.port,
        server_tls_cert: server.pem_cert.clone(),
        message_receive_limit: RECEIVE_LIMIT,
        service: Some("connectrpc.conformance.v1.ConformanceService".to_owned()),
        method: Some(method.to_owned()),
        stream_type: stream_type as i32,
        request_headers: vec![header("x-conformance-test", &["Value1", "Value2"])],
        request_messages: messages,
        ..Default::default()
    }
}

fn unary_definition(fail: bool) -> UnaryResponseDefinition {
    UnaryResponseDefinition {
        response_headers: vec![header("x-custom-header", &["foo"])],
        response_trailers: vec![header("x-custom-trailer", &["bing", "quux"])],
        response: Some(if fail {
            unary_response_definition::Response::Error(error(pb::Code::NotFound, "not here"))
        } else {
            unary_response_definition::Response::ResponseData(data("unary answer"))
        }),
        ..Default::default()
    }
}

fn stream_definition(fail: bool) -> StreamResponseDefinition {
    StreamResponseDefinition {
        response_headers: vec![header("x-custom-header", &["foo"])],
        response_trailers: vec![header("x-custom-trailer", &["bing"])],
        response_data: vec![data("one"), data("two")],
        error: fail.then(|| error(pb::Code::ResourceExhausted, "no more")),
        ..Default::default()
    }
}

/// Every case of the matrix for `shape`, with what the result must hold.
fn matrix_cases(shape: Shape, server: &Server) -> Vec<(ClientCompatRequest, Expect)> {
    let mut out = Vec::new();
    let tag = format!("{shape:?}");
    for fail in [false, true] {
        let suffix = if fail { "error" } else { "success" };
        let unary = UnaryRequest {
            response_definition: Some(unary_definition(fail)),
            request_data: data("hello"),
        };
        out.push((
            case(
                format!("{tag}/unary/{suffix}"),
                shape,
                server,
                pb::StreamType::Unary,
                "Unary",
                vec![pack(&unary)],
            ),
            Expect {
                data: if fail { vec![] } else { vec!["unary answer"] },
                requests: vec![pack(&unary)],
                error: fail.then_some(pb::Code::NotFound),
                trailer_values: vec!["bing", "quux"],
            },
        ));
        let server_stream = ServerStreamRequest {
            response_definition: Some(stream_definition(fail)),
            request_data: data("hello"),
        };
        out.push((
            case(
                format!("{tag}/server-stream/{suffix}"),
                shape,
                server,
                pb::StreamType::ServerStream,
                "ServerStream",
                vec![pack(&server_stream)],
            ),
            Expect {
                data: vec!["one", "two"],
                requests: vec![pack(&server_stream)],
                error: fail.then_some(pb::Code::ResourceExhausted),
                trailer_values: vec!["bing"],
            },
        ));
        let client_stream = [
            ClientStreamRequest {
                response_definition: Some(unary_definition(fail)),
                request_data: data("first"),
            },
            ClientStreamRequest {
                response_definition: None,
                request_data: data("second"),
            },
        ];
        out.push((
            case(
                format!("{tag}/client-stream/{suffix}"),
                shape,
                server,
                pb::StreamType::ClientStream,
                "ClientStream",
                client_stream.iter().map(pack).collect(),
            ),
            Expect {
                data: if fail { vec![] } else { vec!["unary answer"] },
                requests: client_stream.iter().map(pack).collect(),
                error: fail.then_some(pb::Code::NotFound),
                trailer_values: vec!["bing", "quux"],
            },
        ));
        for full_duplex in [false, true] {
            if full_duplex && shape.version == pb::HttpVersion::HttpVersion1 {
                continue; // full duplex needs HTTP/2
            }
            let bidi = [
                BidiStreamRequest {
                    response_definition: Some(stream_definition(fail)),
                    full_duplex,
                    request_data: data("first"),
                },
                BidiStreamRequest {
                    request_data: data("second"),
                    ..Default::default()
                },
            ];
            let (kind, stream_type) = if full_duplex {
                ("full", pb::StreamType::FullDuplexBidiStream)
            } else {
                ("half", pb::StreamType::HalfDuplexBidiStream)
            };
            out.push((
                case(
                    format!("{tag}/bidi-{kind}/{suffix}"),
                    shape,
                    server,
                    stream_type,
                    "BidiStream",
                    bidi.iter().map(pack).collect(),
                ),
                Expect {
                    data: vec!["one", "two"],
                    // Full duplex echoes only the request that caused the first response.
                    requests: if full_duplex {
                        vec![pack(&bidi[0])]
                    } else {
                        bidi.iter().map(pack).collect()
                    },
                    error: fail.then_some(pb::Code::ResourceExhausted),
                    trailer_values: vec!["bing"],
                },
            ));
        }
    }
    out
}

/// What a matrix case must report.
struct Expect {
    data: Vec<&'static str>,
    /// The requests the first payload (or, without payloads, the error's RequestInfo
    /// detail) echoes.
    requests: Vec<connect_plugin::Any>,
    error: Option<pb::Code>,
    trailer_values: Vec<&'static str>,
}

fn result(answer: &ClientCompatResponse) -> &ClientResponseResult {
    match &answer.result {
        Some(Outcome::Response(r)) => r,
        other => panic!("{}: no response result: {other:?}", answer.test_name),
    }
}

fn request_info_detail(error: &pb::Error) -> Option<pb::conformance_payload::RequestInfo> {
    error
        .details
        .iter()
        .find(|d| {
            d.type_url
                .ends_with("connectrpc.conformance.v1.ConformancePayload.RequestInfo")
        })
        .map(|d| pb::conformance_payload::RequestInfo::decode(d.value.clone()).unwrap())
}

/// Checks one result against what the suite expects; returns every mismatch.
fn check(name: &str, r: &ClientResponseResult, expect: &Expect) -> Vec<String> {
    let mut fails = Vec::new();
    let mut expect_eq = |what: &str, got: String, want: String| {
        if got != want {
            fails.push(format!("{name}: {what}: got {got}, want {want}"));
        }
    };
    let got: Vec<&[u8]> = r.payloads.iter().map(|p| &p.data[..]).collect();
    let want: Vec<&[u8]> = expect.data.iter().map(|d| d.as_bytes()).collect();
    expect_eq("payload data", format!("{got:?}"), format!("{want:?}"));
    expect_eq(
        "response header x-custom-header",
        format!("{:?}", values(&r.response_headers, "x-custom-header")),
        format!("{:?}", ["foo"]),
    );
    expect_eq(
        "response trailer x-custom-trailer",
        format!("{:?}", values(&r.response_trailers, "x-custom-trailer")),
        format!("{:?}", expect.trailer_values),
    );
    expect_eq(
        "protocol headers among the trailers",
        format!(
            "{:?}",
            ["grpc-status", "grpc-message", "content-type"]
                .iter()
                .flat_map(|n| values(&r.response_trailers, n))
                .collect::<Vec<_>>()
        ),
        "[]".into(),
    );
    let info = match (r.payloads.first(), &r.error) {
        (Some(p), _) => p.request_info.clone(),
        (None, Some(e)) => request_info_detail(e),
        (None, None) => None,
    };
    match info {
        None => expect_eq("RequestInfo", "none".into(), "echoed".into()),
        Some(info) => {
            expect_eq(
                "echoed requests",
                format!("{:?}", info.requests),
                format!("{:?}", expect.requests),
            );
            expect_eq(
                "echoed request headers",
                format!("{:?}", values(&info.request_headers, "x-conformance-test")),
                format!("{:?}", ["Value1", "Value2"]),
            );
        }
    }
    for later in r.payloads.iter().skip(1) {
        if let Some(i) = &later.request_info {
            expect_eq(
                "headers echoed after the first payload",
                format!("{:?}", i.request_headers),
                "[]".into(),
            );
        }
    }
    expect_eq(
        "error code",
        format!("{:?}", r.error.as_ref().map(|e| e.code)),
        format!("{:?}", expect.error.map(|c| c as i32)),
    );
    expect_eq(
        "unsent requests",
        r.num_unsent_requests.to_string(),
        "0".into(),
    );
    fails
}

fn check_all(answers: &HashMap<String, ClientCompatResponse>, expects: &HashMap<String, Expect>) {
    let mut fails: Vec<String> = expects
        .iter()
        .flat_map(|(name, expect)| check(name, result(&answers[name]), expect))
        .collect();
    fails.sort();
    assert!(
        fails.is_empty(),
        "{} mismatches in {} cases:\n{}",
        fails.len(),
        expects.len(),
        fails.join("\n")
    );
}

fn plaintext_server_request() -> ServerCompatRequest {
    ServerCompatRequest {
        protocol: pb::Protocol::Connect as i32,
        http_version: pb::HttpVersion::HttpVersion2 as i32,
        message_receive_limit: RECEIVE_LIMIT,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_matrix_passes_over_every_protocol_codec_version_and_stream_type() {
    let server = start_server(plaintext_server_request()).await;
    let mut cases = Vec::new();
    let mut expects = HashMap::new();
    for shape in shapes() {
        for (c, e) in matrix_cases(shape, &server) {
            expects.insert(c.test_name.clone(), e);
            cases.push(c);
        }
    }
    assert!(cases.len() > 150, "{} cases", cases.len());
    let answers = run_client(&cases).await;
    check_all(&answers, &expects);
}

fn server_stream_case(
    server: &Server,
    name: &str,
    definition: StreamResponseDefinition,
) -> ClientCompatRequest {
    let message = ServerStreamRequest {
        response_definition: Some(definition),
        request_data: Bytes::new(),
    };
    case(
        name.to_owned(),
        Shape {
            version: pb::HttpVersion::HttpVersion2,
            protocol: pb::Protocol::Connect,
            codec: pb::Codec::Proto,
            compression: pb::Compression::Identity,
        },
        server,
        pb::StreamType::ServerStream,
        "ServerStream",
        vec![pack(&message)],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_deadlines_get_and_limits_behave_as_the_suite_expects() {
    let server = start_server(plaintext_server_request()).await;
    let h2 = Shape {
        version: pb::HttpVersion::HttpVersion2,
        protocol: pb::Protocol::Connect,
        codec: pb::Codec::Proto,
        compression: pb::Compression::Identity,
    };
    let mut cases = Vec::new();

    // Cancel after one response of a slow stream.
    let mut slow = stream_definition(false);
    slow.response_delay_ms = 100;
    let mut c = server_stream_case(&server, "cancel-after-responses", slow.clone());
    c.cancel = Some(Cancel {
        cancel_timing: Some(CancelTiming::AfterNumResponses(1)),
    });
    cases.push(c);

    // A deadline shorter than the server's delay.
    let mut c = server_stream_case(&server, "deadline", slow);
    c.timeout_ms = Some(50);
    cases.push(c);

    // A deadline the server sees.
    let unary = UnaryRequest {
        response_definition: Some(unary_definition(false)),
        request_data: Bytes::new(),
    };
    let mut c = case(
        "timeout-seen".into(),
        h2,
        &server,
        pb::StreamType::Unary,
        "Unary",
        vec![pack(&unary)],
    );
    c.timeout_ms = Some(10_000);
    cases.push(c);

    // Client stream canceled instead of closed.
    let msgs = [
        ClientStreamRequest {
            response_definition: Some(unary_definition(false)),
            request_data: data("a"),
        },
        ClientStreamRequest::default(),
    ];
    let mut c = case(
        "client-stream-cancel-before-close".into(),
        h2,
        &server,
        pb::StreamType::ClientStream,
        "ClientStream",
        msgs.iter().map(pack).collect(),
    );
    c.cancel = Some(Cancel {
        cancel_timing: Some(CancelTiming::BeforeCloseSend(Default::default())),
    });
    cases.push(c);

    // Connect GET of the side-effect-free method: the server reports the query.
    let get = IdempotentUnaryRequest {
        response_definition: Some(unary_definition(false)),
        request_data: data("cacheable"),
    };
    let mut c = case(
        "connect-get".into(),
        h2,
        &server,
        pb::StreamType::Unary,
        "IdempotentUnary",
        vec![pack(&get)],
    );
    c.use_get_http_method = true;
    cases.push(c);

    // The unimplemented method.
    cases.push(case(
        "unimplemented".into(),
        h2,
        &server,
        pb::StreamType::Unary,
        "Unimplemented",
        vec![pack(&pb::UnimplementedRequest::default())],
    ));

    // A request over the server's receive limit.
    let big = UnaryRequest {
        response_definition: Some(unary_definition(false)),
        request_data: Bytes::from(vec![b'x'; RECEIVE_LIMIT as usize + 1]),
    };
    cases.push(case(
        "over-the-limit".into(),
        h2,
        &server,
        pb::StreamType::Unary,
        "Unary",
        vec![pack(&big)],
    ));

    // A request exactly at the server's receive limit is served, though its echo is larger.
    let mut at_limit = UnaryRequest {
        response_definition: Some(unary_definition(false)),
        request_data: Bytes::new(),
    };
    let overhead = at_limit.encoded_len() + 4; // the data field's tag and length
    at_limit.request_data = Bytes::from(vec![b'x'; RECEIVE_LIMIT as usize - overhead]);
    assert_eq!(at_limit.encoded_len(), RECEIVE_LIMIT as usize);
    let mut c = case(
        "at-the-limit".into(),
        h2,
        &server,
        pb::StreamType::Unary,
        "Unary",
        vec![pack(&at_limit)],
    );
    c.message_receive_limit = 0;
    cases.push(c);

    let answers = run_client(&cases).await;
    let code = |name: &str| result(&answers[name]).error.as_ref().map(|e| e.code);

    let r = result(&answers["cancel-after-responses"]);
    assert_eq!(r.payloads.len(), 1);
    assert_eq!(
        code("cancel-after-responses"),
        Some(pb::Code::Canceled as i32)
    );

    assert_eq!(code("deadline"), Some(pb::Code::DeadlineExceeded as i32));

    let r = result(&answers["timeout-seen"]);
    let seen = r.payloads[0]
        .request_info
        .as_ref()
        .unwrap()
        .timeout_ms
        .unwrap();
    assert!((1..=10_000).contains(&seen), "the server saw {seen} ms");

    let r = result(&answers["client-stream-cancel-before-close"]);
    assert_eq!(
        code("client-stream-cancel-before-close"),
        Some(pb::Code::Canceled as i32)
    );
    assert!(r.payloads.is_empty());

    let r = result(&answers["connect-get"]);
    assert!(r.error.is_none(), "{:?}", r.error);
    let get_info = r.payloads[0]
        .request_info
        .as_ref()
        .unwrap()
        .connect_get_info
        .as_ref()
        .expect("a GET reports its query");
    let names: Vec<&str> = get_info
        .query_params
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    for expected in ["connect", "encoding", "message"] {
        assert!(names.contains(&expected), "query params {names:?}");
    }

    assert_eq!(code("unimplemented"), Some(pb::Code::Unimplemented as i32));
    assert_eq!(
        code("over-the-limit"),
        Some(pb::Code::ResourceExhausted as i32)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_client_certificates() {
    let server_key =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let client_key = rcgen::generate_simple_self_signed(vec!["client".into()]).unwrap();
    let server = start_server(ServerCompatRequest {
        protocol: pb::Protocol::Grpc as i32,
        http_version: pb::HttpVersion::HttpVersion2 as i32,
        use_tls: true,
        client_tls_cert: client_key.cert.pem().into_bytes().into(),
        message_receive_limit: RECEIVE_LIMIT,
        server_creds: Some(pb::TlsCreds {
            cert: server_key.cert.pem().into_bytes().into(),
            key: server_key.signing_key.serialize_pem().into_bytes().into(),
        }),
    })
    .await;
    assert_eq!(
        server.pem_cert,
        Bytes::from(server_key.cert.pem().into_bytes())
    );
    let creds = pb::TlsCreds {
        cert: client_key.cert.pem().into_bytes().into(),
        key: client_key.signing_key.serialize_pem().into_bytes().into(),
    };
    let mut cases = Vec::new();
    let mut expects = HashMap::new();
    for shape in shapes()
        .into_iter()
        .filter(|s| s.compression == pb::Compression::Identity && s.codec == pb::Codec::Proto)
    {
        for (mut c, e) in matrix_cases(shape, &server)
            .into_iter()
            .filter(|(c, _)| c.test_name.ends_with("success"))
        {
            c.test_name = format!("tls/{}", c.test_name);
            c.client_tls_creds = Some(creds.clone());
            expects.insert(c.test_name.clone(), e);
            cases.push(c);
        }
    }
    // Without a client certificate the server refuses the connection.
    let mut refused = cases[0].clone();
    refused.test_name = "tls/no-client-cert".into();
    refused.client_tls_creds = None;
    cases.push(refused);
    let answers = run_client(&cases).await;
    check_all(&answers, &expects);
    let r = result(&answers["tls/no-client-cert"]);
    assert_eq!(
        r.error.as_ref().map(|e| e.code),
        Some(pb::Code::Unavailable as i32),
        "{:?}",
        r.error
    );
}

#[test]
fn request_info_travels_in_the_standard_json_form_of_any() {
    conformance::register_json_types();
    let request = UnaryRequest {
        response_definition: Some(UnaryResponseDefinition {
            response: Some(unary_response_definition::Response::Error(pb::Error {
                code: pb::Code::Internal as i32,
                message: None,
                details: vec![connect_plugin::Any::from_msg_named(
                    "google.protobuf.FileDescriptorProto",
                    &pbjson_types::FileDescriptorProto {
                        name: Some("x.proto".into()),
                        ..Default::default()
                    },
                )],
            })),
            ..Default::default()
        }),
        request_data: data("hi"),
    };
    let payload = pb::ConformancePayload {
        data: Bytes::new(),
        request_info: Some(pb::conformance_payload::RequestInfo {
            requests: vec![pack(&request)],
            ..Default::default()
        }),
    };
    let json = connect_plugin::Codec::Json
        .encode_to_bytes(&payload)
        .expect("every type inside is registered");
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let echoed = &value["requestInfo"]["requests"][0];
    assert_eq!(
        echoed["@type"],
        "type.googleapis.com/connectrpc.conformance.v1.UnaryRequest"
    );
    assert_eq!(echoed["requestData"], "aGk=");
    let detail = &echoed["responseDefinition"]["error"]["details"][0];
    assert_eq!(
        detail["@type"],
        "type.googleapis.com/google.protobuf.FileDescriptorProto"
    );
    assert_eq!(detail["name"], "x.proto");
    let back: pb::ConformancePayload = connect_plugin::Codec::Json.decode(json).unwrap();
    assert_eq!(back, payload);
}
