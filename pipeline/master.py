"""Mastering: bring a recording to the feed's loudness target and encode the MP3.

Two passes over the source, like ffmpeg-normalize, but the second one also verifies:
1. decode -> meter: loudness, range, true peak and where the silence is;
2. decode -> one linear gain -> intro/outro -> true-peak limiter -> LAME, while the MP3 being
   written is decoded again and metered (the verification overlaps the encode).
If the MP3 misses the target by more than 0.5 LU or its peaks overshoot the ceiling (lossy
coding adds peaks), pass 2 runs once more with the gain and ceiling corrected.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from . import ffmpeg
from .clips import Clip, load_clip, mix
from .config import AudioSettings
from .errors import PublishError
from .integrity import check_complete
from .limiter import RELEASE_DB_PER_S, Limiter
from .meter import BLOCK_SEGMENTS, DETAIL_S, SEGMENT_S, Measurement, Meter, integrated, windowed

CHUNK_FRAMES = 1 << 16
TOLERANCE_LU = 0.5
MAX_GAIN_DB = 30.0
# LAME's output peaks overshoot its input by up to about 1.35 dB on hard-limited speech at 128k
# (measured on the benchmark's signal; EBU R128 s1 suggests -2 dBTP before lossy coding for a
# -1 target); aiming this far under the ceiling first spares the corrective second encode.
CODEC_HEADROOM_DB = 1.5
SILENCE_DB = -60.0  # after gain; quieter leading/trailing segments are trimmed when asked
SILENCE_PAD_S = 0.2
_MEASURE_SHARE = 0.15  # of the progress bar; the encode pass takes the rest
MIN_DURATION_S = 0.4  # one BS.1770 gating block
# Bump when a change to mastering changes the output, so published episodes are re-encoded.
ENGINE_VERSION = "3"


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    lra: float
    true_peak_dbtp: float

    @classmethod
    def of(cls, m: Measurement) -> Loudness:
        return cls(round(m.integrated_lufs, 2), round(m.lra, 2), round(m.true_peak_dbtp, 2))


@dataclass
class MasterReport:
    """What mastering did, for the manifest, `--json` and the loudness report.

    `first_encode` is the verification of the first MP3 when a corrective re-encode followed.
    `series` (short-term loudness before/after and the limiter's gain, every 100 ms) is for the
    report writer and stays out of `to_dict`, which goes into the manifest.
    """

    input: Loudness
    output: Loudness
    gain_db: float
    limited_s: float
    duration_s: float
    warnings: list[str] = field(default_factory=list)
    max_reduction_db: float = 0.0
    limiter_ceiling_dbtp: float = 0.0
    first_encode: Loudness | None = None
    trimmed_s: float = 0.0
    series: dict[str, list[float]] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        d = asdict(self)
        del d["series"]
        return d


def master_to_mp3(exe: str, src: Path, dst: Path, audio: AudioSettings,
                  progress: ffmpeg.ProgressFn | None = None,
                  bumpers: Sequence[tuple[float, Path]] = ()) -> MasterReport:
    """One linear gain to the target, peaks held under the ceiling, encoded to MP3.

    The MP3 appears at `dst` only when everything succeeded; on any error nothing is left.
    """
    src, dst = Path(src), Path(dst)
    check_complete(src)
    tmp = dst.with_name(dst.name + ".part")
    try:
        report = _master(exe, src, tmp, audio, progress or (lambda f: None), bumpers)
        os.replace(tmp, dst)
    except OSError as exc:  # disk full, quota, file-size limit: the user's to fix
        raise PublishError(f"cannot write the encoded audio: {exc.strerror}", where=dst) from None
    finally:
        tmp.unlink(missing_ok=True)
    return report


def _master(exe: str, src: Path, tmp: Path, audio: AudioSettings,
            progress: ffmpeg.ProgressFn, bumpers: Sequence[tuple[float, Path]] = ()) -> MasterReport:
    total_s = ffmpeg.probe_duration(exe, src) or 0.0
    source = _measure(exe, src, audio, lambda s: progress(_MEASURE_SHARE * _frac(s, total_s)))
    if not source.duration_s:
        raise PublishError("no audio could be decoded (empty or truncated file?)", where=src)
    if source.duration_s < MIN_DURATION_S:
        raise PublishError(f"too short: {source.duration_s:.2f} s of audio; loudness needs at "
                           f"least {MIN_DURATION_S} s", where=src)
    if not source.audible:
        raise PublishError("no audible audio: the recording is silent (integrated loudness "
                           "is undefined)", where=src)
    warnings = []
    ceiling = audio.true_peak_dbtp - CODEC_HEADROOM_DB
    gain = gain_for(source, audio.target_lufs, ceiling)
    if gain > MAX_GAIN_DB:
        warnings.append(f"the recording is very quiet ({source.integrated_lufs:.1f} LUFS): "
                        f"raised by {gain:.1f} dB, noise is raised with it")
    body = _body_range(source, gain, audio.trim_silence)
    clips = _clips(exe, audio, bumpers)

    def encode_progress(s: float) -> None:
        progress(_MEASURE_SHARE + (1 - _MEASURE_SHARE) * _frac(s, source.duration_s))

    out, limiter = _render(exe, src, tmp, audio, gain, ceiling, body, clips, encode_progress)
    first = None
    if _fault(out, audio) > (False, TOLERANCE_LU):
        first = Loudness.of(out)
        # LAME's overshoot on this material, as just measured, sets the corrected ceiling.
        retry_ceiling = min(ceiling, audio.true_peak_dbtp - (out.true_peak_dbtp - ceiling) - 0.2)
        # What the model missed at the first encode is kept as an offset for the second.
        bias = out.integrated_lufs - predicted_lufs(source, gain, ceiling)
        retry_gain = gain_for(source, audio.target_lufs - bias, retry_ceiling)
        retry = tmp.with_name(tmp.name + "2")
        try:
            again = _render(exe, src, retry, audio, retry_gain, retry_ceiling, body, clips,
                            lambda s: None)
            if _fault(again[0], audio) <= _fault(out, audio):
                os.replace(retry, tmp)
                (out, limiter), gain, ceiling = again, retry_gain, retry_ceiling
        finally:
            retry.unlink(missing_ok=True)
        if abs(out.integrated_lufs - audio.target_lufs) > TOLERANCE_LU:
            warnings.append(f"loudness is {out.integrated_lufs:.1f} LUFS after correction "
                            f"(target {audio.target_lufs:.1f})")
        if out.true_peak_dbtp > audio.true_peak_dbtp:
            warnings.append(f"true peak {out.true_peak_dbtp:.2f} dBTP is over the ceiling "
                            f"after correction")
    progress(1.0)
    seg = max(1, round(SEGMENT_S * audio.sample_rate))
    return MasterReport(
        input=Loudness.of(source), output=Loudness.of(out), gain_db=round(gain, 2),
        limited_s=round(limiter.limited_frames / audio.sample_rate, 2),
        duration_s=round(out.duration_s, 2), warnings=warnings,
        max_reduction_db=round(limiter.max_reduction_db, 2),
        limiter_ceiling_dbtp=round(ceiling, 2), first_encode=first,
        trimmed_s=round(source.duration_s - (body[1] - body[0]) / audio.sample_rate, 2),
        series={"before_lufs": _plain(source.short_term), "after_lufs": _plain(out.short_term),
                "limiter_gain_db": _plain(limiter.gain_db_per_segment()),
                "step_s": [SEGMENT_S], "frames_per_step": [seg]})


def predicted_lufs(source: Measurement, gain_db: float, ceiling_dbtp: float) -> float:
    """Loudness after gain and limiting, modelled on the limiter's own time scale (5 ms): a
    segment whose peak the gain pushes over the ceiling loses the excess, so does the one
    before it (the look-ahead), and the reduction recovers at the limiter's release rate.
    On speech this lands within about 0.1 LU of the real limiter (100 ms segments missed by
    0.6 LU when it works hard), so the first encode meets the target."""
    return _LimiterModel(source).predict(gain_db, ceiling_dbtp)


class _LimiterModel:
    """predicted_lufs for many gains: the gain-independent arrays are made once, in float32,
    and each prediction works in place, so a 3-hour episode's 2 million 5 ms segments cost
    a few arrays, not a dozen (memory stays flat as the gain search runs)."""

    def __init__(self, source: Measurement):
        with np.errstate(divide="ignore"):
            self.peaks_db = (20 * np.log10(source.detail_peaks)).astype(np.float32)
        n = len(self.peaks_db)
        step = RELEASE_DB_PER_S * source.detail_frames / source.rate
        self.ramp = (np.float32(step) * np.arange(n, dtype=np.float32))
        self.energies = source.detail_energies.astype(np.float32)
        # 5 ms segments summed back into the meter's 100 ms ones, for BS.1770's gating.
        self.per_segment = max(1, round(SEGMENT_S / DETAIL_S))
        self.work = np.empty(n, dtype=np.float32)

    def predict(self, gain_db: float, ceiling_dbtp: float) -> float:
        w = self.work
        np.add(self.peaks_db, np.float32(gain_db - ceiling_dbtp), out=w)
        np.maximum(w, 0, out=w)  # dB over the ceiling
        np.maximum(w[:-1], w[1:].copy(), out=w[:-1])  # the look-ahead acts one segment early
        w += self.ramp
        np.maximum.accumulate(w, out=w)
        w -= self.ramp  # the reduction, released at the limiter's rate
        np.subtract(np.float32(gain_db), w, out=w)
        w *= np.float32(0.1)
        np.power(np.float32(10), w, out=w)
        w *= self.energies
        k = self.per_segment
        whole = len(w) // k * k
        segments = w[:whole].reshape(-1, k).mean(axis=1, dtype=np.float64)
        return integrated(windowed(segments, BLOCK_SEGMENTS))


def gain_for(source: Measurement, target_lufs: float, ceiling_dbtp: float) -> float:
    """The linear gain whose output, limited at the ceiling, lands on the target (bisection)."""
    model = _LimiterModel(source)
    plain = target_lufs - source.integrated_lufs
    lo, hi = plain - 12.0, plain + 12.0  # the loudness rises monotonically with the gain
    for _ in range(16):  # 24 dB / 2**16: far finer than the meter reads
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if model.predict(mid, ceiling_dbtp) < target_lufs else (lo, mid)
    return (lo + hi) / 2


def _fault(out: Measurement, audio: AudioSettings) -> tuple[bool, float]:
    """How an encode misses, worst first: peaks over the ceiling, then the loudness error."""
    return out.true_peak_dbtp > audio.true_peak_dbtp, abs(out.integrated_lufs - audio.target_lufs)


def _frac(done: float, total: float) -> float:
    return min(1.0, done / total) if total > 0 else 0.0


def _plain(a: np.ndarray) -> list[float]:
    return [round(float(v), 2) if np.isfinite(v) else None for v in a]


def _decode_args(exe: str, src: Path | str, audio: AudioSettings, fmt: str | None = None) -> list:
    """Decode to float frames in the feed's rate and channels: what we measure is what we encode."""
    demux = ["-f", fmt] if fmt else []
    return [*ffmpeg.base_args(exe), *demux, "-i", str(src), "-vn", "-map", "0:a:0",
            "-f", "f32le", "-ac", str(audio.channels), "-ar", str(audio.sample_rate), "-"]


def _encode_args(exe: str, audio: AudioSettings) -> list:
    return [*ffmpeg.base_args(exe), "-f", "f32le", "-ac", str(audio.channels),
            "-ar", str(audio.sample_rate), "-i", "-", "-map_metadata", "-1",
            "-c:a", "libmp3lame", "-b:a", f"{audio.bitrate}k", "-id3v2_version", "0",
            "-write_xing", "1", "-f", "mp3", "-"]


def _chunks(stream: BinaryIO, channels: int) -> Iterator[np.ndarray]:
    size = CHUNK_FRAMES * channels * 4
    while data := stream.read(size):
        yield _frames(data, channels)


def _frames(data: bytes, channels: int) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float32)[:len(data) // 4 // channels * channels] \
        .reshape(-1, channels)


def _measure(exe: str, src: Path, audio: AudioSettings,
             progress: Callable[[float], None]) -> Measurement:
    meter = Meter(audio.sample_rate, audio.channels, detail=True)
    with ffmpeg.pipe(_decode_args(exe, src, audio), "decoding", where=src) as proc:
        for x in _chunks(proc.stdout, audio.channels):
            meter.add(x)
            progress(meter.frames / audio.sample_rate)
    return meter.result()


def _body_range(m: Measurement, gain_db: float, trim: bool) -> tuple[int, int]:
    """Frames of the source to keep: all, or without silence (after gain) at both ends."""
    if not trim:
        return 0, m.frames
    seg = max(1, round(SEGMENT_S * m.rate))
    loud = np.flatnonzero(m.segment_peaks * 10 ** (gain_db / 20) > 10 ** (SILENCE_DB / 20))
    pad = round(SILENCE_PAD_S / SEGMENT_S)
    return max(0, loud[0] - pad) * seg, min(m.frames, (loud[-1] + 1 + pad) * seg)


Clips = tuple[Clip | None, Clip | None, list[tuple[int, np.ndarray]]]


def _clips(exe: str, audio: AudioSettings, bumpers: Sequence[tuple[float, Path]] = ()) -> Clips:
    """Intro, outro, and the bumpers as (frame of the recording, samples), all levelled."""
    def load(path: Path | None, fade_in: int, fade_out: int) -> Clip | None:
        if path is None:
            return None
        return load_clip(exe, path, audio.sample_rate, audio.channels, audio.target_lufs,
                         fade_in, fade_out)

    inserts = [(round(at * audio.sample_rate), load(path, audio.fade_ms, audio.fade_ms).samples)
               for at, path in bumpers]
    return (load(audio.intro, audio.fade_ms, audio.crossfade_ms),
            load(audio.outro, audio.crossfade_ms, audio.fade_ms), inserts)


def _timeline(chunks: Iterator[np.ndarray], gain: float, body: tuple[int, int],
              clips: Clips, crossfade: int) -> Iterator[np.ndarray]:
    """The episode as it will sound: intro, the body at its gain (trimmed) with the bumpers
    inserted where they belong, outro; intro and outro overlap the body by the crossfade.

    Clips are in memory; the body streams, so each body chunk gets the clip parts under it.
    """
    intro, outro = (c.samples if c else None for c in clips[:2])
    first, last = body
    # A bumper before the trimmed start plays at the start; after the end, at the end.
    inserts = sorted((min(max(at, first), last), samples) for at, samples in clips[2])
    length = last - first + sum(len(samples) for _, samples in inserts)
    start = max(0, len(intro) - min(crossfade, len(intro), length // 2)) if intro is not None else 0
    outro_at = start + length - (min(crossfade, len(outro), length // 2)
                                 if outro is not None else 0)
    if intro is not None and start:
        yield intro[:start]
    at = start  # where the next frame lands in the episode

    def place(y: np.ndarray) -> np.ndarray:
        nonlocal at
        if intro is not None:
            y = mix(y, at, intro, 0)
        if outro is not None:
            y = mix(y, at, outro, outro_at)
        at += len(y)
        return y

    g = np.float32(10 ** (gain / 20))
    pos = 0  # frames of the source read so far
    for x in chunks:
        lo, hi = max(first, pos), min(last, pos + len(x))
        pos += len(x)
        if lo >= hi:
            continue
        y = x[lo - (pos - len(x)):hi - (pos - len(x))] * g
        while inserts and inserts[0][0] < hi:
            cut = inserts[0][0] - lo
            if cut > 0:
                yield place(y[:cut])
            y, lo = y[max(cut, 0):], max(lo, inserts[0][0])
            yield place(inserts.pop(0)[1])
        if len(y):
            yield place(y)
    for _, samples in inserts:  # bumpers at the very end of the recording
        yield place(samples)
    if outro is not None:
        yield outro[at - outro_at:]


def _render(exe: str, src: Path, tmp: Path, audio: AudioSettings, gain: float, ceiling: float,
            body: tuple[int, int], clips: Clips,
            progress: Callable[[float], None]) -> tuple[Measurement, Limiter]:
    """Pass 2: gain, clips and limiter into LAME; the MP3 goes to `tmp` and to a verifying meter."""
    rate, channels = audio.sample_rate, audio.channels
    limiter = Limiter(rate, channels, ceiling)
    meter = Meter(rate, channels)
    crossfade = round(audio.crossfade_ms / 1000 * rate)
    with (ffmpeg.pipe(_decode_args(exe, src, audio), "decoding", where=src) as dec,
          ffmpeg.pipe(_encode_args(exe, audio), "encoding the MP3", where=src,
                      direction="both") as enc,
          ffmpeg.pipe(_decode_args(exe, "-", audio, fmt="mp3"), "decoding the encoded MP3",
                      where=src, direction="both") as ver,
          open(tmp, "wb") as out):
        block = CHUNK_FRAMES * channels * 4
        threads = [_Drain(enc.stdout, [out.write, ver.stdin.write], close=ver.stdin),
                   _Drain(ver.stdout, [lambda b: meter.add(_frames(b, channels))], size=block)]
        try:
            done = 0
            for y in _timeline(_chunks(dec.stdout, channels), gain, body, clips, crossfade):
                enc.stdin.write(limiter.process(y).tobytes())
                done += len(y)
                progress(done / rate)
            enc.stdin.write(limiter.finish().tobytes())
        finally:
            _close(enc.stdin)
            for t in threads:
                t.join()
        for t in threads:
            t.raise_error()
    return meter.result(), limiter


def _close(stream: BinaryIO) -> None:
    try:
        stream.close()
    except BrokenPipeError:
        pass  # the process died; its context reports why


class _Drain(threading.Thread):
    """Copy a pipe into sinks on a thread. A sink that fails is dropped but the pipe is still
    drained: a stalled reader would stall ffmpeg, and with it the whole chain. The file sink's
    errors (disk full) are raised afterwards; a dead ffmpeg is reported by its own context."""

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
                except (BrokenPipeError, ValueError):
                    live.remove(sink)
                except Exception as exc:  # noqa: BLE001 - re-raised on the main thread
                    self.error = self.error or exc
                    live.remove(sink)
        if self.close is not None:
            _close(self.close)

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error
