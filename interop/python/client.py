"""connectrpc (Python) client suite for echo.v1.EchoService (interop peer).

Runs every case against one echo server with one protocol, codec and HTTP
version, and prints one line per case:

    PASS name [(note)]
    FAIL name: reason
    SKIP name: reason

then `summary: N passed, N failed, N skipped`. Exits 1 if any case failed.

Usage:
    .venv/bin/python client.py --url http://127.0.0.1:PORT
        [--protocol connect|grpc|grpcweb] [--codec proto|json] [--http 1.1|2]
        [--only case1,case2] [--strict-upload]

payload_over_limit asserts resource_exhausted wherever the server can answer.
Over HTTP/1.1 a server may instead close the connection while the client is
still uploading (connect-node does; see shared/peers/INTEROP-NOTES.md), and the
client then sees only a broken pipe: that is reported as SKIP with the error
seen, or as FAIL with --strict-upload.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen"))

import pyqwest  # noqa: E402
from connectrpc.client import ResponseMetadata  # noqa: E402
from connectrpc.code import Code  # noqa: E402
from connectrpc.codec import proto_json_codec  # noqa: E402
from connectrpc.compression.gzip import GzipCompression  # noqa: E402
from connectrpc.errors import ConnectError  # noqa: E402
from connectrpc.protocol import ProtocolType  # noqa: E402

from echo.v1.echo_connect import EchoServiceClient  # noqa: E402
from echo.v1.echo_pb import EchoRequest, EchoResponse, Failure  # noqa: E402

MAX = 4 * 1024 * 1024
CASE_TIMEOUT_S = 20.0
ERROR_CODES = ["not_found", "invalid_argument", "unavailable", "internal", "permission_denied"]
PROTOCOLS = {
    "connect": ProtocolType.CONNECT,
    "grpc": ProtocolType.GRPC,
    "grpcweb": ProtocolType.GRPC_WEB,
}

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--url", required=True)
parser.add_argument("--protocol", choices=sorted(PROTOCOLS), default="connect")
parser.add_argument("--codec", choices=["proto", "json"], default="proto")
parser.add_argument("--http", choices=["1.1", "2"], default="2")
parser.add_argument("--only")
parser.add_argument("--strict-upload", action="store_true")
args = parser.parse_args()
HTTP1 = args.http == "1.1"


def http_client() -> pyqwest.Client:
    """A new pyqwest client, so a new connection pool."""
    version = pyqwest.HTTPVersion.HTTP1 if HTTP1 else pyqwest.HTTPVersion.HTTP2
    return pyqwest.Client(pyqwest.HTTPTransport(http_version=version))


def make_client(*, gzip: bool = False, own_connection: bool = False) -> EchoServiceClient:
    return EchoServiceClient(
        args.url,
        protocol=PROTOCOLS[args.protocol],
        codec=proto_json_codec() if args.codec == "json" else None,
        send_compression=GzipCompression() if gzip else None,
        accept_compression=[GzipCompression()] if gzip else [],
        http_client=http_client() if own_connection else SHARED_HTTP,
    )


SHARED_HTTP = http_client()
client = make_client()


# ----------------------------------------------------------------- helpers


class CaseFailed(Exception):
    pass


class CaseSkipped(Exception):
    pass


def eq(actual, expected, what: str) -> None:
    if actual != expected:
        raise CaseFailed(f"{what}: got {actual!r}, want {expected!r}")


def bytes_eq(actual: bytes, expected: bytes, what: str) -> None:
    if len(actual) != len(expected):
        raise CaseFailed(f"{what}: got {len(actual)} bytes, want {len(expected)}")
    if actual != expected:
        raise CaseFailed(f"{what}: {len(actual)} bytes differ in content")


def describe(err: BaseException) -> str:
    if isinstance(err, ConnectError):
        return f"{err.code.value}: {err.message}"
    return f"{type(err).__name__}: {err}"


def check_error(err: BaseException, code: str, message: str | None = None, with_detail: bool = False) -> None:
    """Checks a ConnectError against the code, message and (optionally) the one
    echo.v1.EchoResponse detail a Failure asks for."""
    if not isinstance(err, ConnectError):
        raise CaseFailed(f"not a ConnectError: {describe(err)}")
    eq(err.code.value, code, f"code (message {err.message!r})")
    if message is not None:
        eq(err.message, message, "error message")
    if with_detail:
        eq(len(err.details), 1, "number of error details")
        eq(err.details[0].type_name, "echo.v1.EchoResponse", "detail type")
        detail = err.details[0].value(EchoResponse)
        if detail is None:
            raise CaseFailed("detail does not decode as echo.v1.EchoResponse")
        eq(detail.message, message, "detail message")


async def expect_error(awaitable, code: str, message: str | None = None, with_detail: bool = False) -> ConnectError:
    try:
        result = await awaitable
    except ConnectError as err:
        check_error(err, code, message, with_detail)
        return err
    raise CaseFailed(f"expected error {code}, got success {getattr(result, 'message', result)!r}")


async def collect(stream) -> list[EchoResponse]:
    return [res async for res in stream]


def check_stream(got: list[EchoResponse], message: str, count: int) -> None:
    eq(len(got), count, "number of responses")
    for i, res in enumerate(got):
        eq(res.message, message, f"response {i} message")
        eq(res.index, i, f"response {i} index")


async def requests(items):
    for item in items:
        yield item


class Queue:
    """An async iterator fed by push(); close() ends it. Lets a bidi call send
    one request, read one response, and so on."""

    _END = object()

    def __init__(self) -> None:
        self._q: asyncio.Queue = asyncio.Queue()

    def push(self, item) -> None:
        self._q.put_nowait(item)

    def close(self) -> None:
        self._q.put_nowait(self._END)

    def __aiter__(self):
        return self

    async def __anext__(self):
        item = await self._q.get()
        if item is self._END:
            raise StopAsyncIteration
        return item


def near_limit_payload_size() -> int:
    # The limit applies to the encoded message; JSON carries bytes as base64
    # (4 chars per 3 bytes), so JSON gets 3/4 of the raw size.
    target = MAX - 64 * 1024
    return (target // 4) * 3 if args.codec == "json" else target


def compressible(size: int) -> bytes:
    unit = b"connect-plugin interop: the quick brown fox jumps over the lazy dog. "
    return (unit * (size // len(unit) + 1))[:size]


# ----------------------------------------------------------------- cases

CASES: list[tuple[str, object, object]] = []


def case(name: str, skip=None):
    def register(fn):
        CASES.append((name, fn, skip))
        return fn

    return register


def only_http2() -> str | None:
    return "bidi streaming needs HTTP/2 (not over HTTP/1.1)" if HTTP1 else None


@case("unary")
async def _unary():
    res = await client.echo(EchoRequest(message="hello"))
    eq(res.message, "hello", "message")
    eq(res.index, 0, "index")
    eq(len(res.payload), 0, "payload length")


@case("unary_unicode")
async def _unary_unicode():
    message = 'héllo, 世界 🌍 "quoted" \\ back\nslash'
    res = await client.echo(EchoRequest(message=message))
    eq(res.message, message, "message")


@case("unary_empty")
async def _unary_empty():
    res = await client.echo(EchoRequest())
    eq(res.message, "", "message")
    eq(res.index, 0, "index")
    eq(len(res.payload), 0, "payload length")


@case("unary_get", skip=lambda: None if args.protocol == "connect" else "HTTP GET exists only in the Connect protocol")
async def _unary_get():
    res = await client.echo(EchoRequest(message="via get"), use_get=True)
    eq(res.message, "via get", "message")


@case("unary_gzip")
async def _unary_gzip():
    gz = make_client(gzip=True)
    payload = compressible(100 * 1024)
    with ResponseMetadata() as meta:
        res = await gz.echo(EchoRequest(message="zipped", payload=payload))
    eq(res.message, "zipped", "message")
    bytes_eq(res.payload, payload, "payload")
    header = "grpc-encoding" if args.protocol != "connect" else "content-encoding"
    # pyqwest undoes HTTP content-encoding itself and may drop the header.
    return f"response {header}: {meta.headers.get(header) or 'not visible'}"


@case("server_stream_gzip")
async def _server_stream_gzip():
    gz = make_client(gzip=True)
    payload = compressible(32 * 1024)
    got = await collect(gz.echo_server_stream(EchoRequest(message="zs", count=3, payload=payload)))
    check_stream(got, "zs", 3)
    for i, res in enumerate(got):
        bytes_eq(res.payload, payload, f"response {i} payload")


def _error_case(code: str):
    async def run():
        message = f"boom: {code}"
        await expect_error(
            client.echo(EchoRequest(message="x", fail=Failure(code=code, message=message, with_detail=True))),
            code,
            message,
            True,
        )

    return run


for _code in ERROR_CODES:
    case(f"error_{_code}")(_error_case(_code))


@case("error_without_detail")
async def _error_without_detail():
    err = await expect_error(
        client.echo(EchoRequest(message="x", fail=Failure(code="aborted", message="no details"))),
        "aborted",
        "no details",
    )
    eq(len(err.details), 0, "number of error details")


@case("deadline")
async def _deadline():
    start = time.monotonic()
    await expect_error(client.echo(EchoRequest(message="slow", delay_ms=2000), timeout_ms=200), "deadline_exceeded")
    elapsed = int((time.monotonic() - start) * 1000)
    if elapsed >= 1500:
        raise CaseFailed(f"took {elapsed} ms, want well under 2000 ms")
    return f"{elapsed} ms"


@case("payload_near_limit")
async def _payload_near_limit():
    payload = os.urandom(near_limit_payload_size())
    res = await client.echo(EchoRequest(message="big", payload=payload))
    eq(res.message, "big", "message")
    bytes_eq(res.payload, payload, "payload")
    return f"{len(payload)} payload bytes"


@case("server_stream")
async def _server_stream():
    check_stream(await collect(client.echo_server_stream(EchoRequest(message="s", count=5))), "s", 5)


@case("server_stream_error")
async def _server_stream_error():
    got: list[EchoResponse] = []
    message = "stream failed"

    async def run():
        req = EchoRequest(
            message="s", count=5, fail=Failure(code="failed_precondition", message=message, with_detail=True)
        )
        async for res in client.echo_server_stream(req):
            got.append(res)

    await expect_error(run(), "failed_precondition", message, True)
    check_stream(got, "s", 5)


@case("client_stream")
async def _client_stream():
    res = await client.echo_client_stream(
        requests(
            [
                EchoRequest(message="a", payload=b"\x01\x02"),
                EchoRequest(message="b", payload=b"\x03"),
                EchoRequest(message="c", payload=b"\x04\x05"),
            ]
        )
    )
    eq(res.message, "a,b,c", "message")
    eq(res.index, 3, "index")
    bytes_eq(res.payload, b"\x01\x02\x03\x04\x05", "payload")


@case("client_stream_error")
async def _client_stream_error():
    message = "bad request b"
    items = [
        EchoRequest(message="a"),
        EchoRequest(message="b", fail=Failure(code="invalid_argument", message=message, with_detail=True)),
    ]
    # Over HTTP/2 a request follows the failing one: the server answers without
    # waiting for the end of the stream. Over HTTP/1.1 the failing request comes
    # last, since a server that answers early may close the connection while
    # the client is still writing, a race no HTTP/1.1 client can win.
    if not HTTP1:
        items.append(EchoRequest(message="c"))
    await expect_error(client.echo_client_stream(requests(items)), "invalid_argument", message, True)


@case("bidi", skip=only_http2)
async def _bidi():
    q = Queue()
    responses = aiter(client.echo_bidi(q))
    for i in range(5):
        q.push(EchoRequest(message=f"m{i}"))
        try:
            res = await anext(responses)
        except StopAsyncIteration:
            raise CaseFailed(f"stream ended after {i} responses") from None
        eq(res.message, f"m{i}", f"response {i} message")
        eq(res.index, i, f"response {i} index")
    q.close()
    try:
        extra = await anext(responses)
    except StopAsyncIteration:
        return
    raise CaseFailed(f"stream did not end after the requests did: got {extra!r}")


@case("bidi_error", skip=only_http2)
async def _bidi_error():
    q = Queue()
    responses = aiter(client.echo_bidi(q))
    q.push(EchoRequest(message="first"))
    first = await anext(responses)
    eq(first.message, "first", "first response message")
    message = "bidi failed"
    q.push(EchoRequest(message="second", fail=Failure(code="unavailable", message=message, with_detail=True)))
    await expect_error(anext(responses), "unavailable", message, True)
    q.close()


@case("payload_over_limit")
async def _payload_over_limit():
    # Its own connection: a server may close the connection on an over-limit
    # upload, which must not break the cases after it. Runs last for the same
    # reason.
    own = make_client(own_connection=True)
    payload = os.urandom(MAX + 1024)
    try:
        res = await own.echo(EchoRequest(message="too big", payload=payload))
    except ConnectError as err:
        if err.code == Code.RESOURCE_EXHAUSTED:
            return None
        # The transport's own errors: the connection broke while the client
        # was still uploading, so it never saw the answer.
        if HTTP1 and err.code in (Code.UNAVAILABLE, Code.INTERNAL, Code.UNKNOWN):
            what = (
                "the server closed the connection during the over-limit HTTP/1.1 upload, so the "
                f"client never saw its answer (client saw {describe(err)})"
            )
            if not args.strict_upload:
                raise CaseSkipped(f"{what}; --strict-upload makes this a failure") from None
            raise CaseFailed(
                f"{what}; a server that answers and then drains the rest of the body (or closes "
                "lingeringly) lets HTTP/1.1 clients see resource_exhausted"
            ) from None
        check_error(err, "resource_exhausted")
        raise
    raise CaseFailed(f"expected resource_exhausted, got success ({len(res.payload)} payload bytes)")


# ----------------------------------------------------------------- runner


async def main() -> int:
    only = set(args.only.split(",")) if args.only else None
    passed = failed = skipped = 0
    for name, fn, skip in CASES:
        if only is not None and name not in only:
            continue
        reason = skip() if skip else None
        if reason:
            print(f"SKIP {name}: {reason}", flush=True)
            skipped += 1
            continue
        try:
            note = await asyncio.wait_for(fn(), CASE_TIMEOUT_S)
        except CaseSkipped as err:
            print(f"SKIP {name}: {err}", flush=True)
            skipped += 1
        except CaseFailed as err:
            print(f"FAIL {name}: {str(err).replace(chr(10), ' | ')}", flush=True)
            failed += 1
        except TimeoutError:
            print(f"FAIL {name}: timed out after {CASE_TIMEOUT_S:.0f} s", flush=True)
            failed += 1
        except Exception as err:  # noqa: BLE001
            print(f"FAIL {name}: unexpected error {describe(err)}".replace("\n", " | "), flush=True)
            failed += 1
        else:
            print(f"PASS {name} ({note})" if note else f"PASS {name}", flush=True)
            passed += 1
    print(f"summary: {passed} passed, {failed} failed, {skipped} skipped", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    code = asyncio.run(main())
    sys.stdout.flush()
    os._exit(code)
