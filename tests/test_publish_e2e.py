"""The demo episode published end to end, read back the way podcast apps and players read it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import podcastparser
import pytest
from helpers import run_json, short_episode
from importing import mp3
from mutagen.id3 import ID3
from mutagen.mp3 import MP3

from pipeline.audio import ffmpeg

pytestmark = pytest.mark.e2e  # a module fixture publishes the demo episode once

FEED_URL = "https://media.example.org/women-in-surgery/women-in-surgery.xml"
BASE = "https://media.example.org/women-in-surgery/"
NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
      "podcast": "https://podcastindex.org/namespace/1.0",
      "atom": "http://www.w3.org/2005/Atom",
      "content": "http://purl.org/rss/1.0/modules/content/"}


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> tuple[Path, dict]:
    from helpers import copy_project

    project = copy_project(tmp_path_factory.mktemp("e2e") / "show")
    result = run_json(project, "episode", "1")
    return project, result


def _local(result_location: str) -> Path:
    assert result_location.startswith("file://")
    return Path(result_location.removeprefix("file://"))


def test_json_contract(published):
    project, r = published
    assert r["episode"] == "welcome"
    uuid.UUID(r["guid"])
    audio = r["audio"]
    mp3 = _local(audio["location"])
    assert mp3.is_file() and mp3.is_relative_to(project / "public")
    assert audio["url"].startswith(BASE) and audio["url"].endswith(".mp3")
    assert audio["bytes"] == mp3.stat().st_size
    assert audio["sha256"] == hashlib.sha256(mp3.read_bytes()).hexdigest()
    assert 60 < audio["duration_s"] < 63
    assert set(r["loudness"]) >= {"input_lufs", "output_lufs", "true_peak_dbtp"}
    assert r["feeds"] == [{"name": "women-in-surgery", "url": FEED_URL,
                           "location": (project / "public/women-in-surgery.xml").as_uri(),
                           "changed": True}]
    assert r["uploaded_bytes"] == sum(p.stat().st_size for p in (project / "public").rglob("*")
                                      if p.is_file())



def test_leveler_is_reported_in_json_and_recorded_in_the_manifest(published):
    """What the leveler did travels with the episode: `--json` prints it and the manifest
    keeps it, so a producer (or `publish status`) can see it after the run."""
    project, r = published
    lev = r["loudness"]["leveler"]
    assert 0 < lev["speech_s"] <= r["audio"]["duration_s"]
    assert lev["stretches"] >= 1
    assert lev["max_boost_db"] >= 0 >= lev["max_cut_db"]
    assert lev["max_boost_db"] <= 12 and lev["max_cut_db"] >= -12  # the default bounds
    assert lev["spread_after_db"] < lev["spread_before_db"]  # two voices brought together
    manifest = json.loads((project / "public" / "manifest.json").read_text())
    assert manifest["episodes"]["welcome"]["loudness"]["leveler"] == lev


def test_level_false_publishes_no_leveler(project, episode_toml):
    short_episode(episode_toml, "short.mp3", mp3(4))
    feed = project / "feeds" / "women-in-surgery.toml"
    feed.write_text(feed.read_text() + "level = false\n")  # [audio] is the last table
    r = run_json(project, "episode", "1")
    assert r["encoded"] and r["loudness"]["leveler"] is None
    manifest = json.loads((project / "public" / "manifest.json").read_text())
    assert manifest["episodes"]["welcome"]["loudness"].get("leveler") is None

def test_feed_parses_in_feedparser(published):
    project, r = published
    d = feedparser.parse((project / "public/women-in-surgery.xml").read_bytes())
    assert not d.bozo, d.get("bozo_exception")
    f = d.feed
    assert f.title == "Women in Surgery Podcast"
    assert f.link == "https://www.connecticutchildrens.org/"
    assert f.language == "en-us"
    assert "surgeons, residents" in f.subtitle
    assert any(lk.get("rel") == "self" and lk.href == FEED_URL for lk in f.links)
    assert f.publisher_detail.email == "podcast@example.org"
    assert f.image.href.startswith(BASE + "artwork/")
    assert [t.term for t in f.tags] == ["Health & Fitness", "Medicine"]
    (e,) = d.entries
    assert e.title == "Welcome to Women in Surgery"
    assert e.id == r["guid"] and e.guidislink is False
    assert parsedate_to_datetime(e.published).isoformat() == "2026-11-20T09:00:00-05:00"
    assert "mentorship" in e.summary and "<" not in e.summary
    assert "<strong>Women in Surgery Podcast</strong>" in e.content[0].value
    (enc,) = e.enclosures
    assert enc.href == r["audio"]["url"] and enc.type == "audio/mpeg"
    assert int(enc.length) == _local(r["audio"]["location"]).stat().st_size
    assert int(e.itunes_duration) == round(MP3(_local(r["audio"]["location"])).info.length)
    assert e.itunes_episode == "1" and e.itunes_episodetype == "full"


def test_feed_parses_in_podcastparser(published):
    project, r = published
    with open(project / "public/women-in-surgery.xml", "rb") as fh:
        p = podcastparser.parse(FEED_URL, fh)
    assert p["title"] == "Women in Surgery Podcast"
    assert p["itunes_owner"] == {"name": "Women in Surgery Podcast team",
                                 "email": "podcast@example.org"}
    assert p["itunes_categories"] == [["Health & Fitness", "Medicine"]]
    assert p["explicit"] is False and p["type"] == "episodic"
    assert p["cover_url"].startswith(BASE + "artwork/")
    (ep,) = p["episodes"]
    assert ep["guid"] == r["guid"]
    assert ep["number"] == 1 and ep["season"] == 1 and ep["type"] == "full"
    assert ep["explicit"] is False
    assert ep["total_time"] == round(r["audio"]["duration_s"])
    assert ep["enclosures"] == [{"url": r["audio"]["url"], "file_size": r["audio"]["bytes"],
                                 "mime_type": "audio/mpeg"}]
    assert ep["published"] == int(parsedate_to_datetime("Fri, 20 Nov 2026 09:00:00 -0500")
                                  .timestamp())


def test_feed_namespaces_and_podcast_tags(published):
    project, _ = published
    channel = ET.parse(project / "public/women-in-surgery.xml").getroot().find("channel")
    bare = FEED_URL.split("://", 1)[1]
    expected_guid = uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), bare)
    assert channel.findtext("podcast:guid", namespaces=NS) == str(expected_guid)
    locked = channel.find("podcast:locked", NS)
    assert locked.text == "yes" and locked.get("owner") == "podcast@example.org"
    assert channel.findtext("itunes:author", namespaces=NS) == "Connecticut Children's"
    assert channel.findtext("itunes:explicit", namespaces=NS) == "false"
    assert channel.findtext("itunes:type", namespaces=NS) == "episodic"
    assert channel.find("atom:link", NS).get("rel") == "self"
    item = channel.find("item")
    assert item.find("guid").get("isPermaLink") == "false"
    assert item.findtext("itunes:explicit", namespaces=NS) == "false"
    persons = [(p.text, p.get("role")) for p in item.findall("podcast:person", NS)]
    assert persons == [("Host of Women in Surgery", "host"), ("Guest Surgeon", "guest")]


def test_id3_tags_read_back(published):
    project, r = published
    mp3 = _local(r["audio"]["location"])
    tags = ID3(mp3)
    assert tags.version[:2] == (2, 3)
    assert tags["TIT2"].text == ["Welcome to Women in Surgery"]
    assert tags["TPE1"].text == ["Connecticut Children's"]
    assert tags["TALB"].text == ["Women in Surgery Podcast"]
    assert tags["TRCK"].text == ["1"]
    assert str(tags["TYER"].text[0] if "TYER" in tags else tags["TDRC"].text[0]).startswith("2026")
    assert tags["PCST"].value == 1
    assert tags["WFED"].url == FEED_URL
    assert tags["TGID"].text == [r["guid"]]
    assert "mentorship" in tags["TDES"].text[0]
    assert "mentorship" in tags.getall("COMM")[0].text[0]
    (apic,) = tags.getall("APIC")
    assert apic.type == 3 and apic.mime == "image/jpeg"
    assert apic.data == (project / "feeds/artwork/women-in-surgery.jpg").read_bytes()
    (toc,) = tags.getall("CTOC")
    chaps = {c.element_id: c for c in tags.getall("CHAP")}
    ordered = [chaps[i] for i in toc.child_element_ids]
    assert [c.sub_frames["TIT2"].text[0] for c in ordered] == [
        "Welcome", "Mentorship in residency", "Advice for medical students", "Goodbye"]
    assert [c.start_time for c in ordered] == [0, 15500, 26500, 53500]
    assert [c.end_time for c in ordered[:-1]] == [15500, 26500, 53500]
    assert ordered[-1].end_time == round(r["audio"]["duration_s"] * 1000)
    # The audio survives the tagging: players see a full-length MP3 at the feed's settings.
    info = MP3(mp3).info
    assert info.sample_rate == 44100 and info.channels == 2 and info.bitrate == 128000
    assert abs(info.length - r["audio"]["duration_s"]) < 0.05


def test_published_mp3_has_an_info_header_and_its_exact_length(published):
    """Tagged and uploaded, the MP3 keeps LAME's Info header, so the duration players and the
    feed read is the decoded length, not an estimate from the file size."""
    _, r = published
    mp3 = _local(r["audio"]["location"])
    first_frame = ID3(mp3).size
    assert b"Info" in mp3.read_bytes()[first_frame:first_frame + 418]  # 128k at 44.1 kHz
    decoded = subprocess.run([ffmpeg.find_ffmpeg(), "-v", "error", "-i", str(mp3), "-f", "s16le",
                              "-ac", "1", "-"], capture_output=True, check=True).stdout
    decoded_s = len(decoded) / 2 / 44100
    assert MP3(mp3).info.length == pytest.approx(decoded_s, abs=1152 / 44100)
    assert r["audio"]["duration_s"] == pytest.approx(decoded_s, abs=1152 / 44100)
