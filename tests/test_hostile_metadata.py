"""Hostile and broken metadata, through the real command: published safely or refused cleanly."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import feedparser
import podcastparser
import pytest
from helpers import run, run_json, set_key, tree
from mutagen.id3 import ID3

NASTY = 'Dr. <Smith> & "Jones" ]]> \u05e9\u05dc\u05d5\u05dd \U0001f399\ufe0f it\'s <b>bold</b>'


def _refused(project, *args) -> str:
    before = tree(project / "public")
    proc = run(project, *args, check=False)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert tree(project / "public") == before
    return lines[0]


def test_markup_quotes_emoji_and_rtl_survive_exactly(project, episode_toml):
    toml_text = NASTY.replace("\\", "\\\\").replace('"', '\\"')
    set_key(episode_toml, "title", f'"{toml_text}"')
    notes = episode_toml.parent / "notes.md"
    notes.write_text(f"{NASTY}\n\n<script>alert('x')</script>\n\n"
                     '<img src=x onerror="alert(1)"> [click](javascript:alert(1)) '
                     '<a href="https://ok.example/" onclick="steal()">ok</a>\n')
    r = run_json(project, "episode", "1")
    data = (project / "public/women-in-surgery.xml").read_bytes()
    item = ET.fromstring(data).find("channel/item")
    assert item.findtext("title") == NASTY
    html = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
    for bad in ("<script", "onerror", "onclick", "javascript:", "<img"):
        assert bad not in html.lower()
    assert '<a href="https://ok.example/"' in html
    assert feedparser.parse(data).entries[0].title == NASTY
    with open(project / "public/women-in-surgery.xml", "rb") as fh:
        assert podcastparser.parse("https://x/f.xml", fh)["episodes"][0]["title"] == NASTY
    mp3 = r["audio"]["location"].removeprefix("file://")
    assert ID3(mp3)["TIT2"].text == [NASTY]


def test_hundred_kilobyte_notes_publish(project, episode_toml):
    (episode_toml.parent / "notes.md").write_text(("A long paragraph of notes. " * 40 + "\n\n")
                                                  * 100)
    assert (episode_toml.parent / "notes.md").stat().st_size > 100_000
    r = run_json(project, "episode", "1")
    parsed = feedparser.parse((project / "public/women-in-surgery.xml").read_bytes())
    assert not parsed.bozo and len(parsed.entries[0].content[0].value) > 100_000
    assert r["audio"]["bytes"] > 0


def test_hundred_kilobyte_title_is_refused(project, episode_toml):
    set_key(episode_toml, "title", '"' + "x" * 100_000 + '"')
    assert "title" in _refused(project, "episode", "1")


@pytest.mark.parametrize("char", ["\\u0007", "\\u001b", "\\u0000"])
def test_control_characters_are_refused(project, episode_toml, char):
    set_key(episode_toml, "title", f'"bell{char}"')
    line = _refused(project, "episode", "1")
    assert "episode.toml: title" in line and "control character" in line


@pytest.mark.parametrize("year", ["1900", "3000"])
def test_extreme_years(project, episode_toml, year):
    set_key(episode_toml, "published", f"{year}-01-01T00:00:00Z")
    run_json(project, "episode", "1")
    items = ET.parse(project / "public/women-in-surgery.xml").findall("channel/item")
    assert len(items) == (1 if year == "1900" else 0)  # 3000 is scheduled, not yet listed
    if items:
        assert items[0].findtext("pubDate").startswith("Mon, 01 Jan 1900")


@pytest.mark.parametrize("folder", ["001-my episode", "001-caf\u00e9?", "001-.hidden"])
def test_slugs_that_cannot_be_urls_are_refused(project, episode_toml, folder):
    shutil.move(episode_toml.parent, project / "episodes" / folder)
    line = _refused(project, "episode", "1")
    assert "folder name" in line


@pytest.mark.parametrize("ref", ["../../etc", "/tmp", "episodes/../feeds"])
def test_episode_paths_outside_episodes_are_refused(project, ref):
    _refused(project, "episode", ref)
