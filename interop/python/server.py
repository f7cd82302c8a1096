"""connectrpc (Python) reference server for echo.v1.EchoService (interop peer).

Serves Connect, gRPC and gRPC-Web (proto and JSON) with the generated ASGI
application on Hypercorn, which speaks HTTP/1.1 and h2c (prior knowledge) on
one loopback port, and prints

    listening on http://127.0.0.1:PORT

Usage: .venv/bin/python server.py [--exit-on-stdin-close]
  --exit-on-stdin-close  exit when stdin reaches EOF (a parent test process
                         keeps a pipe open, so the server never outlives it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen"))

from connectrpc.code import Code  # noqa: E402
from connectrpc.errors import ConnectError  # noqa: E402
from hypercorn.asyncio import serve  # noqa: E402
from hypercorn.config import Config  # noqa: E402

from echo.v1.echo_connect import EchoServiceASGIApplication  # noqa: E402
from echo.v1.echo_pb import EchoResponse  # noqa: E402

READ_MAX_BYTES = 4 * 1024 * 1024


def _patch_hypercorn_late_data() -> None:
    """Hypercorn 0.18 raises KeyError, and drops the whole HTTP/2 connection,
    when DATA arrives for a stream it has already answered (an early error, an
    over-limit upload). Acknowledge and drop such data instead, as it already
    does for a late END_STREAM."""
    import h2.events
    from hypercorn.protocol.h2 import H2Protocol

    original = H2Protocol._handle_events

    async def handle_events(self, events):
        # One event at a time: a stream appears in self.streams only once its
        # RequestReceived (often in the same batch as its DATA) is handled.
        for event in events:
            if isinstance(event, h2.events.DataReceived) and event.stream_id not in self.streams:
                self.connection.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            else:
                await original(self, [event])
        await original(self, [])  # flushes

    H2Protocol._handle_events = handle_events


_patch_hypercorn_late_data()


def failure_error(fail) -> ConnectError:
    """The error a Failure asks for, with one EchoResponse detail if with_detail."""
    try:
        code = Code(fail.code)
    except ValueError:
        code = Code.UNKNOWN
    details = [EchoResponse(message=fail.message)] if fail.with_detail else []
    return ConnectError(code, fail.message, details)


async def delay(ms: int) -> None:
    if ms > 0:
        await asyncio.sleep(ms / 1000.0)


class Echo:
    async def echo(self, request, ctx):
        await delay(request.delay_ms)
        if request.fail is not None:
            raise failure_error(request.fail)
        return EchoResponse(message=request.message, index=0, payload=request.payload)

    async def echo_server_stream(self, request, ctx):
        for i in range(request.count):
            await delay(request.delay_ms)
            yield EchoResponse(message=request.message, index=i, payload=request.payload)
        if request.fail is not None:
            raise failure_error(request.fail)

    async def echo_client_stream(self, requests, ctx):
        messages = []
        payloads = []
        last = None
        async for req in requests:
            if req.fail is not None:
                raise failure_error(req.fail)
            messages.append(req.message)
            payloads.append(req.payload)
            last = req
        await delay(last.delay_ms if last is not None else 0)
        return EchoResponse(
            message=",".join(messages), index=len(messages), payload=b"".join(payloads)
        )

    async def echo_bidi(self, requests, ctx):
        i = 0
        async for req in requests:
            await delay(req.delay_ms)
            if req.fail is not None:
                raise failure_error(req.fail)
            yield EchoResponse(message=req.message, index=i, payload=req.payload)
            i += 1


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--exit-on-stdin-close", action="store_true")
    args = parser.parse_args()

    app = EchoServiceASGIApplication(Echo(), read_max_bytes=READ_MAX_BYTES)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]

    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.accesslog = None
    config.errorlog = "-"
    config.loglevel = "WARNING"
    config.graceful_timeout = 1.0

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    # asyncio (3.11) logs a CancelledError for every connection Hypercorn
    # cancels (a client gone mid-request); that is routine here.
    def on_loop_error(loop, context):
        if not isinstance(context.get("exception"), asyncio.CancelledError):
            loop.default_exception_handler(context)

    loop.set_exception_handler(on_loop_error)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.exit_on_stdin_close:

        def wait_for_eof() -> None:
            sys.stdin.buffer.read()
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=wait_for_eof, daemon=True).start()

    # The socket already listens: connections made right after this line wait
    # in the backlog until Hypercorn accepts them.
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    await serve(app, config, shutdown_trigger=stop.wait)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    os._exit(0)
