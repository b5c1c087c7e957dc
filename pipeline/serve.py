"""`publish serve`: the local storage over HTTP, so a producer can subscribe in a real app.

Apps need what Apple asks of hosts: HEAD and byte-range requests (206 Partial Content) for
seeking and resuming. Feeds and the website are rendered again with the server's own URL as
base_url, so every enclosure, chapters and transcript link points back here; the published
feed and pages in the folder, with the CDN's URLs, are left untouched.
"""

from __future__ import annotations

import re
import socket
import threading
from datetime import UTC, datetime
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from .errors import PublishError
from .feed.render import render_feed, visible_episodes
from .manifest import MANIFEST_KEY, Manifest, parse_manifest
from .project.config import FeedConfig
from .session import Session
from .site import theme
from .site.build import PROJECT_THEME, build_site
from .site.model import INDEX_KEY
from .site.render import NOT_FOUND_KEY, Site
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
        self._site_lock = threading.Lock()
        self._site: tuple[tuple, Site] | None = None

    def preview_feed(self, key: str) -> bytes:
        return render_feed(self._here(self.feeds[key]), self.session.read_manifest(),
                           datetime.now(UTC))

    def preview_site(self) -> Site:
        """The site as a rebuild would write it now, its links pointing at this server.

        Rendered again only when the manifest, the episodes out by now or the project's theme
        files change, so a large catalogue is not rendered for every request.
        """
        now = datetime.now(UTC)
        storage, project = self.session.storage, self.session.catalog.root
        data = storage.get_bytes(MANIFEST_KEY)
        manifest = _parsed(data, storage.location(MANIFEST_KEY))
        stamp = (data, tuple(e.slug for e in visible_episodes(manifest, now)),
                 theme.stamp(project / PROJECT_THEME))
        with self._site_lock:
            if self._site is None or self._site[0] != stamp:
                feeds = [self._here(f) for f in self.feeds.values()]
                self._site = (stamp, build_site(storage, feeds, manifest, now, project))
            return self._site[1]

    def _here(self, feed: FeedConfig) -> FeedConfig:
        """The feed as served from here: media and pages under this server's URL."""
        # No analytics prefix: it could not reach this server to redirect to it.
        return feed.model_copy(update={"base_url": self.base_url, "analytics_prefix": None,
                                       "site": feed.site.model_copy(update={"url": None})})


@lru_cache(maxsize=1)
def _parsed(data: bytes | None, where: str) -> Manifest:
    """The manifest parsed once per content: a player asks for the site at every range."""
    return parse_manifest(data, where=where)


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
        key = unquote(urlsplit(self.path).path).lstrip("/") or INDEX_KEY
        if key in self.server.feeds:
            self._send_bytes(key, self.server.preview_feed(key), body)
            return
        try:
            site = self.server.preview_site()
        except PublishError as exc:  # a broken project template: say so in the browser
            self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR, str(exc))
            return
        page = site.pages.get(key, site.assets.get(key))
        if page is not None:
            self._send_bytes(key, page, body)
            return
        path = self._file(key)
        if path is not None:
            self._send(key, path.stat().st_size, body, lambda out, a, b: _copy(path, out, a, b))
        elif NOT_FOUND_KEY in site.pages:
            self._send_not_found(site.pages[NOT_FOUND_KEY], body)
        else:
            self.send_error(HTTPStatus.NOT_FOUND)

    def _send_bytes(self, key: str, data: bytes, body: bool) -> None:
        self._send(key, len(data), body, lambda out, a, b: out.write(data[a:b + 1]))

    def _send_not_found(self, page: bytes, body: bool) -> None:
        """The site's own 404 page, as a static host configured with it would answer."""
        self.send_response(HTTPStatus.NOT_FOUND)
        self.send_header("Content-Type", content_type_for(NOT_FOUND_KEY))
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        if body:
            self.wfile.write(page)

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

