"""Chapters, transcript cues and soundbites moved from the recording's clock to the MP3's.

They are written against the recording; the intro, the bumpers and trimming move the recording
inside the MP3, so every format published (ID3 CHAP, JSON and psc chapters, the transcripts,
podcast:soundbite) takes its times from here, all mapped by one Placement.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..audio.timeline import Placement
from ..manifest import PublishedChapter, PublishedSoundbite
from ..texts.transcript import Cue

if TYPE_CHECKING:
    from ..project.config import EpisodeConfig

INTRO_TITLE = "Intro"


@dataclass(frozen=True)
class EpisodeTimes:
    """An episode's chapters, cues (None: no transcript) and soundbites, on one clock."""

    chapters: list[PublishedChapter]
    cues: list[Cue] | None
    soundbites: list[PublishedSoundbite]

    @classmethod
    def of(cls, ep: EpisodeConfig, cues: list[Cue] | None) -> EpisodeTimes:
        """The episode's as written (its transcript's `cues` read): the recording's clock."""
        return cls([PublishedChapter(start_s=c.start_s, title=c.title, url=c.url, image=c.image)
                    for c in ep.chapters], cues,
                   [PublishedSoundbite(start_s=b.start_s, duration_s=b.duration, title=b.title)
                    for b in ep.soundbites])

    def on_episode(self, p: Placement) -> EpisodeTimes:
        """From the recording's clock to the episode's."""
        return EpisodeTimes(chapters(self.chapters, p),
                            None if self.cues is None else [_cue(c, p) for c in self.cues],
                            [_soundbite(b, p) for b in self.soundbites])


def chapters(marks: list[PublishedChapter], p: Placement) -> list[PublishedChapter]:
    """Each chapter where its first moment plays. Chapters still start at 0: an intro before
    the first one becomes an "Intro" chapter; anything else (a bumper at the very start)
    belongs to the first chapter."""
    moved = [m.model_copy(update={"start_s": p.episode_s(m.start_s)}) for m in marks]
    if moved and moved[0].start_s > 0:
        if p.offset > 0:
            moved.insert(0, PublishedChapter(start_s=0.0, title=INTRO_TITLE))
        else:
            moved[0] = moved[0].model_copy(update={"start_s": 0.0})
    return moved


def _cue(cue: Cue, p: Placement) -> Cue:
    start_s, end_s = p.span(cue.start_ms / 1000, cue.end_ms / 1000)
    return replace(cue, start_ms=round(start_s * 1000), end_ms=round(end_s * 1000))


def _soundbite(bite: PublishedSoundbite, p: Placement) -> PublishedSoundbite:
    start_s, end_s = p.span(bite.start_s, bite.start_s + bite.duration_s)
    return bite.model_copy(update={"start_s": start_s, "duration_s": round(end_s - start_s, 3)})
