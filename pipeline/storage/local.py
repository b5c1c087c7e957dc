"""A local folder laid out exactly like the bucket, so any static web server can serve it."""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import PublishError
from ..faults import crashpoint
from . import ObjectInfo, Progress, Storage, key_parts, sha256_file, wait_for

COPY_CHUNK = 1 << 20
LOCK_NAME = ".publish.lock"
LOCK_POLL_S = 0.1  # a local flock costs nothing to try


class LocalStorage(Storage):
    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.uri = self.root.as_uri()

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key_parts(key))

    def location(self, key: str) -> str:
        return self._path(key).as_uri()

    def head(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        if not path.is_file():
            return None
        return ObjectInfo(key=key, size=path.stat().st_size, sha256=sha256_file(path))

    def put_file(self, key: str, path: Path, *, sha256: str, content_type: str,
                 cache_control: str, progress: Progress | None = None) -> None:
        with open(path, "rb") as src:
            self._atomic_write(key, lambda dst: _copy(src, dst, progress))

    def put_bytes(self, key: str, data: bytes, *, content_type: str, cache_control: str) -> None:
        self._atomic_write(key, lambda dst: dst.write(data))

    def get_bytes(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
            _fsync_folder(path.parent)  # the removal survives a power cut, as a write does
        except FileNotFoundError:
            pass  # the folder is gone too: nothing to delete
        except OSError as exc:
            raise PublishError(f"cannot delete: {exc.strerror}", where=path) from None

    def keys(self, folder: str) -> Iterator[str]:
        """Files below the folder; dotfiles (the lock, a dead run's temporary files) are not
        objects."""
        base = self._path(folder)
        for path in base.rglob("*"):
            rel = path.relative_to(self.root)
            if path.is_file() and not any(part.startswith(".") for part in rel.parts):
                yield rel.as_posix()

    def _copy_to(self, key: str, dest: Path) -> None:
        shutil.copyfile(self._path(key), dest)

    @contextmanager
    def lock(self, wait_s: float) -> Iterator[None]:
        """An flock on a dotfile in the root: released by the kernel if the holder dies."""
        path = self.root / LOCK_NAME
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise PublishError(f"cannot create the lock file: {exc.strerror}", where=path) from None

        def try_flock() -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False

        try:
            wait_for(try_flock, wait_s, path, LOCK_POLL_S)
            yield
        finally:
            os.close(fd)

    def _atomic_write(self, key: str, write) -> None:
        """Temporary file in the same folder, fsync, rename, fsync the folder."""
        final = self._path(key)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            for stale in final.parent.glob(f".{final.name}.*.tmp"):
                stale.unlink(missing_ok=True)  # left by a run that died; we hold the lock
            fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
        except OSError as exc:
            raise PublishError(f"cannot write: {exc.strerror}", where=final.parent) from None
        try:
            with os.fdopen(fd, "wb") as dst:
                write(dst)
                dst.flush()
                os.fsync(dst.fileno())
            os.chmod(tmp, 0o644)
            crashpoint(f"before-rename:{final.name}")
            os.replace(tmp, final)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise PublishError(f"cannot write: {exc.strerror}", where=final) from None
            raise
        _fsync_folder(final.parent)


def _fsync_folder(folder: Path) -> None:
    """A rename or an unlink is durable once its folder is synced."""
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _copy(src, dst, progress: Progress | None) -> None:
    while block := src.read(COPY_CHUNK):
        dst.write(block)
        if progress:
            progress(len(block))
        crashpoint("mid-upload")
