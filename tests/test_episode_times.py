"""Chapters, transcripts and soundbites land where their audio is in the MP3, with an intro, a
crossfade, two bumpers and trimming: found by cross-correlating marker tones in the decoded
MP3, never by redoing the timeline's arithmetic."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from helpers import run, run_json, set_key
from mutagen.id3 import ID3
from scipy.signal import correlate

from pipeline.audio import ffmpeg
from pipeline.texts.transcript import parse_json, parse_srt, parse_vtt
from tests.signals import sine, speech_like, write_wav

pytestmark = pytest.mark.e2e  # a module fixture publishes a timed episode once

RATE = 44100
EXE = ffmpeg.find_ffmpeg()
NS = {"podcast": "https://podcastindex.org/namespace/1.0",
      "psc": "http://podlove.org/simple-chapters"}
# Marker tones in the recording: recording time (s) -> frequency (Hz), each a 0.25 s burst.
MARKERS = {2.0: 1000, 6.0: 1500, 9.0: 2000, 11.0: 2500, 16.0: 3000, 18.0: 3500, 24.0: 1250}
BUMPERS = (9.0, 16.0)  # recording times; the clip is 1.5 s of 700 Hz
BUMPER_HZ = 700
TOLERANCE_S = 0.05
# Cues (recording times) and the marker where each one's audio starts in the MP3: the third
# would be split by the bumper at 9 s, so it starts where the recording resumes after it.
CUES = [((2.0, 5.5), 2.0), ((6.0, 8.5), 6.0), ((8.6, 10.0), 9.0), ((11.0, 14.5), 11.0),
        ((18.0, 20.0), 18.0), ((24.0, 26.5), 24.0)]
EPISODE = """title = "Timed"
number = 1
published = 2026-11-20T09:00:00-05:00
audio = "recording.wav"
notes = "Markers at known times."
transcript = "transcript.vtt"
intro = "intro.wav"

[[chapters]]
start = 0
title = "Welcome"

[[chapters]]
start = 6.0
title = "Mentorship"

[[chapters]]
start = "00:18"
title = "Advice"

[[bumpers]]
start = 9.0
clip = "bumper.wav"

[[bumpers]]
start = 16.0
clip = "bumper.wav"

[[soundbites]]
start = 11.0
duration = 3.0

[[soundbites]]
start = 15.0
duration = 2.0
"""


def _burst(hz: float) -> np.ndarray:
    t = np.arange(round(0.25 * RATE)) / RATE
    return (np.hanning(len(t)) * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _recording() -> np.ndarray:
    """2 s of silence (trimmed), 25 s of speech with the markers, 3 s of silence (trimmed)."""
    x = np.zeros((30 * RATE, 2), np.float32)
    x[2 * RATE:27 * RATE] = speech_like(25, RATE, peak=0.3)
    for at, hz in MARKERS.items():
        burst = _burst(hz)
        x[round(at * RATE):round(at * RATE) + len(burst)] = 0.5 * burst[:, None]
    return x


def _vtt_time(s: float) -> str:
    return f"00:00:{s:06.3f}"


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> tuple[Path, dict, np.ndarray]:
    from helpers import copy_project

    project = copy_project(tmp_path_factory.mktemp("times") / "show")
    folder = project / "episodes/001-welcome"
    write_wav(folder / "recording.wav", _recording(), RATE)
    write_wav(folder / "intro.wav", sine(440, -20, 3.0, RATE), RATE)
    write_wav(folder / "bumper.wav", sine(BUMPER_HZ, -20, 1.5, RATE), RATE)
    (folder / "transcript.vtt").write_text("WEBVTT\n\n" + "\n".join(
        f"{_vtt_time(a)} --> {_vtt_time(b)}\nCue {n}\n" for n, ((a, b), _) in
        enumerate(CUES, 1)), encoding="utf-8")
    (folder / "episode.toml").write_text(EPISODE, encoding="utf-8")
    feed = project / "feeds/women-in-surgery.toml"
    feed.write_text(feed.read_text() + "crossfade_ms = 1000\ntrim_silence = true\n")
    result = run_json(project, "episode", "1")
    return project, result, _decode(_local(result["audio"]["location"]))


def _local(location: str) -> Path:
    return Path(location.removeprefix("file://"))


def _decode(mp3: Path) -> np.ndarray:
    raw = subprocess.run([EXE, "-v", "error", "-i", str(mp3), "-f", "f32le", "-ac", "1", "-ar",
                          str(RATE), "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.float32)


def _found_at(decoded: np.ndarray, recording_s: float) -> float:
    """Where the marker put at `recording_s` is in the MP3, by cross-correlation."""
    score = correlate(decoded, _burst(MARKERS[recording_s]), mode="valid", method="fft")
    return float(np.argmax(score)) / RATE


def _tone_share(x: np.ndarray, hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    return float(spectrum[np.abs(freqs - hz) < 20].sum() / spectrum.sum())


def _side_file(project: Path, tag: str, mime: str | None = None) -> str:
    """A file the feed's item links to (podcast:chapters, podcast:transcript of a type)."""
    (url,) = [n.get("url") for n in _item(project).findall(f"podcast:{tag}", NS)
              if mime is None or n.get("type") == mime]
    key = url.removeprefix("https://media.example.org/women-in-surgery/")
    return (project / "public" / key).read_text(encoding="utf-8")


def _json_chapters(project: Path) -> list[tuple[float, str]]:
    doc = json.loads(_side_file(project, "chapters"))
    return [(c["startTime"], c["title"]) for c in doc["chapters"]]


def _id3_chapters(result: dict) -> list[tuple[float, str]]:
    tags = ID3(_local(result["audio"]["location"]))
    chaps = {c.element_id: c for c in tags.getall("CHAP")}
    (toc,) = tags.getall("CTOC")
    return [(chaps[i].start_time / 1000, chaps[i].sub_frames["TIT2"].text[0])
            for i in toc.child_element_ids]


def _item(project: Path) -> ET.Element:
    return ET.parse(project / "public/women-in-surgery.xml").getroot().find("channel/item")


def _psc_chapters(project: Path) -> list[tuple[float, str]]:
    def seconds(stamp: str) -> float:
        h, m, s = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)
    return [(seconds(c.get("start")), c.get("title"))
            for c in _item(project).findall("psc:chapters/psc:chapter", NS)]


def test_chapters_start_where_their_audio_is(published):
    project, result, decoded = published
    for chapters in (_json_chapters(project), _id3_chapters(result), _psc_chapters(project)):
        assert [title for _, title in chapters] == ["Intro", "Welcome", "Mentorship", "Advice"]
        (intro, _), (welcome, _), (mentorship, _), (advice, _) = chapters
        assert intro == 0
        # The recording starts with silence that trimming cut to its last 0.2 s: "Welcome"
        # starts at most that long before the first sound (the marker at 2 s).
        first_sound = _found_at(decoded, 2.0)
        assert first_sound - 0.2 - TOLERANCE_S <= welcome <= first_sound
        assert mentorship == pytest.approx(_found_at(decoded, 6.0), abs=TOLERANCE_S)
        assert advice == pytest.approx(_found_at(decoded, 18.0), abs=TOLERANCE_S)


def test_transcript_cues_start_where_their_audio_is(published):
    project, _, decoded = published
    expected = [_found_at(decoded, marker) for _, marker in CUES]
    for mime, parse in (("text/vtt", parse_vtt), ("application/x-subrip", parse_srt),
                        ("application/json", parse_json)):
        cues = parse(_side_file(project, "transcript", mime))
        assert [c.start_ms / 1000 for c in cues] == pytest.approx(expected, abs=TOLERANCE_S)
        # Lengths are kept, but for the cue the bumper would split: it starts after it.
        lengths = [(c.end_ms - c.start_ms) / 1000 for c in cues]
        assert lengths == pytest.approx([b - a for (a, b), _ in CUES[:2]] + [1.0]
                                        + [b - a for (a, b), _ in CUES[3:]], abs=0.002)


def test_a_cue_a_bumper_would_split_starts_after_the_bumper(published):
    project, _, decoded = published
    cues = parse_vtt(_side_file(project, "transcript", "text/vtt"))
    split = cues[2].start_ms / 1000
    before = decoded[round((split - 1.4) * RATE):round((split - 0.05) * RATE)]
    assert _tone_share(before, BUMPER_HZ) > 0.9  # the bumper plays just before the cue
    assert cues[1].end_ms / 1000 < split - 1.4  # and after the cue before it


def test_soundbites_start_where_their_audio_is(published):
    project, _, decoded = published
    bites = [(float(b.get("startTime")), float(b.get("duration")))
             for b in _item(project).findall("podcast:soundbite", NS)]
    assert [start for start, _ in bites] == pytest.approx(
        [_found_at(decoded, 11.0), _found_at(decoded, 16.0)], abs=TOLERANCE_S)
    assert [duration for _, duration in bites] == pytest.approx([3.0, 1.0], abs=0.002)


def test_published_times_pass_validation_and_survive_a_retag(published):
    project, result, _ = published
    assert run_json(project, "validate")["errors"] == []
    chapters_before = _side_file(project, "chapters")
    set_key(project / "episodes/001-welcome/episode.toml", "title", '"Timed, retitled"')
    again = run_json(project, "episode", "1")
    assert again["retagged"] is True and again["encoded"] is False
    assert _id3_chapters(again) == _id3_chapters(result)
    assert _side_file(project, "chapters") == chapters_before


def test_times_that_trimming_cut_are_refused_before_upload(project, episode_toml):
    """Only mastering knows what trimming keeps: a chapter in the trailing silence would start
    at the very end of the MP3, so nothing is published."""
    folder = episode_toml.parent
    x = np.concatenate([speech_like(4, RATE, peak=0.3), np.zeros((3 * RATE, 2), np.float32)])
    write_wav(folder / "recording.wav", x, RATE)
    episode_toml.write_text(EPISODE.split("[[chapters]]")[0].replace(
        'transcript = "transcript.vtt"\nintro = "intro.wav"\n', "")
        + '[[chapters]]\nstart = 0\ntitle = "A"\n\n[[chapters]]\nstart = 6\ntitle = "B"\n')
    feed = project / "feeds/women-in-surgery.toml"
    feed.write_text(feed.read_text() + "trim_silence = true\n")
    proc = run(project, "episode", "1", check=False)
    assert proc.returncode == 1
    assert "chapters" in proc.stderr and "times in the MP3" in proc.stderr
    assert not (project / "public/episodes").exists()
