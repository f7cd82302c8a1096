// connect-es client suite for echo.v1.EchoService (interop peer).
//
// Runs every case against one echo server with one protocol, codec and HTTP
// version, and prints one line per case:
//
//   PASS name [(note)]
//   FAIL name: reason
//   SKIP name: reason
//
// then `summary: N passed, N failed, N skipped`. Exits 1 if any case failed.
//
// Usage:
//   node client.mjs --url http://127.0.0.1:PORT [--protocol connect|grpc|grpcweb]
//       [--codec proto|json] [--http 1.1|2] [--only case1,case2]
//       [--strict-upload]
//
// payload_over_limit asserts resource_exhausted wherever the server can answer.
// Over HTTP/1.1 a server may instead close the connection while the client is
// still uploading (connect-node does; see shared/peers/INTEROP-NOTES.md), and
// the client then sees only a broken pipe: that is reported as SKIP with the
// error seen, or as FAIL with --strict-upload.
import { randomBytes } from "node:crypto";
import * as http from "node:http";
import { parseArgs } from "node:util";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import {
  compressionGzip,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { EchoResponseSchema, EchoService } from "./gen/echo/v1/echo_pb.js";

const MAX = 4 * 1024 * 1024;
const CASE_TIMEOUT_MS = 20_000;
const ERROR_CODES = ["not_found", "invalid_argument", "unavailable", "internal", "permission_denied"];

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    protocol: { type: "string", default: "connect" },
    codec: { type: "string", default: "proto" },
    http: { type: "string", default: "2" },
    only: { type: "string" },
    "strict-upload": { type: "boolean", default: false },
  },
});
if (!args.url) usage("--url is required");
if (!["connect", "grpc", "grpcweb"].includes(args.protocol)) usage(`bad --protocol ${args.protocol}`);
if (!["proto", "json"].includes(args.codec)) usage(`bad --codec ${args.codec}`);
if (!["1.1", "2"].includes(args.http)) usage(`bad --http ${args.http}`);
const http1 = args.http === "1.1";

function usage(msg) {
  process.stderr.write(
    `${msg}\nusage: node client.mjs --url URL [--protocol connect|grpc|grpcweb] [--codec proto|json] [--http 1.1|2] [--only a,b] [--strict-upload]\n`,
  );
  process.exit(2);
}

function makeTransport(extra = {}) {
  const options = {
    baseUrl: args.url,
    httpVersion: args.http,
    useBinaryFormat: args.codec === "proto",
    ...extra,
  };
  switch (args.protocol) {
    case "connect":
      return createConnectTransport(options);
    case "grpc":
      return createGrpcTransport(options);
    case "grpcweb":
      return createGrpcWebTransport(options);
  }
}

const client = createClient(EchoService, makeTransport());

// ---------------------------------------------------------------- helpers

function fail(msg) {
  throw new Error(msg);
}

function eq(actual, expected, what) {
  if (actual !== expected) {
    fail(`${what}: got ${JSON.stringify(actual)}, want ${JSON.stringify(expected)}`);
  }
}

function bytesEq(actual, expected, what) {
  const a = Buffer.from(actual ?? []);
  const b = Buffer.from(expected);
  if (a.length !== b.length) fail(`${what}: got ${a.length} bytes, want ${b.length}`);
  if (!a.equals(b)) fail(`${what}: ${a.length} bytes differ in content`);
}

function describe(err) {
  if (err instanceof ConnectError) return `${codeToString(err.code)}: ${err.rawMessage}`;
  return String(err?.stack ?? err);
}

// Checks a ConnectError against the code, message and (optionally) the one
// echo.v1.EchoResponse detail a Failure asks for.
function checkError(err, code, message, withDetail) {
  if (!(err instanceof ConnectError)) fail(`not a ConnectError: ${describe(err)}`);
  eq(codeToString(err.code), code, `code (message ${JSON.stringify(err.rawMessage)})`);
  if (message !== undefined) eq(err.rawMessage, message, "error message");
  if (withDetail) {
    eq(err.details.length, 1, "number of error details");
    eq(err.details[0].type, "echo.v1.EchoResponse", "detail type");
    const found = err.findDetails(EchoResponseSchema);
    eq(found.length, 1, "decodable echo.v1.EchoResponse details");
    eq(found[0].message, message, "detail message");
  }
}

async function expectError(promise, code, message, withDetail) {
  let result;
  try {
    result = await promise;
  } catch (err) {
    checkError(err, code, message, withDetail);
    return err;
  }
  fail(`expected error ${code}, got success ${JSON.stringify(result?.message)}`);
}

async function collect(stream) {
  const out = [];
  for await (const res of stream) out.push(res);
  return out;
}

function checkStream(got, message, count) {
  eq(got.length, count, "number of responses");
  got.forEach((res, i) => {
    eq(res.message, message, `response ${i} message`);
    eq(res.index, i, `response ${i} index`);
  });
}

// An async iterable fed by push(); close() ends it. Lets a bidi call send one
// request, read one response, and so on.
function queue() {
  const items = [];
  let wake;
  let closed = false;
  async function* iterate() {
    for (;;) {
      if (items.length) {
        yield items.shift();
        continue;
      }
      if (closed) return;
      await new Promise((resolve) => (wake = resolve));
    }
  }
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  return {
    iterable: iterate(),
    push(item) {
      items.push(item);
      notify();
    },
    close() {
      closed = true;
      notify();
    },
  };
}

async function* requests(list) {
  for (const r of list) yield r;
}

// Payload sizes: the limit applies to the encoded message, and JSON carries
// bytes as base64 (4 chars per 3 bytes), so JSON gets 3/4 of the raw size.
function nearLimitPayloadSize() {
  const target = MAX - 64 * 1024;
  return args.codec === "json" ? Math.floor(target / 4) * 3 : target;
}

function compressible(size) {
  const unit = Buffer.from("connect-plugin interop: the quick brown fox jumps over the lazy dog. ");
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += unit.length) unit.copy(out, i);
  return out;
}

// ---------------------------------------------------------------- cases

const cases = [];
function test(name, run, skip) {
  cases.push({ name, run, skip });
}
const onlyHttp2 = () => (http1 ? "bidi streaming needs HTTP/2 (connect-es refuses it over HTTP/1.1)" : null);

test("unary", async () => {
  const res = await client.echo({ message: "hello" });
  eq(res.message, "hello", "message");
  eq(res.index, 0, "index");
  eq(res.payload.length, 0, "payload length");
});

test("unary_unicode", async () => {
  const message = "héllo, 世界 🌍 \"quoted\" \\ back\nslash";
  const res = await client.echo({ message });
  eq(res.message, message, "message");
});

test("unary_empty", async () => {
  const res = await client.echo({});
  eq(res.message, "", "message");
  eq(res.index, 0, "index");
  eq(res.payload.length, 0, "payload length");
});

test(
  "unary_get",
  async () => {
    const getClient = createClient(EchoService, makeTransport({ useHttpGet: true }));
    const res = await getClient.echo({ message: "via get" });
    eq(res.message, "via get", "message");
  },
  () => (args.protocol !== "connect" ? "HTTP GET exists only in the Connect protocol" : null),
);

test("unary_gzip", async () => {
  let encoding = null;
  const header = args.protocol === "connect" ? "content-encoding" : "grpc-encoding";
  const gzipClient = createClient(
    EchoService,
    makeTransport({
      sendCompression: compressionGzip,
      acceptCompression: [compressionGzip],
      interceptors: [
        (next) => async (req) => {
          const res = await next(req);
          encoding = res.header.get(header);
          return res;
        },
      ],
    }),
  );
  const payload = compressible(100 * 1024);
  const res = await gzipClient.echo({ message: "zipped", payload });
  eq(res.message, "zipped", "message");
  bytesEq(res.payload, payload, "payload");
  return `response ${header}: ${encoding ?? "none"}`;
});

test("server_stream_gzip", async () => {
  const gzipClient = createClient(
    EchoService,
    makeTransport({ sendCompression: compressionGzip, acceptCompression: [compressionGzip] }),
  );
  const payload = compressible(32 * 1024);
  const got = await collect(gzipClient.echoServerStream({ message: "zs", count: 3, payload }));
  checkStream(got, "zs", 3);
  got.forEach((res, i) => bytesEq(res.payload, payload, `response ${i} payload`));
});

for (const code of ERROR_CODES) {
  test(`error_${code}`, async () => {
    const message = `boom: ${code}`;
    await expectError(
      client.echo({ message: "x", fail: { code, message, withDetail: true } }),
      code,
      message,
      true,
    );
  });
}

test("error_without_detail", async () => {
  const err = await expectError(
    client.echo({ message: "x", fail: { code: "aborted", message: "no details" } }),
    "aborted",
    "no details",
    false,
  );
  eq(err.details.length, 0, "number of error details");
});

test("deadline", async () => {
  const start = Date.now();
  await expectError(
    client.echo({ message: "slow", delayMs: 2000 }, { timeoutMs: 200 }),
    "deadline_exceeded",
  );
  const elapsed = Date.now() - start;
  if (elapsed >= 1500) fail(`took ${elapsed} ms, want well under 2000 ms`);
  return `${elapsed} ms`;
});

test("payload_near_limit", async () => {
  const payload = randomBytes(nearLimitPayloadSize());
  const res = await client.echo({ message: "big", payload });
  eq(res.message, "big", "message");
  bytesEq(res.payload, payload, "payload");
  return `${payload.length} payload bytes`;
});

test("server_stream", async () => {
  checkStream(await collect(client.echoServerStream({ message: "s", count: 5 })), "s", 5);
});

test("server_stream_error", async () => {
  const got = [];
  const message = "stream failed";
  await expectError(
    (async () => {
      for await (const res of client.echoServerStream({
        message: "s",
        count: 5,
        fail: { code: "failed_precondition", message, withDetail: true },
      })) {
        got.push(res);
      }
    })(),
    "failed_precondition",
    message,
    true,
  );
  checkStream(got, "s", 5);
});

test("client_stream", async () => {
  const res = await client.echoClientStream(
    requests([
      { message: "a", payload: Uint8Array.of(1, 2) },
      { message: "b", payload: Uint8Array.of(3) },
      { message: "c", payload: Uint8Array.of(4, 5) },
    ]),
  );
  eq(res.message, "a,b,c", "message");
  eq(res.index, 3, "index");
  bytesEq(res.payload, [1, 2, 3, 4, 5], "payload");
});

test("client_stream_error", async () => {
  const message = "bad request b";
  const list = [
    { message: "a" },
    { message: "b", fail: { code: "invalid_argument", message, withDetail: true } },
  ];
  // Over HTTP/2 a request follows the failing one: the server answers without
  // waiting for the end of the stream. Over HTTP/1.1 the failing request comes
  // last, since a server that answers early may close the connection while
  // the client is still writing (EPIPE), a race no HTTP/1.1 client can win.
  if (!http1) list.push({ message: "c" });
  await expectError(client.echoClientStream(requests(list)), "invalid_argument", message, true);
});

test(
  "bidi",
  async () => {
    const q = queue();
    const responses = client.echoBidi(q.iterable)[Symbol.asyncIterator]();
    for (let i = 0; i < 5; i++) {
      q.push({ message: `m${i}` });
      const { value, done } = await responses.next();
      if (done) fail(`stream ended after ${i} responses`);
      eq(value.message, `m${i}`, `response ${i} message`);
      eq(value.index, i, `response ${i} index`);
    }
    q.close();
    const end = await responses.next();
    eq(end.done, true, "stream ended after the requests did");
  },
  onlyHttp2,
);

test(
  "bidi_error",
  async () => {
    const q = queue();
    const responses = client.echoBidi(q.iterable)[Symbol.asyncIterator]();
    q.push({ message: "first" });
    const first = await responses.next();
    eq(first.value?.message, "first", "first response message");
    const message = "bidi failed";
    q.push({ message: "second", fail: { code: "unavailable", message, withDetail: true } });
    await expectError(responses.next(), "unavailable", message, true);
    q.close();
  },
  onlyHttp2,
);

test("payload_over_limit", async () => {
  // Its own connection: a server may close the connection on an over-limit
  // upload, which must not break the cases after it. Runs last for the same
  // reason.
  const own = createClient(
    EchoService,
    makeTransport(http1 ? { nodeOptions: { agent: new http.Agent({ keepAlive: false }) } } : {}),
  );
  const payload = randomBytes(MAX + 1024);
  try {
    const res = await own.echo({ message: "too big", payload });
    fail(`expected resource_exhausted, got success (${res.payload.length} payload bytes)`);
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.ResourceExhausted) return;
    // A client-side error (not read from the wire): the connection broke
    // while the client was still uploading, so it never saw the answer.
    const cut = http1 && err instanceof ConnectError && err.isWireError !== true;
    if (cut) {
      const what =
        `the server closed the connection during the over-limit HTTP/1.1 upload, so the client never saw its answer (client saw ${describe(err)})`;
      if (!args["strict-upload"]) return { skip: `${what}; --strict-upload makes this a failure` };
      fail(`${what}; a server that answers and then drains the rest of the body (or closes lingeringly) lets HTTP/1.1 clients see resource_exhausted`);
    }
    if (err instanceof ConnectError) checkError(err, "resource_exhausted");
    throw err;
  }
});

// ---------------------------------------------------------------- runner

const only = args.only ? new Set(args.only.split(",")) : null;
let passed = 0;
let failed = 0;
let skipped = 0;
for (const c of cases) {
  if (only && !only.has(c.name)) continue;
  const skipReason = c.skip?.();
  if (skipReason) {
    console.log(`SKIP ${c.name}: ${skipReason}`);
    skipped++;
    continue;
  }
  let timer;
  try {
    const note = await Promise.race([
      c.run(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${CASE_TIMEOUT_MS} ms`)), CASE_TIMEOUT_MS);
      }),
    ]);
    if (note && typeof note === "object" && note.skip) {
      console.log(`SKIP ${c.name}: ${note.skip}`);
      skipped++;
    } else {
      console.log(note ? `PASS ${c.name} (${note})` : `PASS ${c.name}`);
      passed++;
    }
  } catch (err) {
    const reason = err instanceof ConnectError ? `unexpected error ${describe(err)}` : (err?.message ?? String(err));
    console.log(`FAIL ${c.name}: ${reason.replace(/\n/g, " | ")}`);
    failed++;
  } finally {
    clearTimeout(timer);
  }
}
console.log(`summary: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
