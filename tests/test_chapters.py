"""Chapters files, and one set of chapters agreeing across JSON, ID3 and Podlove chapters."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import run, run_json, set_key
from mutagen.id3 import ID3

from pipeline.project.config import load_episode
from pipeline.texts import chapters

DEMO = [(0.0, "Welcome"), (15.5, "Mentorship in residency"),
        (26.5, "Advice for medical students"), (53.5, "Goodbye")]
PSC = "{http://podlove.org/simple-chapters}"
PODCAST = "{https://podcastindex.org/namespace/1.0}"


def test_text_chapters_parse():
    text = "# chapters\n00:00 Intro\n\n01:15.25 The talk <https://example.com/talk>\n"
    assert chapters.parse_text(text) == [{"start": "00:00", "title": "Intro"},
                                   {"start": "01:15.25", "title": "The talk",
                                    "url": "https://example.com/talk"}]


def test_json_chapters_parse_and_skip_non_toc_marks():
    doc = {"version": "1.2.0", "chapters": [
        {"startTime": 0, "title": "Intro", "img": "https://example.com/i.jpg"},
        {"startTime": 30, "title": "Ad", "toc": False},
        {"startTime": 60.5, "title": "Talk", "url": "https://example.com/t"}]}
    assert chapters.parse_json(json.dumps(doc)) == [
        {"start": 0.0, "title": "Intro", "image": "https://example.com/i.jpg"},
        {"start": 60.5, "title": "Talk", "url": "https://example.com/t"}]


@pytest.mark.parametrize("starts, duration, message", [
    ([5.0, 10.0], None, "first chapter starts at 0"),
    ([0.0, 10.0, 10.0], None, "starts increase"),
    ([0.0, 70.0], 61.4, "not before the end of the audio"),
])
def test_bad_chapter_starts(starts, duration, message):
    with pytest.raises(ValueError, match=message):
        chapters.check_starts(starts, duration)


@pytest.mark.parametrize("name, content", [
    ("chapters.txt", ("00:00 Welcome\n00:15.5 Mentorship in residency\n"
                     "00:26.5 Advice for medical students\n00:53.5 Goodbye\n")),
    ("chapters.json", json.dumps({"version": "1.2.0", "chapters": [
        {"startTime": s, "title": t} for s, t in DEMO]})),
])
def test_chapters_file_gives_the_same_chapters_as_toml(episode_toml, name, content):
    from_toml = load_episode(episode_toml.parent).chapters
    _use_chapters_file(episode_toml, name)
    (episode_toml.parent / name).write_text(content)
    loaded = load_episode(episode_toml.parent).chapters
    assert [(c.start_s, c.title) for c in loaded] == [(c.start_s, c.title) for c in from_toml]
    assert [(c.start_s, c.title) for c in loaded] == DEMO


def _use_chapters_file(episode_toml: Path, name: str) -> None:
    """Drop the [[chapters]] tables of the demo episode and point at a file instead."""
    text = episode_toml.read_text()
    episode_toml.write_text(text[:text.index("[[chapters]]")] + text[text.index("[[persons]]"):])
    set_key(episode_toml, "chapters_file", f'"{name}"')


def test_bad_chapters_file_is_named(project, episode_toml):
    _use_chapters_file(episode_toml, "chapters.txt")
    (episode_toml.parent / "chapters.txt").write_text("00:00 Intro\nsoon Later\n")
    proc = run(project, "episode", "1", check=False)
    assert proc.returncode == 2
    assert "chapters.txt" in proc.stderr and "line 2" in proc.stderr


def test_chapters_agree_across_json_id3_and_psc(project):
    r = run_json(project, "episode", "1")
    public = project / "public"
    item = ET.parse(public / "women-in-surgery.xml").getroot().find("channel/item")

    chapters_url = item.find(f"{PODCAST}chapters").get("url")
    key = chapters_url.removeprefix("https://media.example.org/women-in-surgery/")
    doc = json.loads((public / key).read_text())
    from_json = [(c["startTime"], c["title"]) for c in doc["chapters"]]

    tags = ID3(Path(r["audio"]["location"].removeprefix("file://")))
    (toc,) = tags.getall("CTOC")
    frames = {c.element_id: c for c in tags.getall("CHAP")}
    from_id3 = [(frames[i].start_time / 1000, frames[i].sub_frames["TIT2"].text[0])
                for i in toc.child_element_ids]

    def seconds(stamp: str) -> float:
        h, m, s = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)
    from_psc = [(seconds(c.get("start")), c.get("title"))
                for c in item.find(f"{PSC}chapters").findall(f"{PSC}chapter")]

    assert from_json == from_id3 == from_psc == DEMO
