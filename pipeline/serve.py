"""`publish serve`: the local storage over HTTP, so a producer can subscribe in a real app.

Apps need what Apple asks of hosts: HEAD and byte-range requests (206 Partial Content) for
seeking and resuming. Feeds are re-rendered per request with the server's own URL as
base_url, so every enclosure, chapters and transcript link points back here; the published
feed in the folder, with the CDN's URLs, is left untouched.
"""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from .errors import PublishError
from .feed.render import render_feed
from .project.config import FeedConfig
from .session import Session
from .storage import content_type_for
from .storage.local import LocalStorage

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 1 << 16


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | bool:
    """(first, last) byte of a single `bytes=` range; None: send it all; False: unsatisfiable.

    Multi-range and malformed headers are answered with the whole object, as RFC 9110 allows.
    """
    m = _RANGE.match((header or "").strip())
    if not m or m.groups() == ("", ""):
        return None
    first, last = m.groups()
    if first == "":  # the last N bytes
        n = int(last)
        return (max(size - n, 0), size - 1) if n and size else False
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return False
    return start, end


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], session: Session, base_url: str | None):
        super().__init__(address, Handler)
        self.session = session
        self.root = session.storage.root
        host, port = self.server_address[:2]
        if host in ("0.0.0.0", "::"):
            host = lan_address()
        self.base_url = (base_url or f"http://{host}:{port}").rstrip("/")
        self.feeds: dict[str, FeedConfig] = {f.feed_key: f for f in session.sibling_feeds()}

    def preview_feed(self, key: str) -> bytes:
        feed = self.feeds[key].model_copy(update={"base_url": self.base_url})
        return render_feed(feed, self.session.read_manifest(), datetime.now(UTC))


def lan_address() -> str:
    """This machine's address on the LAN (the interface a packet out would leave by).

    Connecting a UDP socket sends nothing; it only asks the kernel for a route.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere real
            return probe.getsockname()[0]
        except OSError:
            return socket.gethostname()


def make_server(s: Session, host: str, port: int, base_url: str | None) -> PreviewServer:
    if not isinstance(s.storage, LocalStorage):
        raise PublishError("publish serve serves a local storage folder", where=s.storage.uri)
    try:
        return PreviewServer((host, port), s, base_url)
    except OSError as exc:
        raise PublishError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


class Handler(BaseHTTPRequestHandler):
    server: PreviewServer
    protocol_version = "HTTP/1.1"

    def do_HEAD(self) -> None:
        self._respond(body=False)

    def do_GET(self) -> None:
        self._respond(body=True)

    def log_message(self, format: str, *args) -> None:
        pass  # quiet: the producer watches the app, not the log

    def _respond(self, body: bool) -> None:
        key = unquote(urlsplit(self.path).path).lstrip("/")
        if key in self.server.feeds:
            data = self.server.preview_feed(key)
            self._send(key, len(data), body, lambda out, a, b: out.write(data[a:b + 1]))
            return
        path = self._file(key)
        if path is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        self._send(key, path.stat().st_size, body, lambda out, a, b: _copy(path, out, a, b))

    def _file(self, key: str) -> Path | None:
        pure = PurePosixPath(key)
        if not pure.parts or ".." in pure.parts or pure.name.startswith("."):
            return None
        path = self.server.root.joinpath(*pure.parts)
        return path if path.is_file() else None

    def _send(self, key: str, size: int, body: bool, write) -> None:
        rng = parse_range(self.headers.get("Range"), size)
        if rng is False:
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        first, last = rng or (0, size - 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if rng else HTTPStatus.OK)
        self.send_header("Content-Type", content_type_for(key))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(last - first + 1 if size else 0))
        if rng:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.end_headers()
        if body and size:
            write(self.wfile, first, last)


def _copy(path: Path, out, first: int, last: int) -> None:
    with open(path, "rb") as f:
        f.seek(first)
        remaining = last - first + 1
        while remaining > 0:
            block = f.read(min(CHUNK, remaining))
            if not block:
                break
            out.write(block)
            remaining -= len(block)

