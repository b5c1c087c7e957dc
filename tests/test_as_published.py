"""`master = false` publishes an MP3 as it is (re-tagged, measured, not re-encoded), and a
feed's `podcast_guid` key keeps a moved show's GUID: the two things an imported show needs."""

from __future__ import annotations

import json

from helpers import run, run_json, set_key, short_episode
from importing import mp3

MOVED_GUID = "917393e3-1b1e-5cef-ace4-edaa54e1f810"


def test_master_false_refuses_a_recording_that_is_not_an_mp3_in_one_line(project, episode_toml):
    set_key(episode_toml, "master", "false")
    proc = run(project, "episode", "1", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        (f"publish: error: {episode_toml}: master: master = false publishes the file as it "
         "is, and recording.opus is not an MP3: set master = true to encode it")]


def _as_published(episode_toml, seconds: int) -> None:
    """The demo episode as an MP3 of `seconds` published as it is (`master = false`), without
    the chapters, transcript and soundbites timed for the minute-long demo recording."""
    short_episode(episode_toml, "old.mp3", mp3(seconds))
    set_key(episode_toml, "master", "false")


def test_master_false_keeps_the_audio_and_records_its_measured_loudness(project, episode_toml):
    _as_published(episode_toml, 5)
    r = run_json(project, "episode", "1")
    assert abs(r["audio"]["duration_s"] - 5) < 0.1
    manifest = json.loads((project / "public" / "manifest.json").read_text())
    loudness = manifest["episodes"]["welcome"]["loudness"]
    assert loudness["gain_db"] == 0 and loudness["input"] == loudness["output"]
    assert -30 < loudness["output"]["integrated_lufs"] < -10
    # Unchanged: nothing copied or uploaded again.
    again = run_json(project, "episode", "1")
    assert again["uploaded_bytes"] == 0 and not again["encoded"]


def test_feed_podcast_guid_key_wins_over_the_computed_one(project):
    toml = project / "feeds" / "women-in-surgery.toml"
    run(project, "feed")
    manifest = json.loads((project / "public" / "manifest.json").read_text())
    assert manifest["feeds"]["women-in-surgery"]["podcast_guid"] != MOVED_GUID
    set_key(toml, "podcast_guid", f'"{MOVED_GUID}"')
    run(project, "feed")
    manifest = json.loads((project / "public" / "manifest.json").read_text())
    assert manifest["feeds"]["women-in-surgery"]["podcast_guid"] == MOVED_GUID
    feed = (project / "public" / "women-in-surgery.xml").read_text()
    assert f"<podcast:guid>{MOVED_GUID}</podcast:guid>" in feed


def test_master_false_is_reported_as_copied_never_as_encoded_by_an_engine(project, episode_toml):
    _as_published(episode_toml, 3)
    dry = run_json(project, "episode", "1", "--dry-run")
    assert (dry["encoded"], dry["copied"]) == (False, True)
    r = run_json(project, "episode", "1")
    assert (r["encoded"], r["copied"], r["retagged"]) == (False, True, False)
    assert r["audio"]["engine"] is None and r["audio"]["as_published"]
    assert not r["audio"]["older_engine"]
    human = run(project, "episode", "1").stdout
    assert "(unchanged)" in human and "not mastered (master = false)" in human
    assert "engine" not in human
    status = run(project, "status").stdout
    assert "as is" in status.splitlines()[1]
