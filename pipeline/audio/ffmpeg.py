"""Find ffmpeg and run it in one place, so every failure carries the command's stderr tail.

Also the plumbing of its raw-audio pipes: float frames in and out, and threads that drain a
pipe into several readers, so the mastering chain never deals with bytes."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..errors import PublishError
from ..runtime.env import env_float

ENV_VAR = "PUBLISH_FFMPEG"
CHUNK_FRAMES = 1 << 16
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


# What a signal means where ffmpeg could not say it: it writes the MP3 itself, and a file-size
# limit (ulimit -f) kills it with SIGXFSZ before it can print a word.
_SIGNALS = {signal.SIGXFSZ: " (the file it wrote reached the file-size limit)"}
STALL_ENV = "PUBLISH_FFMPEG_STALL_S"
DEFAULT_STALL_S = 120.0
_PROGRESS_LINE = re.compile(r"^[a-z_0-9]+=\S*$")


def base_args(exe: str) -> list[str]:
    # -progress makes ffmpeg report twice a second even when quiet: the watchdog's heartbeat.
    return [exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats",
            "-progress", "pipe:2"]


def _load_prctl():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()  # resolved before any fork: the child only makes the call


def _die_with_parent() -> None:
    """Linux: the kernel kills ffmpeg if we die, even by SIGKILL, so none is orphaned."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Supervised:
    """An ffmpeg process whose stderr is drained (bounded) and which is killed when it stalls.

    A stall is no sign of life (a progress line on stderr) for PUBLISH_FFMPEG_STALL_S seconds;
    the whole process group is killed, so a wrapper script cannot leave children behind.
    """

    def __init__(self, args: Sequence[str], what: str, where: str | Path | None,
                 stdin: int | None, stdout: int | None, keep_lines: int = 200):
        self.what, self.where = what, where
        self.stall_s = env_float(STALL_ENV, DEFAULT_STALL_S, minimum=0.1)
        self.lines: deque[str] = deque(maxlen=keep_lines)
        self.stalled = False
        self.last = time.monotonic()
        try:
            self.proc = subprocess.Popen(list(args), stdin=stdin, stdout=stdout,
                                         stderr=subprocess.PIPE, start_new_session=True,
                                         preexec_fn=_die_with_parent)  # noqa: PLW1509
        except (FileNotFoundError, PermissionError) as exc:
            raise FFmpegError(f"cannot run ffmpeg ({args[0]}): {exc.strerror}",
                              where=where) from None
        self._done = threading.Event()
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._watch = threading.Thread(target=self._watchdog, daemon=True)
        self._drain.start()
        self._watch.start()

    def touch(self) -> None:
        self.last = time.monotonic()

    def _read_stderr(self) -> None:
        for raw in iter(self.proc.stderr.readline, b""):
            self.touch()
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if not _PROGRESS_LINE.match(line):
                self.lines.append(line)

    def _watchdog(self) -> None:
        while not self._done.wait(0.5):
            if self.proc.poll() is not None:
                return
            if time.monotonic() - self.last > self.stall_s:
                self.stalled = True
                self.kill()
                return

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def finish(self) -> str:
        """Wait for the exit; raise with the stderr tail unless it succeeded."""
        code = self.proc.wait()
        self._done.set()
        self.kill()  # anything the process started and left behind goes with it
        self._drain.join(timeout=5)
        self.proc.stderr.close()
        if self.stalled:
            raise FFmpegError(f"ffmpeg stopped responding for {self.stall_s:.0f} s while "
                              f"{self.what} and was stopped", where=self.where)
        if code != 0:
            how = f"was killed by signal {-code}{_SIGNALS.get(-code, '')}" if code < 0 \
                else "failed"
            said = _tail(list(self.lines))
            raise FFmpegError(f"ffmpeg {how} while {self.what}" + (f": {said}" if said else ""),
                              where=self.where)
        return "\n".join(self.lines)


def run(args: Sequence[str], what: str, where: str | Path | None = None) -> str:
    """Run ffmpeg to completion; returns its stderr (where filters such as ebur128 print)."""
    sup = Supervised(args, what, where, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    return sup.finish()


@contextmanager
def pipe(args: Sequence[str], what: str, where: str | Path | None = None,
         direction: str = "read") -> Iterator[subprocess.Popen]:
    """Start ffmpeg with its stdout ("read"), stdin ("write") or both ("both") piped to us.

    On exit the process is reaped (killed if we are leaving on an error) and a failure
    raises with its stderr tail.
    """
    sup = Supervised(args, what, where,
                     stdin=subprocess.DEVNULL if direction == "read" else subprocess.PIPE,
                     stdout=subprocess.DEVNULL if direction == "write" else subprocess.PIPE,
                     keep_lines=50)
    ok = False
    try:
        yield sup.proc
        ok = True
    except BrokenPipeError:
        pass  # ffmpeg died while we wrote; its status and stderr below say why
    finally:
        if not ok and sup.proc.poll() is None:
            sup.kill()
        for stream in (sup.proc.stdin, sup.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except BrokenPipeError:
                pass
        if not ok:
            sup.proc.wait()
    sup.finish()


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_AUDIO_STREAM = re.compile(r"Stream #\d+:\d+.*: Audio: (?P<codec>.*)")


@dataclass(frozen=True)
class Probe:
    """What `ffmpeg -i` says of a file: its duration, and why it is not audio when it is not."""

    duration_s: float | None
    problem: str | None  # in words for the producer; ffmpeg's own lines are in `detail`
    detail: str


def probe(exe: str, path: Path) -> Probe:
    """Read the file's header with `ffmpeg -i` (no ffprobe needed). A problem is named only
    when ffmpeg says so plainly; anything else is left to the decoder to report."""
    sup = Supervised([exe, "-hide_banner", "-nostdin", "-i", str(path)], "reading the header",
                     path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        sup.finish()
    except FFmpegError:
        pass  # `ffmpeg -i` alone always "fails" (no output given); the header is what we want
    text = "\n".join(sup.lines)
    m = _DURATION.search(text)
    duration = None
    if m:
        h, mnt, s = m.groups()
        duration = int(h) * 3600 + int(mnt) * 60 + float(s)
    problem = None
    streams = [s.group("codec") for s in _AUDIO_STREAM.finditer(text)]
    if "Invalid data found when processing input" in text:
        problem = "its contents are not a format ffmpeg reads (invalid data)"
    elif "Input #0" in text and not streams:
        problem = "no audio stream found"
    elif streams and all(" 0 channels" in s for s in streams):
        problem = "no audio stream found (the one it claims has no channels)"
    return Probe(duration, problem, _tail(list(sup.lines)))


ProgressFn = Callable[[float], None]


def decode_args(exe: str, src: Path | str, rate: int, channels: int,
                fmt: str | None = None, filters: str | None = None,
                span_s: tuple[float, float] | None = None) -> list[str]:
    """Decode to float frames in the feed's rate and channels: what we measure is what we encode.
    `span_s` (start, length) decodes only that part."""
    demux = ["-f", fmt] if fmt else []
    af = ["-af", filters] if filters else []
    span = ["-ss", f"{span_s[0]:.3f}", "-t", f"{span_s[1]:.3f}"] if span_s else []
    return [*base_args(exe), *demux, *span, "-i", str(src), "-vn", "-map", "0:a:0", *af,
            "-f", "f32le", "-ac", str(channels), "-ar", str(rate), "-"]


def mp3_encode_args(exe: str, rate: int, channels: int, bitrate_kbps: int,
                    path: Path | None = None) -> list[str]:
    """Float frames on stdin to a CBR MP3 with no tags (they are written later), written twice
    by the tee muxer: to `path`, a file ffmpeg can seek back in to fill in LAME's Info header
    (the exact length and the encoder delay), and to stdout, for a verifier to read while the
    encode runs. A pipe alone cannot carry the header, which is only known at the end.
    Without `path` (a trial encode) the MP3 goes to stdout only."""
    mp3 = "f=mp3:id3v2_version=0"
    outputs = f"[{mp3}]pipe:1" if path is None else \
        f"[{mp3}:write_xing=1]{_tee_escape(f'file:{Path(path).absolute()}')}|[{mp3}]pipe:1"
    return [*base_args(exe), "-f", "f32le", "-ac", str(channels),
            "-ar", str(rate), "-i", "-", "-map", "0:a", "-map_metadata", "-1",
            # ffmpeg labels the Info header "Lavc"; readers such as mutagen apply its delay and
            # padding only under LAME's own label, and the header follows LAME 3.100's layout.
            "-metadata:s:a:0", "encoder=LAME3.100",
            "-c:a", "libmp3lame", "-b:a", f"{bitrate_kbps}k", "-f", "tee", outputs]


def _tee_escape(name: str) -> str:
    """A file name as one output of the tee muxer, whose list syntax uses | [ ] : and quotes."""
    return re.sub(r"([^\w/.-])", r"\\\1", name)


def chunks(stream: BinaryIO, channels: int) -> Iterator[np.ndarray]:
    """Float frames (frames x channels) read from a raw f32le pipe, CHUNK_FRAMES at a time."""
    size = CHUNK_FRAMES * channels * 4
    while data := stream.read(size):
        yield frames(data, channels)


def frames(data: bytes, channels: int) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float32)[:len(data) // 4 // channels * channels] \
        .reshape(-1, channels)


def close_quietly(stream: BinaryIO) -> None:
    try:
        stream.close()
    except BrokenPipeError:
        pass  # the process died; its context reports why


def _closed(sink: Callable[[bytes], object]) -> bool:
    """Whether a sink is the write method of a stream that is already closed."""
    return bool(getattr(getattr(sink, "__self__", None), "closed", False))


class Drain(threading.Thread):
    """Copy a pipe into sinks on a thread. A sink whose pipe broke or closed is dropped but the
    pipe is still drained: a stalled reader would stall ffmpeg, and with it the whole chain.
    Any other failure of a sink (disk full, a bug in a reader) is raised afterwards; a dead
    ffmpeg is reported by its own context."""

    def __init__(self, stream: BinaryIO, sinks: list[Callable[[bytes], object]],
                 close: BinaryIO | None = None, size: int = 1 << 16):
        super().__init__(daemon=True)
        self.stream, self.sinks, self.close, self.size = stream, sinks, close, size
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        live = list(self.sinks)
        for block in iter(lambda: self.stream.read(self.size), b""):
            for sink in list(live):
                try:
                    sink(block)
                except BrokenPipeError:
                    live.remove(sink)
                except Exception as exc:  # noqa: BLE001 - re-raised on the main thread
                    live.remove(sink)
                    if not (isinstance(exc, ValueError) and _closed(sink)):
                        self.error = self.error or exc
        if self.close is not None:
            close_quietly(self.close)

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error
