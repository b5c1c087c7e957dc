"""Mastering: bring a recording to the feed's loudness target and encode the MP3.

Two passes over the source, like ffmpeg-normalize, but the second one also verifies:
1. decode -> meter: loudness, range, true peak and where the silence is;
2. decode -> one linear gain -> intro/outro -> true-peak limiter -> LAME, while the MP3 being
   written is decoded again and metered (the verification overlaps the encode).
If the MP3 misses the target by more than 0.2 LU or its peaks overshoot the ceiling (lossy
coding adds peaks), pass 2 runs again with the gain and ceiling corrected, twice at most.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import PublishError
from ..project.config import AudioSettings
from . import ffmpeg, leveler
from .codec_loss import codec_loss_lu, loudest_stretch
from .denoise import denoised_copy
from .gain import gain_for, predicted_lufs
from .heap import return_large_frees
from .leveler import LevelerSettings, Leveling, VoicingAnalyser, VoicingFeatures, gain_curve
from .limiter import Limiter
from .meter import DETAIL_S, SEGMENT_S, Measurement, Meter
from .source import check_complete
from .timeline import Clips, Placement, assemble, body_range, load_clips, placement

TOLERANCE_LU = 0.2  # the promise: on target, not near it
_ON_TARGET = (0.0, TOLERANCE_LU)
# Corrective encodes after the first, at most: each re-aims the gain and the limiter ceiling
# by what the last MP3 measured.
MAX_CORRECTIONS = 2
MAX_GAIN_DB = 30.0
# LAME's output peaks overshoot its input by up to about 1.35 dB on hard-limited speech at 128k
# (measured on the benchmark's signal; EBU R128 s1 suggests -2 dBTP before lossy coding for a
# -1 target); aiming this far under the ceiling first spares the corrective second encode.
CODEC_HEADROOM_DB = 1.5
_MEASURE_SHARE = 0.15  # of the progress bar; the encode pass takes the rest
_DENOISE_SHARE = 0.6  # with audio.denoise: RNNoise is slower than everything else together
MIN_DURATION_S = 0.4  # one BS.1770 gating block
# Bump when a change to mastering changes the output: the manifest records it per episode and
# `publish status` marks what an older one made (re-mastered only on --remaster).
ENGINE_VERSION = "5"


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
    `timeline` is where the recording landed in the MP3, to map chapters and cues onto it.
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
    leveler: dict | None = None
    timeline: Placement | None = None
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
    return_large_frees()  # a long episode's per-step arrays, freed, leave the process
    tmp = dst.with_name(dst.name + ".part")
    clean = dst.with_name(dst.name + ".denoised.flac")
    progress = progress or (lambda f: None)
    # The recording itself is checked, before anything (the denoiser too) decodes it.
    header = ffmpeg.probe(exe, src)
    if header.problem:
        raise PublishError(f"not an audio file ffmpeg can decode: {header.problem}", where=src,
                           detail=header.detail)
    total_s = header.duration_s or 0.0
    try:
        if audio.denoise:  # a denoised copy, as long as the recording, is what both passes read
            src = denoised_copy(exe, src, clean, audio.channels,
                                lambda s: progress(_DENOISE_SHARE * _frac(s, total_s)))
            progress = _after(_DENOISE_SHARE, progress)
        report = _master(exe, src, tmp, audio, total_s, progress, bumpers)
        os.replace(tmp, dst)
    except OSError as exc:  # disk full, quota, file-size limit: the user's to fix
        raise PublishError(f"cannot write the encoded audio: {exc.strerror}", where=dst) from None
    finally:
        tmp.unlink(missing_ok=True)
        clean.unlink(missing_ok=True)
    return report


def _after(share: float, progress: ffmpeg.ProgressFn) -> ffmpeg.ProgressFn:
    """Progress of what remains once `share` of the bar is done."""
    return lambda f: progress(share + (1 - share) * f)


def _master(exe: str, src: Path, tmp: Path, audio: AudioSettings, total_s: float,
            progress: ffmpeg.ProgressFn, bumpers: Sequence[tuple[float, Path]] = ()
            ) -> MasterReport:
    source, voicing = _measure(exe, src, audio,
                               lambda s: progress(_MEASURE_SHARE * _frac(s, total_s)))
    if not source.duration_s:
        raise PublishError("no audio could be decoded (empty or truncated file?)", where=src)
    if source.duration_s < MIN_DURATION_S:
        raise PublishError(f"too short: {source.duration_s:.2f} s of audio; loudness needs at "
                           f"least {MIN_DURATION_S} s", where=src)
    if not source.audible:
        raise PublishError("no audible audio: the recording is silent (integrated loudness "
                           "is undefined)", where=src)
    warnings = []
    leveling = None
    if audio.level:
        leveling = gain_curve(source.detail_energies, voicing, audio.sample_rate,
                              source.detail_frames, _leveler_settings(audio))
    curve = leveling.curve if leveling is not None else None
    ceiling = audio.true_peak_dbtp - CODEC_HEADROOM_DB
    gain = gain_for(source, audio.target_lufs, ceiling, curve)
    # Aim over the target by what LAME will take off this material, measured on a trial.
    loss = _codec_loss(exe, src, audio, source, gain, ceiling, curve)
    if loss:
        gain = gain_for(source, audio.target_lufs + loss, ceiling, curve)
    if gain > MAX_GAIN_DB:
        warnings.append(f"the recording is very quiet ({source.integrated_lufs:.1f} LUFS): "
                        f"raised by {gain:.1f} dB, noise is raised with it")
    body = body_range(source, gain, audio.trim_silence)
    clips = load_clips(exe, audio, bumpers)

    encoding = _after(_MEASURE_SHARE, progress)

    def encode_progress(s: float) -> None:
        encoding(_frac(s, source.duration_s))

    out, limiter = _render(exe, src, tmp, audio, gain, ceiling, body, clips, encode_progress,
                           curve)
    first = None
    tries = [(ceiling, out.true_peak_dbtp)]
    while _fault(out, audio) > _ON_TARGET and len(tries) <= MAX_CORRECTIONS:
        first = first or Loudness.of(out)
        next_ceiling = _corrected_ceiling(tries, audio.true_peak_dbtp)
        # What the model missed at the last encode is kept as an offset for the next.
        bias = out.integrated_lufs - predicted_lufs(source, gain, ceiling, curve) + loss
        next_gain = gain_for(source, audio.target_lufs - bias + loss, next_ceiling, curve)
        retry = tmp.with_name(tmp.name + "2")
        try:
            again = _render(exe, src, retry, audio, next_gain, next_ceiling, body, clips,
                            lambda s: None, curve)
            tries.append((next_ceiling, again[0].true_peak_dbtp))
            if _fault(again[0], audio) <= _fault(out, audio):
                os.replace(retry, tmp)
                (out, limiter), gain, ceiling = again, next_gain, next_ceiling
        finally:
            retry.unlink(missing_ok=True)
    if first is not None:
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
        leveler=_leveler_summary(leveling),
        timeline=placement(body, clips, audio),
        series={"before_lufs": _plain(source.short_term), "after_lufs": _plain(out.short_term),
                "limiter_gain_db": _plain(limiter.gain_db_per_segment()),
                **_leveler_series(leveling, source),
                "step_s": [SEGMENT_S], "frames_per_step": [seg]})


def _leveler_settings(audio: AudioSettings) -> LevelerSettings:
    return LevelerSettings(max_boost_db=audio.level_max_boost_db,
                           max_cut_db=-audio.level_max_cut_db)


def _leveler_summary(leveling: Leveling | None) -> dict | None:
    """What the leveler did, for the manifest and --json (None when it was off)."""
    if leveling is None:
        return None
    st = leveling.stats
    return {"speech_s": round(st.speech_s, 1), "stretches": st.stretches,
            "max_boost_db": round(st.max_boost_db, 1), "max_cut_db": round(st.max_cut_db, 1),
            "spread_before_db": round(st.spread_before_db, 2),
            "spread_after_db": round(st.spread_after_db, 2)}


def _leveler_series(leveling: Leveling | None, source: Measurement) -> dict[str, list]:
    """The leveler's gain and where speech is, every SEGMENT_S, for the report's plot."""
    if leveling is None:
        return {}
    per = max(1, round(SEGMENT_S / DETAIL_S))
    n = len(leveling.curve) // per * per
    gain = leveling.curve[:n].reshape(-1, per).mean(axis=1)
    speech = leveling.speech[:n].reshape(-1, per).mean(axis=1) > 0.5
    return {"leveler_gain_db": _plain(gain), "speech": [int(v) for v in speech]}


def _fault(out: Measurement, audio: AudioSettings) -> tuple[float, float]:
    """How an encode misses, worst first: by how much its peaks pass the ceiling, then the
    loudness error."""
    return (max(0.0, out.true_peak_dbtp - audio.true_peak_dbtp),
            abs(out.integrated_lufs - audio.target_lufs))


def _corrected_ceiling(tries: list[tuple[float, float]], true_peak_dbtp: float) -> float:
    """The limiter ceiling for the next encode, from the (ceiling, MP3 true peak) of those so far.

    After one, LAME's overshoot on this material as just measured sets it. LAME overshoots
    more as the limiter works harder (2.4 dB, then 2.9 dB on denoised speech), so after two
    the ceiling is found on the line through them, no more than 6 dB under the last."""
    aim = true_peak_dbtp - 0.2
    (c0, p0), (c1, p1) = tries[0], tries[-1]
    if len(tries) > 1 and c1 < c0 and p1 < p0:
        return max(c1 - 6.0, min(c1, c1 + (aim - p1) * (c1 - c0) / (p1 - p0)))
    return min(c1, aim - (p1 - c1))


def _frac(done: float, total: float) -> float:
    return min(1.0, done / total) if total > 0 else 0.0


def _plain(a: np.ndarray) -> list[float]:
    return [round(float(v), 2) if np.isfinite(v) else None for v in a]


def _measure(exe: str, src: Path, audio: AudioSettings, progress: Callable[[float], None]
             ) -> tuple[Measurement, VoicingFeatures | None]:
    """Pass 1: the meter, with the 5 ms detail the gain search and the leveler need, and the
    leveler's voicing analysis from the same chunks."""
    meter = Meter(audio.sample_rate, audio.channels, detail=True)
    voicing = VoicingAnalyser(audio.sample_rate, audio.channels,
                              max(1, round(DETAIL_S * audio.sample_rate))) if audio.level else None
    with ffmpeg.pipe(_source_args(exe, src, audio), "decoding", where=src) as proc:
        for x in ffmpeg.chunks(proc.stdout, audio.channels):
            meter.add(x)
            if voicing is not None:
                voicing.add(x)
            progress(meter.frames / audio.sample_rate)
    return meter.result(), voicing.result() if voicing is not None else None


def _source_args(exe: str, src: Path | str, audio: AudioSettings,
                 span_s: tuple[float, float] | None = None) -> list[str]:
    """The recording decoded as both passes see it: the feed's format, rumble filtered out."""
    filters = f"highpass=f={audio.highpass_hz:g}" if audio.highpass_hz else None
    return ffmpeg.decode_args(exe, src, audio.sample_rate, audio.channels, filters=filters,
                              span_s=span_s)


def _codec_loss(exe: str, src: Path, audio: AudioSettings, source: Measurement, gain: float,
                ceiling: float, curve: np.ndarray | None) -> float:
    """What the gain model and LAME together miss on the loudest 20 s, levelled, at the
    planned gain and ceiling."""
    start_s, length_s = loudest_stretch(source.short_term, source.duration_s)
    with ffmpeg.pipe(_source_args(exe, src, audio, (start_s, length_s)), "decoding",
                     where=src) as proc:
        parts = list(ffmpeg.chunks(proc.stdout, audio.channels))
    if not parts:
        return 0.0
    x = np.concatenate(parts)
    if curve is not None:
        x = leveler.apply(x, round(start_s * audio.sample_rate), curve, source.detail_frames)
    return codec_loss_lu(exe, x, audio.sample_rate, audio.channels, audio.bitrate, gain,
                         ceiling)


def _render(exe: str, src: Path, tmp: Path, audio: AudioSettings, gain: float, ceiling: float,
            body: tuple[int, int], clips: Clips, progress: Callable[[float], None],
            curve: np.ndarray | None = None) -> tuple[Measurement, Limiter]:
    """Pass 2: gain, clips and limiter into LAME; the MP3 goes to `tmp` and to a verifying meter."""
    rate, channels = audio.sample_rate, audio.channels
    limiter = Limiter(rate, channels, ceiling)
    meter = Meter(rate, channels)
    crossfade = round(audio.crossfade_ms / 1000 * rate)
    with (ffmpeg.pipe(_source_args(exe, src, audio), "decoding", where=src) as dec,
          ffmpeg.pipe(ffmpeg.mp3_encode_args(exe, rate, channels, audio.bitrate, tmp),
                      "encoding the MP3", where=src,
                      direction="both") as enc,
          ffmpeg.pipe(ffmpeg.decode_args(exe, "-", rate, channels, fmt="mp3"),
                      "decoding the encoded MP3", where=src, direction="both") as ver):
        block = ffmpeg.CHUNK_FRAMES * channels * 4
        threads = [ffmpeg.Drain(enc.stdout, [ver.stdin.write], close=ver.stdin),
                   ffmpeg.Drain(ver.stdout, [lambda b: meter.add(ffmpeg.frames(b, channels))],
                                size=block)]
        detail = max(1, round(DETAIL_S * rate))
        level = None if curve is None else (lambda y, at: leveler.apply(y, at, curve, detail))
        try:
            done = 0
            for y in assemble(ffmpeg.chunks(dec.stdout, channels), gain, body, clips, crossfade,
                              level):
                enc.stdin.write(limiter.process(y).tobytes())
                done += len(y)
                progress(done / rate)
            enc.stdin.write(limiter.finish().tobytes())
        finally:
            ffmpeg.close_quietly(enc.stdin)
            for t in threads:
                t.join()
        for t in threads:
            t.raise_error()
    return meter.result(), limiter


