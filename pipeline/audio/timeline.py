"""The episode's timeline: intro, the recording (trimmed, at its gain) with bumpers inserted,
outro; and where each part lands in the MP3."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..project.config import AudioSettings
from .clips import Clip, load_clip, mix
from .meter import SEGMENT_S, Measurement

SILENCE_DB = -60.0  # after gain; quieter leading/trailing segments are trimmed when asked
SILENCE_PAD_S = 0.2


@dataclass(frozen=True)
class Clips:
    """Intro and outro (levelled, faded) and the bumpers as (frame of the recording, samples)."""

    intro: Clip | None = None
    outro: Clip | None = None
    bumpers: list[tuple[int, np.ndarray]] = field(default_factory=list)


def body_range(m: Measurement, gain_db: float, trim: bool) -> tuple[int, int]:
    """Frames of the source to keep: all, or without silence (after gain) at both ends."""
    if not trim:
        return 0, m.frames
    seg = max(1, round(SEGMENT_S * m.rate))
    loud = np.flatnonzero(m.segment_peaks * 10 ** (gain_db / 20) > 10 ** (SILENCE_DB / 20))
    pad = round(SILENCE_PAD_S / SEGMENT_S)
    return max(0, loud[0] - pad) * seg, min(m.frames, (loud[-1] + 1 + pad) * seg)


def load_clips(exe: str, audio: AudioSettings,
               bumpers: Sequence[tuple[float, Path]] = ()) -> Clips:
    """Intro, outro and bumpers decoded and levelled to the target."""
    def load(path: Path | None, fade_in: int, fade_out: int) -> Clip | None:
        if path is None:
            return None
        return load_clip(exe, path, audio.sample_rate, audio.channels, audio.target_lufs,
                         fade_in, fade_out)

    inserts = [(round(at * audio.sample_rate), load(path, audio.fade_ms, audio.fade_ms).samples)
               for at, path in bumpers]
    return Clips(load(audio.intro, audio.fade_ms, audio.crossfade_ms),
                 load(audio.outro, audio.crossfade_ms, audio.fade_ms), inserts)


def assemble(chunks: Iterator[np.ndarray], gain: float, body: tuple[int, int],
             clips: Clips, crossfade: int,
             level: Callable[[np.ndarray, int], np.ndarray] | None = None
             ) -> Iterator[np.ndarray]:
    """The episode as it will sound: intro, the body levelled (`level(frames, first frame)`)
    and at its gain (trimmed) with the bumpers inserted where they belong, outro; intro and
    outro overlap the body by the crossfade. Clips keep a linear gain: the leveler rides speech.

    Clips are in memory; the body streams, so each body chunk gets the clip parts under it.
    """
    intro, outro = (c.samples if c else None for c in (clips.intro, clips.outro))
    first, last = body
    # A bumper before the trimmed start plays at the start; after the end, at the end.
    inserts = sorted(((min(max(at, first), last), samples) for at, samples in clips.bumpers),
                     key=lambda item: item[0])
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
        y = x[lo - (pos - len(x)):hi - (pos - len(x))]
        y = (level(y, lo) if level is not None else y) * g
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


