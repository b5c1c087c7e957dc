"""Where published objects live: a small interface with a local-folder and an S3 backend."""

from __future__ import annotations

import hashlib
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ..errors import PublishError

if TYPE_CHECKING:
    from ..project.config import S3Settings

CONTENT_TYPES = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".opus": "audio/ogg",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".json": "application/json",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".xml": "application/rss+xml",
    ".html": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
# Keys whose name says more than their suffix: ".xml" is a feed, except for the sitemap.
NAMED_TYPES = {"sitemap.xml": "application/xml"}

Progress = Callable[[int], None]


def content_type_for(key: str) -> str:
    if key.endswith(".chapters.json"):
        return "application/json+chapters"
    if key in NAMED_TYPES:
        return NAMED_TYPES[key]
    return CONTENT_TYPES.get(Path(key).suffix.lower(), "application/octet-stream")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def key_parts(key: str) -> tuple[str, ...]:
    """The parts of a key, refusing keys that would mean different places in different backends."""
    pure = PurePosixPath(key)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise PublishError(f"refusing storage key outside the storage root: {key!r}")
    return pure.parts


class IntegrityError(PublishError):
    """An object's bytes are not the ones that were published (damaged or replaced)."""


def wait_for(try_once: Callable[[], bool], wait_s: float, where: str | Path,
             poll_s: float) -> None:
    """Call `try_once` every `poll_s` until it takes the lock; after `wait_s`, one clear error."""
    deadline = time.monotonic() + wait_s
    while not try_once():
        if time.monotonic() >= deadline:
            raise PublishError(
                f"another publish is writing to this storage; waited {wait_s:.0f} s", where=where)
        time.sleep(poll_s)


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    sha256: str | None


class Storage(ABC):
    """Keys are '/'-separated paths below the storage root, the same in every backend."""

    uri: str

    @abstractmethod
    def location(self, key: str) -> str:
        """Where the object really is: a file:// URL or an s3:// URI."""

    @abstractmethod
    def head(self, key: str) -> ObjectInfo | None:
        """Size and sha256 of an object, or None when it does not exist."""

    @abstractmethod
    def put_file(self, key: str, path: Path, *, sha256: str, content_type: str,
                 cache_control: str, progress: Progress | None = None) -> None:
        """Store a file so that readers see either the old object or the whole new one."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes, *, content_type: str, cache_control: str) -> None:
        """Store small content (manifest, feed) atomically."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes | None:
        """The object's content, or None when it does not exist."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove an object for good; one already gone is no error. Only the website's stale
        pages and the lock's claims are ever deleted: published media never are."""

    @abstractmethod
    def keys(self, folder: str) -> Iterator[str]:
        """Every object's key below a folder (at any depth), in no particular order: how the
        pages a site no longer has are found, whatever run or version wrote them."""

    def download(self, key: str, dest: Path, sha256: str | None = None) -> None:
        """Copy an object to a local file, verified against `sha256` (what was published) or
        else the sha256 the storage keeps: damaged bytes are never used as if they were good."""
        info = self.head(key)
        if info is None:
            raise PublishError("object is missing from storage", where=self.location(key))
        self._copy_to(key, dest)
        expected = sha256 or info.sha256
        if expected and sha256_file(dest) != expected:
            Path(dest).unlink(missing_ok=True)
            raise IntegrityError("the stored bytes do not match their sha256 (damaged?)",
                                 where=self.location(key))

    @abstractmethod
    def _copy_to(self, key: str, dest: Path) -> None:
        """Copy an existing object to a local file, as it is."""

    @abstractmethod
    def lock(self, wait_s: float) -> AbstractContextManager[None]:
        """Hold the storage's publish lock, so that two runs never interleave their writes.

        Waits up to wait_s for another run to finish, then raises PublishError.
        """


def open_storage(target: str, root: Path, s3: S3Settings | None = None) -> Storage:
    """A storage from a target: `s3://bucket/prefix`, `file:///abs/path` or a folder path.

    A relative folder is taken relative to the project root, so runs from any directory agree.
    `s3` is the feed's [s3] table; without it the AWS environment and profile decide everything.
    """
    if target.startswith("s3://"):
        from .s3 import S3Storage

        return S3Storage.from_uri(target, s3)
    from .local import LocalStorage

    path = Path(target.removeprefix("file://")).expanduser()
    if not path.is_absolute():
        path = root / path
    return LocalStorage(path)
