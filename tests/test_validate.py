"""publish validate: each problem Apple or PSP-1 would reject is found, with where to fix it."""

from __future__ import annotations

import io
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import run, run_json, set_key, tree
from PIL import Image

from pipeline.checks import rules
from pipeline.project.config import load_episode, load_feed
from pipeline.texts.transcript import Cue

PUBLIC_FEED = "public/women-in-surgery.xml"
ITEM = {"guid-1": "episodes/001/episode.toml", "guid-2": "episodes/002/episode.toml"}


def image(fmt: str = "JPEG", size: tuple[int, int] = (1400, 1400), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, fmt)
    return buf.getvalue()


def messages(problems: list[rules.Problem], level: str = "error") -> list[str]:
    return [f"{p.where}: {p.message}" for p in problems if p.level == level]


# --- artwork ---------------------------------------------------------------------------------

def test_good_artwork_passes():
    assert rules.check_artwork(image(), "show.jpg", "feed.toml: artwork") == []
    assert rules.check_artwork(image("PNG", (3000, 3000)), "show.png", "feed.toml: artwork") == []


@pytest.mark.parametrize("data, name, expected", [
    (image(size=(1400, 1500)), "a.jpg", "is 1400x1500 px; artwork must be square"),
    (image(size=(1200, 1200)), "a.jpg", "must be 1400 to 3000 px"),
    (image(size=(3001, 3001)), "a.jpg", "must be 1400 to 3000 px"),
    (image(mode="CMYK"), "a.jpg", "colour mode CMYK; Apple wants RGB"),
    (image("PNG"), "a.jpg", "holds a PNG image but its extension says otherwise"),
    (image("GIF", mode="P"), "a.gif", "is GIF; artwork must be JPEG or PNG"),
    (b"not an image", "a.jpg", "not an image"),
])
def test_bad_artwork_is_found(data, name, expected):
    (msg,) = messages(rules.check_artwork(data, name, "feed.toml: artwork"))
    assert msg.startswith("feed.toml: artwork: ") and expected in msg


# --- configuration before upload ---------------------------------------------------------------

def test_description_limit_counts_bytes_not_characters(project):
    feed = load_feed(project / "feeds/women-in-surgery.toml")
    art = image()
    assert rules.check_feed_config(feed.model_copy(update={"description": "é" * 2000}), art) == []
    (msg,) = messages(rules.check_feed_config(feed.model_copy(update={"description": "é" * 2001}),
                                          art))
    assert "women-in-surgery.toml: description: description is 4002 bytes" in msg


def test_http_base_url_is_an_error(project):
    feed = load_feed(project / "feeds/women-in-surgery.toml")
    feed = feed.model_copy(update={"base_url": "http://media.example.org"})
    (msg,) = messages(rules.check_feed_config(feed, image()))
    assert "base_url: http://media.example.org is not https" in msg


def _episode_problems(project: Path, duration_s: float, cues=None, **update) -> list[str]:
    ep = load_episode(project / "episodes/001-welcome")
    return messages(rules.check_episode_config(ep.model_copy(update=update), "notes", duration_s,
                                           cues, None))


def test_demo_episode_has_no_problems(project):
    assert _episode_problems(project, 61.4) == []


def test_long_notes_are_shortened_with_a_warning(project):
    ep = load_episode(project / "episodes/001-welcome")
    problems = rules.check_episode_config(ep, "word " * 1000, 61.4, None, None)
    assert [(p.level, p.where.endswith("notes.md")) for p in problems] == [("warning", True)]
    assert "5000 bytes as plain text" in problems[0].message


def test_description_is_cut_at_a_word_to_4000_bytes():
    from pipeline.texts.notes import to_description

    short = to_description("<p>Short notes.</p>")
    assert short == "Short notes."
    cut = to_description("<p>" + "Ärztin " * 1000 + "</p>")
    assert len(cut.encode("utf-8")) <= 4000 and len(cut.encode("utf-8")) > 3990
    assert cut.endswith("Ärztin\u2026") and "  " not in cut


def test_chapter_after_the_end_is_found(project):
    (msg,) = _episode_problems(project, 53.0)
    assert "episode.toml: chapters: chapters: the last chapter starts at 53.5 s" in msg


def test_transcript_after_the_end_is_found(project):
    cues = [Cue(0, 1000, "Hi"), Cue(1000, 70_000, "Bye")]
    (msg,) = _episode_problems(project, 61.4, cues)
    assert "episode.toml: transcript: cue 2 ends at 00:01:10.000, after the end" in msg


def test_soundbite_after_the_end_is_found(project):
    (msg,) = _episode_problems(project, 50.0, None, chapters=[])
    assert "episode.toml: soundbites.0: ends at 52.92 s, after the end" in msg


# --- the rendered feed -----------------------------------------------------------------------

def _feed_xml(project: Path) -> str:
    run_json(project, "episode", "1")
    return (project / PUBLIC_FEED).read_text()


def _item_xml(xml: str) -> str:
    return xml[xml.index("<item>"):xml.index("</item>") + len("</item>")]


@pytest.fixture(scope="module")
def published_xml(tmp_path_factory) -> str:
    from helpers import copy_project

    return _feed_xml(copy_project(tmp_path_factory.mktemp("validate") / "show"))


def _rendered(xml: str) -> list[rules.Problem]:
    guid = ET.fromstring(xml).findtext("channel/item/guid")
    return rules.check_rendered(xml.encode(), "feed.toml", {guid: "ep.toml"})


@pytest.mark.e2e
def test_published_demo_feed_has_no_problems(published_xml):
    assert _rendered(published_xml) == []


@pytest.mark.parametrize("cut, level, expected", [
    (r'<itunes:image href="[^"]*"/>(?=\n    <itunes:category)', "error",
     "feed.toml: artwork: Apple and PSP-1 require itunes:image"),
    (r"<language>[^<]*</language>", "error", "feed.toml: language: PSP-1 requires a language"),
    (r'<atom:link [^>]*rel="self"/>', "error", "feed.toml: base_url: PSP-1 requires atom:link"),
    (r"<itunes:email>[^<]*</itunes:email>", "error", "feed.toml: owner.email: Apple needs"),
    (r"<podcast:locked [^>]*>yes</podcast:locked>", "warning",
     "feed.toml: locked: PSP-1 recommends podcast:locked"),
    (r"<guid [^>]*>[^<]*</guid>", "error", "feed.toml: item 1: PSP-1 requires a guid"),
    (r"<podcast:transcript [^>]*/>", "warning", "ep.toml: transcript: PSP-1 recommends"),
])
@pytest.mark.e2e
def test_missing_tags_are_found(published_xml, cut, level, expected):
    import re

    xml = re.sub(cut, "", published_xml)
    assert xml != published_xml
    found = messages(_rendered(xml), level)
    assert any(m.startswith(expected) for m in found), found


@pytest.mark.e2e
def test_bad_explicit_value_is_found(published_xml):
    xml = published_xml.replace("<itunes:explicit>false</itunes:explicit>",
                                "<itunes:explicit>no</itunes:explicit>", 1)
    assert "feed.toml: itunes:explicit is 'no', not one of false, true" in messages(_rendered(xml))


@pytest.mark.e2e
def test_long_episode_description_is_found(published_xml):
    start = published_xml.index("<description>", published_xml.index("<item>"))
    xml = published_xml[:start] + "<description>" + "x" * 4001 + published_xml[
        published_xml.index("</description>", start):]
    assert "ep.toml: notes: description is 4001 bytes; Apple and PSP-1 allow 4000" in \
        messages(_rendered(xml))


def _two_items(xml: str, second: str) -> str:
    return xml.replace("</channel>", second + "\n</channel>")


@pytest.mark.e2e
def test_duplicate_guid_is_found(published_xml):
    item = _item_xml(published_xml)
    xml = _two_items(published_xml, item.replace(".mp3", "-other.mp3"))
    guid = ET.fromstring(xml).find("channel/item/guid").text
    assert f"ep.toml: guid {guid} is also item 1's" in messages(_rendered(xml))


@pytest.mark.e2e
def test_duplicate_enclosure_url_is_found(published_xml):
    item = _item_xml(published_xml)
    guid = ET.fromstring(published_xml).find("channel/item/guid").text
    xml = _two_items(published_xml, item.replace(guid, "another-guid"))
    found = messages(_rendered(xml))
    assert any(m.startswith("feed.toml: item 2: enclosure URL") and "also " + guid in m
               for m in found), found


@pytest.mark.e2e
def test_http_enclosure_is_found(published_xml):
    xml = published_xml.replace('url="https://media.example.org', 'url="http://media.example.org')
    found = messages(_rendered(xml))
    assert any(m.startswith("ep.toml: enclosure: http://media.example.org/") for m in found)


# --- the published objects -------------------------------------------------------------------

def _objects(xml: str, **enclosure) -> dict[str, rules.Stored]:
    root = ET.fromstring(xml)
    enc = root.find("channel/item/enclosure")
    objects = {n.get("url"): rules.Stored(1, "application/json")
               for n in root.iter() if n.get("url") and n is not enc}
    real = {"size": int(enc.get("length")), "content_type": "audio/mpeg",
            "duration_s": 61.388}
    objects[enc.get("url")] = rules.Stored(**{**real, **enclosure})
    return objects


def _published(xml: str, objects: dict) -> list[str]:
    return messages(rules.check_published(xml.encode(), objects, "feed.toml", {}))


@pytest.mark.e2e
def test_matching_objects_pass(published_xml):
    assert _published(published_xml, _objects(published_xml)) == []


@pytest.mark.parametrize("enclosure, expected", [
    ({"size": 999}, "but the object has 999 bytes"),
    ({"content_type": "audio/mp4"}, "but storage serves audio/mp4"),
    ({"duration_s": 75.0}, "itunes:duration says 61 s but the audio runs 75.0 s"),
    ({"size": None}, "is not in storage"),
])
@pytest.mark.e2e
def test_enclosure_that_disagrees_with_storage_is_found(published_xml, enclosure, expected):
    (msg,) = _published(published_xml, _objects(published_xml, **enclosure))
    assert msg.startswith("feed.toml: item 1: enclosure") or "itunes:duration" in msg
    assert expected in msg


@pytest.mark.e2e
def test_missing_transcript_object_is_found(published_xml):
    objects = _objects(published_xml)
    vtt = next(u for u in objects if u.endswith(".vtt"))
    objects[vtt] = rules.Stored(None, None)
    assert _published(published_xml, objects) == [
        f"feed.toml: item 1: {vtt} is not in storage; run publish episode again"]


# --- the commands ----------------------------------------------------------------------------

def test_validate_command_passes_on_the_demo(project):
    run_json(project, "episode", "1")
    r = run_json(project, "validate")
    assert r == {"feed": "women-in-surgery", "errors": [], "warnings": []}


def test_validate_command_reports_published_damage(project):
    r = run_json(project, "episode", "1")
    mp3 = Path(r["audio"]["location"].removeprefix("file://"))
    mp3.write_bytes(mp3.read_bytes()[: mp3.stat().st_size // 2])  # a truncated upload
    proc = run(project, "validate", check=False)
    assert proc.returncode == 1
    size = mp3.stat().st_size
    toml = project / "episodes/001-welcome/episode.toml"
    lines = proc.stdout.splitlines()
    assert lines[:2] == [
        "Errors (2):",
        (f"  {toml}: enclosure length is {r['audio']['bytes']} but the object has {size} bytes; "
        "run publish episode again to upload it whole")]
    assert lines[2] == (f"  {toml}: enclosure {r['audio']['url']}: the stored bytes' sha256 is "
                        "not the one published (damaged or replaced); run publish episode "
                        "again to master it anew")
    assert proc.stderr.strip().endswith("women-in-surgery.toml: 2 error(s), 0 warning(s)")

    # --deep measures the audio too: the cut file plays shorter; its chapters and
    # transcripts are not blamed for it.
    deep = run(project, "validate", "--deep", check=False).stdout.splitlines()
    assert deep[0] == "Errors (3):" and deep[1:3] == lines[1:3]
    assert deep[3].startswith(f"  {toml}: itunes:duration says 61 s but the audio runs ")
    assert float(deep[3].rsplit(" ", 2)[1]) < 40


def test_validate_separates_warnings_and_exits_zero(project):
    run_json(project, "episode", "1")
    feed = project / "feeds/women-in-surgery.toml"
    set_key(feed, "link", '"http://www.connecticutchildrens.org/"')
    proc = run(project, "validate")
    assert "Warnings (1):" in proc.stdout and "Errors" not in proc.stdout
    assert "women-in-surgery.toml: link: http://www.connecticutchildrens.org/ is not https" \
        in proc.stdout


def test_episode_refuses_to_publish_on_errors(project, episode_toml):
    art = episode_toml.parent / "cover.jpg"
    Image.new("RGB", (1000, 1000)).save(art, "JPEG")
    set_key(episode_toml, "artwork", '"cover.jpg"')
    proc = run(project, "episode", "1", check=False)
    assert proc.returncode == 1
    assert "episode.toml: artwork: cover.jpg is 1000x1000 px" in proc.stderr
    assert "nothing was published" in proc.stderr.splitlines()[-1]
    assert tree(project / "public") == {}


def test_episode_refuses_a_transcript_longer_than_the_audio(project, episode_toml):
    vtt = episode_toml.parent / "transcript.vtt"
    vtt.write_text(vtt.read_text().replace("00:01:01.340", "00:01:12.000"))
    proc = run(project, "episode", "1", check=False)
    assert proc.returncode == 1
    assert "episode.toml: transcript: cue 5 ends at 00:01:12.000" in proc.stderr
    assert tree(project / "public") == {}


def test_malformed_transcript_is_a_config_error(project, episode_toml):
    shutil.copy(episode_toml.parent / "transcript.vtt", episode_toml.parent / "t.srt")
    set_key(episode_toml, "transcript", '"t.srt"')
    proc = run(project, "episode", "1", check=False)
    assert proc.returncode == 2 and "t.srt: transcript: cue 1" in proc.stderr
    assert json.dumps(proc.stderr).count("\\n") == 1


def _with_file(xml: str, suffix: str, text: str) -> dict[str, rules.Stored]:
    objects = _objects(xml)
    url = next(u for u in objects if u.endswith(suffix))
    objects[url] = rules.Stored(len(text), None, text=text)
    return objects


@pytest.mark.e2e
def test_published_transcript_past_the_end_is_found(published_xml):
    srt = "1\n00:00:00,000 --> 00:01:30,000\nToo long\n"
    (msg,) = _published(published_xml, _with_file(published_xml, ".srt", srt))
    assert msg.endswith(".srt: cue 1 ends at 00:01:30.000, after the end of the audio "
                        "(61.388 s)")


@pytest.mark.e2e
def test_published_malformed_transcript_is_found(published_xml):
    (msg,) = _published(published_xml, _with_file(published_xml, ".vtt", "00:00.000 --> x\n"))
    assert msg.endswith(".vtt: a WebVTT file starts with the line WEBVTT")


@pytest.mark.e2e
def test_published_chapters_past_the_end_are_found(published_xml):
    doc = json.dumps({"version": "1.2.0", "chapters": [{"startTime": 0, "title": "A"},
                                                       {"startTime": 90, "title": "B"}]})
    (msg,) = _published(published_xml, _with_file(published_xml, ".chapters.json", doc))
    assert "chapters.json: chapters: the last chapter starts at 90 s" in msg


@pytest.mark.e2e
def test_published_chapters_that_are_not_json_are_found(published_xml):
    (msg,) = _published(published_xml, _with_file(published_xml, ".chapters.json", "{"))
    assert "not a Podcasting 2.0 JSON chapters file" in msg


def test_bumper_clips_resolve_from_the_episode_or_the_feed(project, episode_toml):
    from pipeline.project.config import ConfigError, episode_bumpers, load_episode, load_feed

    feed = load_feed(project / "feeds/women-in-surgery.toml")
    (episode_toml.parent / "ident.opus").write_bytes(b"x")
    episode_toml.write_text(episode_toml.read_text().replace(
        "[[chapters]]", '[[bumpers]]\nstart = "00:30"\nclip = "ident.opus"\n\n'
                        '[[bumpers]]\nstart = 10\n\n[[chapters]]', 1))
    ep = load_episode(episode_toml.parent)
    with pytest.raises(ConfigError, match="bumpers.1"):
        episode_bumpers(feed, ep)  # the second names no clip and the feed has no default
    feed = feed.model_copy(update={"audio": feed.audio.model_copy(
        update={"bumper": episode_toml.parent / "ident.opus"})})
    assert [(at, p.name) for at, p in episode_bumpers(feed, ep)] == [(10.0, "ident.opus"),
                                                                     (30.0, "ident.opus")]
