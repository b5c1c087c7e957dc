"""A local HTTP server standing in for another podcast host: files by path, byte ranges, and
faults scripted per path (404, 500 then success, slow answers, bodies cut short, redirects),
with every request counted so tests can prove what was (not) downloaded again. It also stands
in for the services a publish pings (WebSub hubs, Podping): every request is recorded whole,
and a POST is answered like a GET of its path (204 unless a fault says otherwise)."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit


@dataclass
class Fault:
    """What the next request for a path gets instead of (or before) the file."""

    status: int | None = None  # an error status, e.g. 404 or 500
    delay_s: float = 0.0  # wait before answering
    cut_at: int | None = None  # send only this many bytes of the body, then drop the line
    location: str | None = None  # a redirect (301) to this path


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8"))


@dataclass
class Host:
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    faults: dict[str, list[Fault]] = field(default_factory=lambda: defaultdict(list))
    requests: Counter = field(default_factory=Counter)
    ranges: list[tuple[str, str]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str, data: bytes, content_type: str) -> None:
        self.files[path] = (data, content_type)

    def fail(self, path: str, *faults: Fault) -> None:
        """Faults answered in order, one per request; then the file as usual."""
        self.faults[path].extend(faults)


class _Handler(BaseHTTPRequestHandler):
    host: Host
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.host.lock:
            self.host.received.append(Received(
                self.command, path, parse_qs(urlsplit(self.path).query),
                dict(self.headers.items()), body))
            self.host.requests[path] += 1
            if self.headers.get("Range"):
                self.host.ranges.append((path, self.headers["Range"]))
            faults = self.host.faults.get(path)
            fault = faults.pop(0) if faults else Fault()
        if fault.delay_s:
            time.sleep(fault.delay_s)
        if fault.location:
            self.send_response(301)
            self.send_header("Location", fault.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.command == "POST" and not fault.status:
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if fault.status or path not in self.host.files:
            body = b"<html>gone</html>"
            self.send_response(fault.status or 404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        data, ctype = self.host.files[path]
        start = 0
        m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        if m and int(m.group(1)) < len(data):
            start = int(m.group(1))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if fault.cut_at is not None:
            self.wfile.write(body[:fault.cut_at])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


class FeedServer:
    """`with FeedServer() as server:` serves `server.host` at `server.url(path)`."""

    def __init__(self) -> None:
        self.host = Host()
        handler = type("Handler", (_Handler,), {"host": self.host})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
