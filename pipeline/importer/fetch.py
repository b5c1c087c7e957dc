"""HTTP GETs from the old host: streamed to disk, resumed with Range, retried with backoff.

The standard library's urllib is enough (it follows redirects and keeps our Range header on
them); a download is a `.part` file that grows until it has the length the server announced,
then is renamed into place, so an interrupted import picks up where it stopped.
"""

from __future__ import annotations

import http.client
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from ..errors import PublishError
from ..runtime.env import env_float
from ..storage import sha256_file

CHUNK = 64 * 1024
USER_AGENT = "publish-import/0.1"
MAX_SMALL_BYTES = 50 * 1024 * 1024  # a feed, a chapters file or a transcript: never bigger
NOT_AUDIO = ("text/", "application/xhtml", "application/json", "application/xml")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class FetchError(PublishError):
    """This URL cannot be had (404, not audio, retries spent): its episode is skipped."""


class _Transient(Exception):
    """Worth another try: a 5xx, a dropped connection, a timeout, a body cut short."""


@dataclass(frozen=True)
class Limits:
    """How patient to be with the old host; from the environment, for slow hosts and tests."""

    timeout_s: float = 30.0
    attempts: int = 5
    backoff_s: float = 1.0

    @classmethod
    def from_env(cls) -> Limits:
        d = cls()
        return cls(timeout_s=env_float("PUBLISH_IMPORT_TIMEOUT_S", d.timeout_s, 0.001),
                   attempts=int(env_float("PUBLISH_IMPORT_ATTEMPTS", d.attempts, 1)),
                   backoff_s=env_float("PUBLISH_IMPORT_BACKOFF_S", d.backoff_s))


@dataclass(frozen=True)
class Downloaded:
    path: Path
    bytes: int
    sha256: str
    content_type: str


def _retried(url: str, limits: Limits, once: Callable[[], object]) -> object:
    last = ""
    for attempt in range(limits.attempts):
        if attempt:
            time.sleep(limits.backoff_s * 2 ** (attempt - 1))
        try:
            return once()
        except _Transient as exc:
            last = str(exc)
    raise FetchError(f"gave up after {limits.attempts} tries: {last}", where=url)


def _open(url: str, limits: Limits, headers: dict[str, str]) -> http.client.HTTPResponse:
    try:
        return urlopen(Request(url, headers={"User-Agent": USER_AGENT, **headers}),
                       timeout=limits.timeout_s)
    except HTTPError as exc:
        exc.close()
        if exc.code >= 500 or exc.code in (408, 429):
            raise _Transient(f"HTTP {exc.code}") from None
        raise FetchError(f"HTTP {exc.code}", where=url) from None
    except (URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise _Transient(f"connection failed: {reason}") from None


def get_bytes(url: str, limits: Limits) -> tuple[bytes, str, str | None]:
    """A small document (the feed, a chapters file): its bytes, the URL it was finally served
    from (after redirects: relative links resolve against it) and the charset it was sent in."""
    def once() -> tuple[bytes, str, str | None]:
        with _open(url, limits, {}) as resp:
            try:
                data = resp.read(MAX_SMALL_BYTES + 1)
            except (OSError, http.client.HTTPException) as exc:
                raise _Transient(f"connection dropped: {exc}") from None
            length = resp.headers.get("Content-Length")
            if length and length.isdigit() and len(data) != int(length):
                raise _Transient(f"got {len(data)} of {length} bytes")
            return data, resp.geturl(), resp.headers.get_content_charset()
    data, final, charset = _retried(url, limits, once)
    if len(data) > MAX_SMALL_BYTES:
        raise FetchError(f"larger than {MAX_SMALL_BYTES} bytes", where=url)
    return data, final, charset


def download(url: str, dest: Path, limits: Limits, progress: Callable[[int], None],
             audio: bool = False) -> Downloaded:
    """Stream `url` to `dest`, resuming a `.part` left by an earlier try or run. The size must
    be what the server announced; `audio` refuses a web page served in the file's place."""
    part = dest.with_name(dest.name + ".part")
    ctype = _retried(url, limits, lambda: _download_once(url, part, limits, progress, audio))
    os.replace(part, dest)
    return Downloaded(dest, dest.stat().st_size, sha256_file(dest), ctype)


def _download_once(url: str, part: Path, limits: Limits, progress: Callable[[int], None],
                   audio: bool) -> str:
    have = part.stat().st_size if part.exists() else 0
    try:
        resp = _open(url, limits, {"Range": f"bytes={have}-"} if have else {})
    except FetchError as exc:
        if have and "HTTP 416" in exc.message:  # the part is not a prefix of this file
            part.unlink()
            raise _Transient("the partial download does not fit: starting again") from None
        raise
    with resp:
        ctype = resp.headers.get_content_type() if resp.headers.get("Content-Type") else ""
        if audio and ctype.startswith(NOT_AUDIO):
            raise FetchError(f"not audio (the server sent {ctype})", where=url)
        if resp.status == 206:
            total = _resumed_total(resp, have, part)
        else:  # the whole file (the server ignores Range): start over
            have = 0
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        with open(part, "ab" if have else "wb") as out:
            try:
                while chunk := resp.read(CHUNK):
                    out.write(chunk)
                    progress(len(chunk))
            except (OSError, http.client.HTTPException) as exc:
                raise _Transient(f"connection dropped: {exc}") from None
    size = part.stat().st_size
    if total is not None and size != total:
        if size > total:
            part.unlink()
        raise _Transient(f"got {size} of {total} bytes")
    return ctype


def _resumed_total(resp: http.client.HTTPResponse, have: int, part: Path) -> int | None:
    """The whole file's size from a 206, which must start where the part stops."""
    m = _CONTENT_RANGE.fullmatch(resp.headers.get("Content-Range", "").strip())
    if not m or int(m.group(1)) != have:
        part.unlink(missing_ok=True)
        raise _Transient("the server resumed at another offset: starting again")
    return int(m.group(3)) if m.group(3) != "*" else None
