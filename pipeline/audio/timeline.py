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
class Placement:
    """Where the recording lands in the episode, in frames at `rate`: the intro (minus the
    crossfade) before it, what trimming kept of it, the bumpers played inside it. Mastering
    reports it and the manifest keeps it, so times map the same way when an episode is only
    re-tagged. Without trimming, intro and bumpers it is the identity: Placement(rate)."""

    rate: int
    offset: int = 0  # where the recording's first kept frame plays in the episode
    first: int = 0  # the first frame of the recording kept
    last: int | None = None  # the frame after the last one kept; None: to its end
    bumpers: tuple[tuple[int, int], ...] = ()  # (frame of the recording, length), in order

    def episode_s(self, t_s: float, end: bool = False) -> float:
        """Where a moment of the recording plays in the episode, to the millisecond.

        A moment that trimming cut plays at the nearest kept one. A bumper at the very moment
        plays before it, unless the moment is the `end` of something (a cue, a soundbite),
        which then ends as the bumper starts."""
        frame = max(round(t_s * self.rate), self.first)
        t_s = max(t_s, self.first / self.rate)
        if self.last is not None and frame >= self.last:
            frame, t_s = self.last, self.last / self.rate
        played = sum(n for at, n in self.bumpers if at < frame or (at == frame and not end))
        return round(t_s + (self.offset - self.first + played) / self.rate, 3)

    def span(self, start_s: float, end_s: float) -> tuple[float, float]:
        """Where a stretch of the recording plays; one that a bumper would split starts after
        the bumper instead, so it never plays across it."""
        lo, hi = round(start_s * self.rate), round(end_s * self.rate)
        inside = [at for at, _ in self.bumpers if lo < at < hi]
        if inside:
            start_s = inside[-1] / self.rate
        return self.episode_s(start_s), self.episode_s(end_s, end=True)

    @classmethod
    def from_dict(cls, d: dict) -> Placement:
        """From the manifest's JSON (where tuples became lists)."""
        return cls(**{**d, "bumpers": tuple(tuple(b) for b in d.get("bumpers", ()))})


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


def _layout(body: tuple[int, int], clips: Clips,
            crossfade: int) -> tuple[int, list[tuple[int, np.ndarray]], int]:
    """Where `assemble` puts the parts: the episode frame the body starts at (after the intro,
    less the crossfade), the bumpers at kept frames in playing order, and how long the body
    with its bumpers runs."""
    first, last = body
    # A bumper before the trimmed start plays at the start; after the end, at the end.
    inserts = sorted(((min(max(at, first), last), samples) for at, samples in clips.bumpers),
                     key=lambda item: item[0])
    length = last - first + sum(len(samples) for _, samples in inserts)
    intro = clips.intro.samples if clips.intro else None
    start = max(0, len(intro) - min(crossfade, len(intro), length // 2)) if intro is not None else 0
    return start, inserts, length


def placement(body: tuple[int, int], clips: Clips, audio: AudioSettings) -> Placement:
    """Where `assemble` puts the recording, for mapping times onto the episode."""
    rate = audio.sample_rate
    start, inserts, _ = _layout(body, clips, round(audio.crossfade_ms / 1000 * rate))
    # Plain ints: the frames come from numpy and the placement goes into the manifest's JSON.
    return Placement(rate, int(start), int(body[0]), int(body[1]),
                     tuple((int(at), len(samples)) for at, samples in inserts))


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
    start, inserts, length = _layout(body, clips, crossfade)
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


