// connect-es reference server for echo.v1.EchoService (interop peer).
//
// Serves Connect, gRPC and gRPC-Web (proto and JSON) with connect-node on two
// loopback ports, because Node's http2 server speaks only h2c with prior
// knowledge:
//
//   listening on http://127.0.0.1:PORT (http1)
//   listening on http://127.0.0.1:PORT (h2c)
//
// Usage: node server.mjs [--exit-on-stdin-close]
//   --exit-on-stdin-close  exit when stdin reaches EOF (a parent test process
//                          keeps a pipe open, so the server never outlives it).
import * as http from "node:http";
import * as http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { EchoResponseSchema, EchoService } from "./gen/echo/v1/echo_pb.js";

const READ_MAX_BYTES = 4 * 1024 * 1024;

function sleep(ms, signal) {
  if (!ms || ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(ConnectError.from(signal.reason ?? new Error("aborted"), Code.Canceled));
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

// The error a Failure asks for: code from its Connect name, its message, and
// (with_detail) one echo.v1.EchoResponse detail carrying the message.
function failureError(fail) {
  const code = codeFromString(fail.code) ?? Code.Unknown;
  const details = fail.withDetail
    ? [{ desc: EchoResponseSchema, value: { message: fail.message } }]
    : [];
  return new ConnectError(fail.message, code, undefined, details);
}

const impl = {
  async echo(req, ctx) {
    await sleep(req.delayMs, ctx.signal);
    if (req.fail) throw failureError(req.fail);
    return { message: req.message, index: 0, payload: req.payload };
  },
  async *echoServerStream(req, ctx) {
    for (let i = 0; i < req.count; i++) {
      await sleep(req.delayMs, ctx.signal);
      yield { message: req.message, index: i, payload: req.payload };
    }
    if (req.fail) throw failureError(req.fail);
  },
  async echoClientStream(reqs, ctx) {
    const messages = [];
    const payloads = [];
    let last;
    for await (const req of reqs) {
      if (req.fail) throw failureError(req.fail);
      messages.push(req.message);
      payloads.push(req.payload);
      last = req;
    }
    await sleep(last?.delayMs ?? 0, ctx.signal);
    return {
      message: messages.join(","),
      index: messages.length,
      payload: Buffer.concat(payloads.map((p) => Buffer.from(p))),
    };
  },
  async *echoBidi(reqs, ctx) {
    let i = 0;
    for await (const req of reqs) {
      await sleep(req.delayMs, ctx.signal);
      if (req.fail) throw failureError(req.fail);
      yield { message: req.message, index: i++, payload: req.payload };
    }
  },
};

const handler = connectNodeAdapter({
  routes: (router) => router.service(EchoService, impl),
  connect: true,
  grpc: true,
  grpcWeb: true,
  readMaxBytes: READ_MAX_BYTES,
});

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server.address().port));
  });
}

const h1 = http.createServer(handler);
const h2 = http2.createServer({}, handler);
const [p1, p2] = await Promise.all([listen(h1), listen(h2)]);
process.stdout.write(
  `listening on http://127.0.0.1:${p1} (http1)\nlistening on http://127.0.0.1:${p2} (h2c)\n`,
);

function shutdown() {
  h1.closeAllConnections?.();
  h1.close();
  h2.close();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
if (process.argv.includes("--exit-on-stdin-close")) {
  process.stdin.on("end", shutdown);
  process.stdin.on("close", shutdown);
  process.stdin.resume();
}
