"""A loopback HTTP server base for the vendor API mocks (stdlib only).

Binds 127.0.0.1 on a free port, serves from a background thread, records every request and refuses
anything that looks like a proxy request: `CONNECT host:443` or an absolute-URI request line
(`GET http://host/...`). The CLIs under test get HTTP(S)_PROXY pointed at this server, so every
connection that would have left the machine lands here, is answered 403 and counted.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

M = TypeVar("M", bound="LoopbackMock")


@dataclass
class Recorded:
    """One request as the mock received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    status: int = 0

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Response:
    """What a route returns: status, headers and the complete body (sent with Content-Length)."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    # Send body[:stall_at], then wait until `resume` is set (or the client hangs up) before the rest: a
    # server that stalls mid-stream, e.g. before the first content block. `stalled` is set while it waits.
    stall_at: int | None = None
    resume: threading.Event | None = None
    stalled: threading.Event | None = None


def json_response(status: int, obj: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(obj).encode(), dict(headers or {}))


class LoopbackMock:
    """Base class: subclasses implement `route(recorded) -> Response`; everything else is shared."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []  # every request, proxy attempts and 404s included
        self.proxy_attempts: list[Recorded] = []
        self.unknown: list[Recorded] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self: M) -> M:
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                mock._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle
            do_CONNECT = _handle

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self: M) -> M:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "mock not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- request handling --------------------------------------------------------------------
    def route(self, rec: Recorded) -> Response:
        raise NotImplementedError

    def not_found(self, rec: Recorded) -> Response:
        with self.lock:
            self.unknown.append(rec)
        return json_response(
            404, {"type": "error", "error": {"type": "not_found_error", "message": rec.path}}
        )

    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length > 0 else b""
        rec = Recorded(h.command, h.path, {k.lower(): v for k, v in h.headers.items()}, body)
        with self.lock:
            self.requests.append(rec)
        if h.command == "CONNECT" or not h.path.startswith("/"):
            with self.lock:
                self.proxy_attempts.append(rec)
            resp = json_response(403, {"error": "e2e mock: connections must stay on loopback"})
            resp.headers["Connection"] = "close"
        else:
            try:
                resp = self.route(rec)
            except Exception as exc:  # noqa: BLE001 - report the mock's own bug to the client
                resp = json_response(
                    500, {"type": "error", "error": {"type": "api_error", "message": repr(exc)}}
                )
        rec.status = resp.status
        h.send_response(resp.status)
        h.send_header("Content-Type", resp.content_type)
        h.send_header("Content-Length", str(len(resp.body)))
        for key, value in resp.headers.items():
            h.send_header(key, value)
        h.end_headers()
        if h.command != "HEAD" and resp.stall_at is not None and resp.resume is not None:
            h.wfile.write(resp.body[: resp.stall_at])
            h.wfile.flush()
            if resp.stalled is not None:
                resp.stalled.set()
            resp.resume.wait(120)
            try:
                h.wfile.write(resp.body[resp.stall_at :])
            except OSError:  # the client hung up while we stalled (an abort): nothing more to send
                h.close_connection = True
                return
        elif h.command != "HEAD":
            h.wfile.write(resp.body)
        h.wfile.flush()
        if resp.headers.get("Connection") == "close":
            h.close_connection = True

    # -- assertions helpers -------------------------------------------------------------------
    def leaks(self) -> list[str]:
        """Request lines of proxy attempts, for an assertion message."""
        return [f"{r.method} {r.path}" for r in self.proxy_attempts]
