"""Optional noise reduction with RNNoise, as a copy of the recording made before mastering.

RNNoise (the `pyrnnoise` wheel ships the library and its model) works on 48 kHz mono frames
of 480 samples. The recording is decoded at 48 kHz, each channel denoised frame by frame,
and written to a FLAC file beside the other temporary files; mastering then reads that copy
exactly as it would read the recording, so both passes hear the same denoised audio and
memory stays bounded. It is slow (RNNoise runs at about 30x real time per channel on one
core), hence off by default.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from ..errors import PublishError
from . import ffmpeg

RATE = 48000
FRAME = 480  # RNNoise's frame: 10 ms at 48 kHz
# RNNoise's output lags its input by two frames (measured by correlating chirps): dropped at
# the start and flushed at the end, so chapters and transcripts keep their times.
DELAY = 2 * FRAME
_INT16 = 32768.0  # RNNoise takes floats on the int16 scale


class _Channel:
    """One RNNoise state; frames go in whole, leftovers wait for the next chunk."""

    def __init__(self, lib):
        self.lib = lib
        self.state = lib.rnnoise_create(None)
        self.out = np.empty(FRAME, dtype=np.float32)

    def process(self, frames: np.ndarray) -> np.ndarray:
        """Denoise whole 480-sample frames (len(frames) is a multiple of FRAME)."""
        out = np.empty_like(frames)
        src = np.ascontiguousarray(frames * _INT16, dtype=np.float32)
        ptr = ctypes.POINTER(ctypes.c_float)
        for i in range(0, len(src), FRAME):
            block = src[i:i + FRAME]
            self.lib.rnnoise_process_frame(self.state, self.out.ctypes.data_as(ptr),
                                           block.ctypes.data_as(ptr))
            out[i:i + FRAME] = self.out / _INT16
        return out

    def close(self) -> None:
        self.lib.rnnoise_destroy(self.state)


def _library():
    try:
        from pyrnnoise import rnnoise
    except (ImportError, OSError) as exc:
        raise PublishError(f"audio.denoise needs the pyrnnoise package ({exc}); install it "
                           "with pip install pyrnnoise", field="audio.denoise") from None
    return rnnoise.lib


def denoised(chunks: Iterable[np.ndarray], channels: int) -> Iterator[np.ndarray]:
    """The same frames denoised, as many as came in and at the same times (the delay is
    dropped at the start and the tail flushed with silence)."""
    states = [_Channel(_library()) for _ in range(channels)]
    rest = np.zeros((0, channels), dtype=np.float32)
    skip, owed = DELAY, 0  # output frames still to drop; input frames not yet given back

    def run(x: np.ndarray) -> np.ndarray:
        nonlocal skip
        y = np.stack([s.process(x[:, c]) for c, s in enumerate(states)], axis=1)
        cut = min(skip, len(y))
        skip -= cut
        return y[cut:]

    try:
        for x in chunks:
            owed += len(x)
            x = np.concatenate([rest, x])
            whole = len(x) // FRAME * FRAME
            rest = x[whole:]
            y = run(x[:whole])
            owed -= len(y)
            yield y
        flush = np.concatenate([rest, np.zeros((DELAY + FRAME, channels), np.float32)])
        yield run(flush[:len(flush) // FRAME * FRAME])[:owed]
    finally:
        for s in states:
            s.close()


def denoised_copy(exe: str, src: Path, dst: Path, channels: int,
                  progress: Callable[[float], None] = lambda s: None) -> Path:
    """Write `src` denoised to `dst` (FLAC at 48 kHz); `progress` gets seconds done."""
    _library()  # a missing package is one line before any work
    encode = [*ffmpeg.base_args(exe), "-f", "f32le", "-ac", str(channels), "-ar", str(RATE),
              "-i", "-", "-c:a", "flac", "-y", str(dst)]
    done = 0
    with (ffmpeg.pipe(ffmpeg.decode_args(exe, src, RATE, channels), "decoding",
                      where=src) as dec,
          ffmpeg.pipe(encode, "writing the denoised copy", where=src, direction="write") as enc):
        for y in denoised(ffmpeg.chunks(dec.stdout, channels), channels):
            enc.stdin.write(y.tobytes())
            done += len(y)
            progress(done / RATE)
    return dst
