"""Re-runs: nothing changed means nothing re-encoded or uploaded; metadata changes only re-tag.

Most tests start from the demo as published once per module (`show`): their first run is
already a re-run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers import run, run_json, set_key, tree
from mutagen.id3 import ID3
from mutagen.mp3 import MP3


def _feed(project: Path) -> bytes:
    return (project / "public/women-in-surgery.xml").read_bytes()


def test_rerun_uploads_nothing(show):
    first = run_json(show, "episode", "1")
    before = tree(show / "public")
    feed_before = _feed(show)
    second = run_json(show, "episode", "1")
    assert second["encoded"] is False and second["retagged"] is False
    assert second["uploaded_bytes"] == 0
    assert second["feeds"][0]["changed"] is False
    assert second["audio"] == first["audio"] and second["guid"] == first["guid"]
    assert tree(show / "public") == before
    assert _feed(show) == feed_before


def test_metadata_change_retags_without_reencoding(show):
    episode_toml = show / "episodes/001-welcome/episode.toml"
    first = run_json(show, "episode", "1")
    set_key(episode_toml, "title", '"Welcome, surgeons"')
    second = run_json(show, "episode", "1")
    assert second["encoded"] is False and second["retagged"] is True
    assert second["guid"] == first["guid"]  # apps must not see a new episode
    assert second["audio"]["sha256"] != first["audio"]["sha256"]
    assert second["audio"]["url"] != first["audio"]["url"]  # a CDN never serves stale tags
    mp3 = Path(second["audio"]["location"].removeprefix("file://"))
    assert ID3(mp3)["TIT2"].text == ["Welcome, surgeons"]
    assert b"<title>Welcome, surgeons</title>" in _feed(show)
    # Same audio frames, only the tag differs: the durations agree to the millisecond.
    assert second["audio"]["duration_s"] == first["audio"]["duration_s"]
    assert second["loudness"] == first["loudness"]


def test_audio_settings_change_reencodes(show):
    first = run_json(show, "episode", "1")
    feed = show / "feeds/women-in-surgery.toml"
    feed.write_text(feed.read_text().replace("bitrate = 128", "bitrate = 96"))
    second = run_json(show, "episode", "1")
    assert second["encoded"] is True
    assert second["audio"]["bytes"] < first["audio"]["bytes"]
    assert second["guid"] == first["guid"]


def test_dry_run_changes_nothing(project):
    proc = run(project, "episode", "1", "--dry-run", "--json")
    r = json.loads(proc.stdout)
    assert r["dry_run"] is True and r["encoded"] is True
    assert tree(project / "public") == {}
    run_json(project, "episode", "1")
    (project / "episodes/001-welcome/episode.toml").write_text(
        (project / "episodes/001-welcome/episode.toml").read_text()
        .replace("Welcome to Women in Surgery", "A new title"))
    before = tree(project / "public")
    r = run_json(project, "episode", "1", "--dry-run")
    assert r["retagged"] is True and r["uploaded_bytes"] == 0
    assert any("women-in-surgery.xml" in a for a in r["actions"])
    assert tree(project / "public") == before


def test_feed_rebuild_is_idempotent(show):
    run_json(show, "episode", "1")
    feed_before = _feed(show)
    r = run_json(show, "feed")
    assert r["feeds"][0]["changed"] is False and r["uploaded_bytes"] == 0
    assert _feed(show) == feed_before


def test_feed_rebuild_needs_no_episode_folder(show):
    """CI has the repo but maybe not every episode folder: published episodes stay."""
    first = run_json(show, "episode", "1")
    shutil.rmtree(show / "episodes/001-welcome")
    feed_path = show / "public/women-in-surgery.xml"
    feed_path.unlink()
    r = run_json(show, "feed")
    assert r["feeds"][0]["changed"] is True
    assert first["audio"]["url"].encode() in feed_path.read_bytes()


def test_scheduled_episode_waits_for_its_time(project, episode_toml):
    set_key(episode_toml, "published", "2099-01-01T09:00:00Z")
    r = run_json(project, "episode", "1")
    assert Path(r["audio"]["location"].removeprefix("file://")).is_file()  # uploaded
    assert b"<item>" not in _feed(project)  # but not listed yet
    r = run_json(project, "feed", "--as-of", "2099-01-01T09:00:01")
    assert r["feeds"][0]["changed"] is True
    assert b"<item>" in _feed(project)


def test_storage_override(project, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    r = run_json(project, "episode", "1", "--storage", str(elsewhere))
    assert r["audio"]["location"].startswith(elsewhere.as_uri())
    assert (elsewhere / "women-in-surgery.xml").is_file()
    assert not (project / "public").exists()


def test_status_lists_states(show):
    shutil.copytree(show / "episodes/001-welcome", show / "episodes/002-later")
    later = show / "episodes/002-later/episode.toml"
    set_key(later, "number", "2")
    set_key(later, "published", "2099-01-01T09:00:00Z")
    shutil.copytree(show / "episodes/001-welcome", show / "episodes/003-draft")
    set_key(show / "episodes/003-draft/episode.toml", "number", "3")
    run_json(show, "episode", "1")
    run_json(show, "episode", "2")
    rows = {r["episode"]: r for r in run_json(show, "status")["episodes"]}
    assert rows["welcome"]["state"] == "published"
    assert rows["later"]["state"] == "scheduled"
    assert rows["draft"]["state"] == "draft" and rows["draft"]["url"] is None
    assert 60 < rows["welcome"]["duration_s"] < 63
    human = run(show, "status").stdout
    assert "scheduled" in human and "draft" in human and rows["welcome"]["url"] in human


def test_new_scaffolds_a_valid_episode(project):
    r = run_json(project, "new", "--title", "Résidence & Leadership",
                 "--audio", str(project / "episodes/001-welcome/recording.opus"))
    folder = Path(r["folder"])
    assert folder.name == "002-residence-leadership"
    dry = run_json(project, "episode", "2", "--dry-run")
    assert dry["episode"] == "residence-leadership" and dry["encoded"] is True


def test_missing_or_damaged_local_mp3_is_mastered_again(show):
    """A stored MP3 that is gone, or whose bytes differ from the manifest's sha256, is never
    re-tagged (that would publish damaged audio) and never a dead end: it is mastered again."""
    episode_toml = show / "episodes/001-welcome/episode.toml"
    first = run_json(show, "episode", "1")
    mp3 = Path(first["audio"]["location"].removeprefix("file://"))
    mp3.write_bytes(b"\0" * mp3.stat().st_size)  # same size, other bytes
    set_key(episode_toml, "title", '"Retitled"')
    second = run_json(show, "episode", "1")
    assert second["encoded"] is True and second["retagged"] is False
    published = Path(second["audio"]["location"].removeprefix("file://"))
    assert ID3(published)["TIT2"].text == ["Retitled"]
    assert abs(MP3(published).info.length - first["audio"]["duration_s"]) < 0.05  # real audio

    published.unlink()
    third = run_json(show, "episode", "1")  # nothing changed but the object is gone
    assert third["encoded"] is True
    assert Path(third["audio"]["location"].removeprefix("file://")).is_file()
    report = run_json(show, "validate")
    assert report["errors"] == []
