"""Find ffmpeg and run it in one place, so every failure carries the command's stderr tail."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .errors import PublishError

ENV_VAR = "PUBLISH_FFMPEG"
STDERR_TAIL_LINES = 8


def find_ffmpeg(configured: str | None = None) -> str:
    """The ffmpeg to use: $PUBLISH_FFMPEG, then the config key, then the bundled wheel's binary."""
    for candidate, origin in ((os.environ.get(ENV_VAR), ENV_VAR), (configured, "ffmpeg")):
        if candidate:
            found = shutil.which(candidate) or (candidate if Path(candidate).is_file() else None)
            if not found:
                raise PublishError(f"ffmpeg not found at {candidate!r}", where=origin)
            return found
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - a broken install
        raise PublishError("no ffmpeg: install imageio-ffmpeg or set $PUBLISH_FFMPEG") from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


def configure_pydub(exe: str) -> None:
    """Point pydub at our ffmpeg; pydub otherwise searches $PATH and warns at import."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        from pydub import AudioSegment

    AudioSegment.converter = exe
    AudioSegment.ffmpeg = exe


def _tail(lines: Sequence[str]) -> str:
    kept = [ln.strip() for ln in lines if ln.strip()][-STDERR_TAIL_LINES:]
    return " | ".join(kept)


class FFmpegError(PublishError):
    """ffmpeg failed; the message ends with the tail of its stderr."""


def base_args(exe: str) -> list[str]:
    return [exe, "-hide_banner", "-nostdin", "-loglevel", "error"]


def run(args: Sequence[str], what: str, where: str | Path | None = None,
        timeout: float | None = None) -> str:
    """Run ffmpeg to completion; returns stderr (where filters such as ebur128 print)."""
    try:
        proc = subprocess.run(list(args), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise FFmpegError(f"cannot run ffmpeg ({args[0]})", where=where) from exc
    except subprocess.TimeoutExpired as exc:
        raise FFmpegError(f"ffmpeg took longer than {timeout:.0f} s while {what}", where=where) from exc
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise FFmpegError(f"ffmpeg failed while {what}: {_tail(err.splitlines())}", where=where)
    return err


@contextmanager
def pipe(args: Sequence[str], what: str, where: str | Path | None = None,
         direction: str = "read") -> Iterator[subprocess.Popen]:
    """Start ffmpeg with its stdout ("read"), stdin ("write") or both ("both") piped to us.

    On exit the process is reaped (killed if we are leaving on an error) and a non-zero status
    raises with its stderr tail. stderr is drained by a thread into a bounded deque, so a chatty
    ffmpeg never blocks and memory stays bounded.
    """
    import threading

    try:
        proc = subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL if direction == "read" else subprocess.PIPE,
            stdout=subprocess.DEVNULL if direction == "write" else subprocess.PIPE,
            stderr=subprocess.PIPE)
    except FileNotFoundError as exc:
        raise FFmpegError(f"cannot run ffmpeg ({args[0]})", where=where) from exc
    tail: deque[str] = deque(maxlen=50)

    def drain() -> None:
        for line in iter(proc.stderr.readline, b""):
            tail.append(line.decode("utf-8", "replace"))

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    ok = False
    try:
        yield proc
        ok = True
    except BrokenPipeError:
        pass  # ffmpeg died while we wrote; its status and stderr below say why
    finally:
        if not ok and proc.poll() is None:
            proc.kill()
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except BrokenPipeError:
                pass
        code = proc.wait()
        t.join(timeout=5)
        proc.stderr.close()
    if code != 0:
        raise FFmpegError(f"ffmpeg failed while {what}: {_tail(list(tail))}", where=where)


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")


def probe_duration(exe: str, path: Path) -> float | None:
    """Container duration from `ffmpeg -i` (no ffprobe needed); None when unknown."""
    proc = subprocess.run([exe, "-hide_banner", "-nostdin", "-i", str(path)],
                          stdin=subprocess.DEVNULL, capture_output=True, check=False)
    m = _DURATION.search(proc.stderr.decode("utf-8", "replace"))
    if not m:
        return None
    h, mnt, s = m.groups()
    return int(h) * 3600 + int(mnt) * 60 + float(s)


ProgressFn = Callable[[float], None]
