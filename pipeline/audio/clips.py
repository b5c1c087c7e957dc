"""Intro and outro clips: loaded whole with pydub (they are short), levelled and faded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import ffmpeg
from .meter import Meter

_SCALE = 2.0 ** 31


@dataclass(frozen=True)
class Clip:
    samples: np.ndarray  # float32 frames x channels, already at the target loudness
    gain_db: float


def load_clip(exe: str, path: Path, rate: int, channels: int, target_lufs: float,
              fade_in_ms: int = 0, fade_out_ms: int = 0) -> Clip:
    """Decode with our ffmpeg (so pydub needs no ffprobe), level to the target, then fade."""
    ffmpeg.configure_pydub(exe)
    from pydub import AudioSegment

    raw = _decode_s32(exe, path, rate, channels)
    if not raw:
        raise ffmpeg.FFmpegError("no audio could be decoded from the clip", where=path)
    seg = AudioSegment(data=raw, sample_width=4, frame_rate=rate, channels=channels)
    meter = Meter(rate, channels, true_peak=False)
    meter.add(_floats(seg, channels))
    loudness = meter.result().integrated_lufs
    if not np.isfinite(loudness):
        raise ffmpeg.FFmpegError("clip is silent or shorter than 0.4 s", where=path)
    # Level in float: pydub's integer samples would clip a quiet clip raised to the target.
    gain = target_lufs - loudness
    # pydub's fades reject a length of 0 rather than doing nothing.
    if fade_in_ms:
        seg = seg.fade_in(fade_in_ms)
    if fade_out_ms:
        seg = seg.fade_out(fade_out_ms)
    samples = _floats(seg, channels)
    return Clip(samples=samples * np.float32(10 ** (gain / 20)), gain_db=gain)


def _decode_s32(exe: str, path: Path, rate: int, channels: int) -> bytes:
    args = [*ffmpeg.base_args(exe), "-i", str(path), "-vn", "-f", "s32le", "-ac", str(channels),
            "-ar", str(rate), "-"]
    with ffmpeg.pipe(args, "decoding the clip", where=path) as proc:
        return proc.stdout.read()


def _floats(seg, channels: int) -> np.ndarray:
    a = np.frombuffer(seg.raw_data, dtype=np.int32).reshape(-1, channels)
    return (a / _SCALE).astype(np.float32)


def mix(body: np.ndarray, start: int, clip: np.ndarray, clip_start: int) -> np.ndarray:
    """Add the part of `clip` (placed at frame `clip_start`) that overlaps `body` at `start`."""
    lo, hi = max(start, clip_start), min(start + len(body), clip_start + len(clip))
    if lo < hi:
        body = body.copy()
        body[lo - start:hi - start] += clip[lo - clip_start:hi - clip_start]
    return body
