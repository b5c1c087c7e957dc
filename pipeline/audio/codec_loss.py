"""How far under the planned loudness the MP3 will land, measured on a short trial encode.

MP3 coding lowers the measured loudness of speech by 0.3 to 0.5 LU at 128 kbit/s (its
psychoacoustic model drops detail that K-weighting counts), and the gain search's model of
the limiter can be off by a few tenths on material it works hard on, so a chain planned to
hit the target can land beside it. The loudest stretch of the recording, put through the real
limiter and LAME, compared with what the model predicts for it, tells the offset for this
material at this bitrate, for about a second of work instead of a second full encode.
"""

from __future__ import annotations

import numpy as np

from . import ffmpeg
from .gain import predicted_lufs
from .limiter import Limiter
from .meter import SEGMENT_S, Meter

TRIAL_S = 20.0  # long enough for a stable integrated loudness of speech
MAX_LOSS_LU = 1.5  # more would be a measuring accident: not worth trusting


def codec_loss_lu(exe: str, frames: np.ndarray, rate: int, channels: int, bitrate_kbps: int,
                  gain_db: float, ceiling_dbtp: float) -> float:
    """Planned loudness minus the MP3's, for these frames (already levelled) at this gain and
    ceiling; 0 when unknown."""
    meter = Meter(rate, channels, true_peak=False, detail=True)
    meter.add(frames)
    planned = predicted_lufs(meter.result(), gain_db, ceiling_dbtp)
    limiter = Limiter(rate, channels, ceiling_dbtp)
    y = frames * np.float32(10 ** (gain_db / 20))
    y = np.concatenate([limiter.process(y), limiter.finish()])
    mp3 = _through(exe, ffmpeg.mp3_encode_args(exe, rate, channels, bitrate_kbps),
                   y.astype(np.float32).tobytes(), "encoding the trial MP3")
    pcm = _through(exe, ffmpeg.decode_args(exe, "-", rate, channels, fmt="mp3"), mp3,
                   "decoding the trial MP3")
    loss = planned - _loudness(ffmpeg.frames(pcm, channels), rate, channels)
    return loss if np.isfinite(loss) and abs(loss) <= MAX_LOSS_LU else 0.0


def loudest_stretch(short_term_lufs: np.ndarray, duration_s: float) -> tuple[float, float]:
    """(start, length) in seconds of the TRIAL_S window with the most loudness."""
    if duration_s <= TRIAL_S or not len(short_term_lufs):
        return 0.0, duration_s
    width = max(1, round(TRIAL_S / SEGMENT_S))
    power = np.nan_to_num(10 ** (np.asarray(short_term_lufs, float) / 10), nan=0.0)
    if len(power) <= width:
        return 0.0, TRIAL_S
    sums = np.convolve(power, np.ones(width), mode="valid")
    # Short-term value i covers the 3 s from i segments in, so a run of them from j starts there.
    start = SEGMENT_S * int(np.argmax(sums))
    return min(start, duration_s - TRIAL_S), TRIAL_S


def _loudness(frames: np.ndarray, rate: int, channels: int) -> float:
    meter = Meter(rate, channels, true_peak=False)
    meter.add(frames)
    return meter.result().integrated_lufs


def _through(exe: str, args: list[str], data: bytes, what: str) -> bytes:
    """Pipe bytes through an ffmpeg command and return its output."""
    out = bytearray()
    with ffmpeg.pipe(args, what, direction="both") as proc:
        drain = ffmpeg.Drain(proc.stdout, [out.extend])
        try:
            proc.stdin.write(data)
        finally:
            ffmpeg.close_quietly(proc.stdin)
            drain.join()
        drain.raise_error()
    return bytes(out)
