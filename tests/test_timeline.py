"""Where the recording lands in the episode: the one mapping from recording times to MP3 times,
checked on its own, against the assembly itself, and as chapters, cues and soundbites use it."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest

from pipeline.audio.clips import Clip
from pipeline.audio.timeline import Clips, Placement, assemble, placement
from pipeline.feed.timing import EpisodeTimes, chapters
from pipeline.manifest import PublishedChapter, PublishedSoundbite
from pipeline.project.config import AudioSettings
from pipeline.texts.transcript import Cue

RATE = 1000  # one frame a millisecond keeps the arithmetic readable
# An intro 2.5 s before the recording, trimming that kept 3 s to 10 s, a 2 s bumper at 5 s.
MOVED = Placement(RATE, offset=2500, first=3000, last=10000, bumpers=((5000, 2000),))


def test_without_intro_bumpers_or_trimming_times_stay_as_written():
    p = Placement(44100)
    assert [p.episode_s(t) for t in (0.0, 15.5, 26.47, 61.34)] == [0.0, 15.5, 26.47, 61.34]
    assert p.span(46.67, 52.92) == (46.67, 52.92)


@pytest.mark.parametrize("recording_s, episode_s", [
    (3.0, 2.5),  # the first kept moment plays right after the intro (less the crossfade)
    (4.2, 3.7),
    (1.0, 2.5),  # trimmed away: plays where the kept recording starts
    (4.999, 4.499),
    (5.0, 6.5),  # the bumper plays first, then the recording goes on
    (7.0, 8.5),
    (10.0, 11.5),  # the end of what was kept
    (12.0, 11.5),  # trimmed at the end
])
def test_recording_times_move_by_the_intro_trimming_and_bumpers(recording_s, episode_s):
    assert MOVED.episode_s(recording_s) == pytest.approx(episode_s, abs=1e-9)


def test_an_end_at_a_bumper_ends_before_it():
    assert MOVED.episode_s(5.0, end=True) == 4.5
    assert MOVED.span(4.0, 5.0) == (3.5, 4.5)
    assert MOVED.span(5.0, 6.0) == (6.5, 7.5)


def test_a_stretch_a_bumper_would_split_starts_after_the_bumper():
    assert MOVED.span(4.5, 5.5) == (6.5, 7.0)
    two = Placement(RATE, bumpers=((2000, 500), (3000, 500)))
    assert two.span(1.0, 4.0) == (4.0, 5.0)  # after the last bumper inside it


def test_placement_survives_the_manifest_json():
    data = json.loads(json.dumps(asdict(MOVED)))
    assert Placement.from_dict(data) == MOVED


def test_placement_is_where_assemble_puts_every_frame():
    """Independent of the arithmetic: number every frame of a recording, assemble the episode,
    and find where each number landed."""
    rate = 22050
    audio = AudioSettings(sample_rate=rate, channels=1, crossfade_ms=500)
    frames = 10 * rate
    recording = (np.arange(frames, dtype=np.float32) + 1)[:, None]  # 1 .. n, exact in float32
    silence = lambda seconds: Clip(np.zeros((round(seconds * rate), 1), np.float32), 0.0)
    bumper = -np.ones((rate // 2, 1), np.float32)
    clips = Clips(intro=silence(2.0), outro=silence(1.0),
                  bumpers=[(4 * rate, bumper), (7 * rate, bumper), (0, bumper)])
    body = (rate, 9 * rate)  # trimming kept 1 s to 9 s
    crossfade = round(audio.crossfade_ms / 1000 * rate)
    out = np.concatenate(list(assemble(
        (recording[i:i + 5000] for i in range(0, frames, 5000)), 0.0, body, clips, crossfade)))
    p = placement(body, clips, audio)
    for t in (1.0, 2.5, 3.999, 4.0, 6.0, 7.0, 8.999):
        landed = np.flatnonzero(out[:, 0] == round(t * rate) + 1)
        assert len(landed) == 1
        assert p.episode_s(t) == pytest.approx(landed[0] / rate, abs=0.0005)


def test_chapters_get_an_intro_chapter_when_an_intro_plays_first():
    marks = [PublishedChapter(start_s=0, title="Welcome"),
             PublishedChapter(start_s=6.0, title="Mentorship", url="https://example.org/m")]
    assert [(c.start_s, c.title) for c in chapters(marks, MOVED)] == [
        (0.0, "Intro"), (2.5, "Welcome"), (7.5, "Mentorship")]
    assert chapters(marks, MOVED)[2].url == "https://example.org/m"
    # A bumper at the very start with no intro belongs to the first chapter.
    opening = Placement(RATE, bumpers=((0, 1500),))
    assert [c.start_s for c in chapters(marks, opening)] == [0.0, 7.5]
    assert chapters([], MOVED) == []


def test_cues_and_soundbites_move_and_leave_a_bumper_whole():
    times = EpisodeTimes(
        chapters=[],
        cues=[Cue(3500, 4800, "before"), Cue(4800, 5400, "split", "Host"),
              Cue(5400, 6000, "after")],
        soundbites=[PublishedSoundbite(start_s=4.0, duration_s=2.0, title="split")])
    moved = times.on_episode(MOVED)
    assert [(c.start_ms, c.end_ms) for c in moved.cues] == [(3000, 4300), (6500, 6900),
                                                            (6900, 7500)]
    assert moved.cues[1].speaker == "Host" and moved.cues[1].text == "split"
    (bite,) = moved.soundbites
    assert (bite.start_s, bite.duration_s, bite.title) == (6.5, 1.0, "split")
