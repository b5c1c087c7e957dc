"""Several feeds from one catalogue, sharing one storage and one manifest."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from helpers import run, run_json, set_key

PODCAST = "{https://podcastindex.org/namespace/1.0}"


def _add_trailer_feed(project: Path) -> Path:
    toml = project / "feeds/trailers.toml"
    text = (project / "feeds/women-in-surgery.toml").read_text()
    toml.write_text(text.replace('title = "Women in Surgery Podcast"',
                                 'title = "Women in Surgery: trailers"')
                    + '\n[filter]\ntypes = ["trailer"]\n')
    return toml


def _guids(feed: Path) -> list[str]:
    return [g.text for g in ET.parse(feed).getroot().iter("guid")]


def test_filtered_feed_lists_only_its_episodes(project, episode_toml):
    _add_trailer_feed(project)
    trailer = project / "episodes/000-trailer"
    shutil.copytree(episode_toml.parent, trailer)
    set_key(trailer / "episode.toml", "number", "2")
    set_key(trailer / "episode.toml", "type", '"trailer"')
    set_key(trailer / "episode.toml", "published", "2026-11-13T09:00:00-05:00")

    full = run_json(project, "episode", "1")
    assert [f["name"] for f in full["feeds"]] == ["trailers", "women-in-surgery"]
    tr = run_json(project, "episode", "trailer")
    public = project / "public"
    assert _guids(public / "women-in-surgery.xml") == [full["guid"], tr["guid"]]
    assert _guids(public / "trailers.xml") == [tr["guid"]]
    channel = ET.parse(public / "trailers.xml").getroot().find("channel")
    assert channel.find(f"{PODCAST}trailer").get("url") == tr["audio"]["url"]
    assert channel.findtext("title") == "Women in Surgery: trailers"
    main_guid = ET.parse(public / "women-in-surgery.xml").getroot().find(
        f"channel/{PODCAST}guid").text
    assert channel.findtext(f"{PODCAST}guid") != main_guid  # each feed is its own show

    before = {p.name: p.read_bytes() for p in public.glob("*.xml")}
    r = run_json(project, "feed")
    assert r["uploaded_bytes"] == 0 and not any(f["changed"] for f in r["feeds"])
    assert {p.name: p.read_bytes() for p in public.glob("*.xml")} == before


def test_primary_feed_is_the_default(project):
    _add_trailer_feed(project)
    r = run_json(project, "episode", "1", "--dry-run")
    assert r["episode"] == "welcome"
    rows = run_json(project, "status")["episodes"]
    assert rows[0]["episode"] == "welcome"


def test_two_unfiltered_feeds_must_be_named(project):
    shutil.copy(project / "feeds/women-in-surgery.toml", project / "feeds/other.toml")
    proc = run(project, "feed", check=False)
    assert proc.returncode == 2
    assert "2 feeds without a [filter]: name one with --feed" in proc.stderr


def test_scheduled_episode_appears_exactly_at_its_time(project, episode_toml):
    set_key(episode_toml, "published", "2099-01-01T09:00:00Z")
    run_json(project, "episode", "1")
    feed = project / "public/women-in-surgery.xml"
    run_json(project, "feed", "--as-of", "2099-01-01T08:59:59")
    assert _guids(feed) == []
    run_json(project, "feed", "--as-of", "2099-01-01T09:00:00")
    assert len(_guids(feed)) == 1
