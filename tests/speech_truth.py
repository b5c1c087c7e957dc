"""The leveler's speech detector scored against where a generated conversation really talks.

The conversation generator knows every turn, pause and breath, so the detector can be judged
step by step (5 ms): recall is the share of speech it marks, precision the share of what it
marks that is speech, and the pause and breath shares how much of each it takes for speech.
Speech is the turns less their pauses and breaths (gaps between words, under 120 ms, count as
speech, as the detector closes them on purpose). Steps within `MARGIN_S` of a boundary are
left out of every score: the detector's level is a 50 ms window, so it cannot place an edge
more finely than that, and a score should not hinge on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from conversation import Recording

from pipeline.audio.leveler import gain_curve
from pipeline.audio.master import _leveler_settings, _measure
from pipeline.project.config import AudioSettings

MARGIN_S = 0.05
BREATH_GAP_S = 0.15  # conversation.py: a breath ends this long before speech, at most


@dataclass(frozen=True)
class Scores:
    recall: float  # share of speech marked as speech
    precision: float  # share of what is marked that is speech
    pauses_as_speech: float  # share of pause time marked as speech
    breaths_as_speech: float  # share of breath time marked as speech (nan without breaths)


def detect(exe: str, wav: Path, audio: AudioSettings = AudioSettings(),
           voicing: bool = True) -> tuple[np.ndarray, float]:
    """The speech mask the leveler works from, per detail step, and the step in seconds:
    pass 1 of mastering (decode, high-pass, meter, voicing), then the leveler's analysis.
    `voicing=False` judges by level alone, as the leveler would without its voicing pass."""
    source, features = _measure(exe, wav, audio, lambda s: None)
    leveling = gain_curve(source.detail_energies, features if voicing else None,
                          audio.sample_rate, source.detail_frames, _leveler_settings(audio))
    return leveling.speech, source.detail_frames / audio.sample_rate


def score(mask: np.ndarray, rec: Recording, step_s: float) -> Scores:
    """How the mask matches the recording's turns, pauses and breaths (see the module doc)."""
    n = len(mask)
    speech, pause, breath = (np.zeros(n, dtype=bool) for _ in range(3))
    edges = np.zeros(n, dtype=bool)

    def span(a: float, b: float) -> slice:
        return slice(max(0, round(a / step_s)), min(n, round(b / step_s)))

    for t in rec.turns:
        speech[span(t.start, t.end)] = True
    for spans, kind in ((rec.pauses, pause), (rec.breaths, breath)):
        for a, b in spans:
            speech[span(a, b)] = False
            kind[span(a, b)] = True
    for a, b in [(t.start, t.end) for t in rec.turns] + rec.pauses + rec.breaths:
        for at in (a, b):
            edges[span(at - MARGIN_S, at + MARGIN_S)] = True
    for _, b in rec.breaths:  # the speaker starts 50-150 ms after a breath; where, unknown
        edges[span(b, b + BREATH_GAP_S + MARGIN_S)] = True
    judged = ~edges  # everything else is speech or not: room tone, pauses, breaths
    return Scores(recall=_share(mask, speech & judged),
                  precision=float(mask[speech & judged].sum() / max(1, mask[judged].sum())),
                  pauses_as_speech=_share(mask, pause & judged),
                  breaths_as_speech=_share(mask, breath & judged))


def _share(mask: np.ndarray, where: np.ndarray) -> float:
    return float(mask[where].mean()) if where.any() else float("nan")
