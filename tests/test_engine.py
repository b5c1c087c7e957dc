"""A new mastering engine never re-masters published episodes by itself: their audio changes
only when its recording or settings change, or when the producer asks (`--remaster`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import set_key, tree
from mutagen.id3 import ID3

from cli import cli
from pipeline.audio import master

pytestmark = pytest.mark.e2e


def publish(project: Path, *args: str) -> dict:
    """`publish` in this process, so a test can stand in an older engine for a first run."""
    result = CliRunner().invoke(cli, ["-C", str(project), *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _frames(location: str) -> bytes:
    """The MP3's audio frames, its ID3 tag left out."""
    path = Path(location.removeprefix("file://"))
    data = path.read_bytes()
    return data[ID3(path).size:]


# The demo feed's audio settings as engine-3 manifests fingerprinted them: every setting there
# was then. Settings added since must not change what an unchanged feed fingerprints as.
ENGINE_3_SETTINGS = {"bitrate": 128, "channels": 2, "sample_rate": 44100, "target_lufs": -16.0,
                     "true_peak_dbtp": -1.0, "intro": None, "outro": None, "crossfade_ms": 0,
                     "fade_ms": 0, "trim_silence": False, "bumper": None}


def _engine_3_fingerprint(recording: Path) -> str:
    """The audio fingerprint a manifest written by engine 3 holds for the demo episode."""
    inputs = {"source": hashlib.sha256(recording.read_bytes()).hexdigest(),
              "audio": ENGINE_3_SETTINGS, "clips": [], "bumpers": [], "engine": "3"}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _status(project: Path) -> dict[str, dict]:
    return {r["episode"]: r for r in publish(project, "status")["episodes"]}


def test_engine_upgrade_keeps_the_published_audio(project, episode_toml, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(master, "ENGINE_VERSION", str(int(master.ENGINE_VERSION) - 1))
        first = publish(project, "episode", "1")
    older = str(int(master.ENGINE_VERSION) - 1)
    assert first["audio"]["engine"] == older and first["audio"]["older_engine"] is False

    again = publish(project, "episode", "1")  # the current engine, nothing else changed
    assert again["encoded"] is False and again["retagged"] is False
    assert again["uploaded_bytes"] == 0 and again["audio"] == {**first["audio"],
                                                                "older_engine": True}

    set_key(episode_toml, "title", '"A title fix"')
    retitled = publish(project, "episode", "1")
    assert retitled["encoded"] is False and retitled["retagged"] is True
    assert _frames(retitled["audio"]["location"]) == _frames(first["audio"]["location"])
    assert retitled["audio"]["engine"] == older

    row = _status(project)["welcome"]
    assert row["engine"] == older and row["older_engine"] is True
    human = CliRunner().invoke(cli, ["-C", str(project), "status"]).stdout
    assert f"{older}*" in human and "--remaster" in human


def test_remaster_encodes_with_the_current_engine(project, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(master, "ENGINE_VERSION", str(int(master.ENGINE_VERSION) - 1))
        first = publish(project, "episode", "1")
    before = tree(project / "public")

    dry = publish(project, "episode", "1", "--remaster", "--dry-run")
    assert dry["encoded"] is True and dry["dry_run"] is True
    assert dry["audio"] == {**first["audio"], "older_engine": True}  # what is published now
    (action,) = [a for a in dry["actions"] if "master" in a]
    assert f"engine {master.ENGINE_VERSION}" in action and f"engine {first['audio']['engine']}" \
        in action
    assert tree(project / "public") == before

    done = publish(project, "episode", "1", "--remaster")
    assert done["encoded"] is True and done["guid"] == first["guid"]
    assert done["audio"]["engine"] == master.ENGINE_VERSION
    assert done["audio"]["older_engine"] is False
    row = _status(project)["welcome"]
    assert row["engine"] == master.ENGINE_VERSION and row["older_engine"] is False


def test_manifest_from_before_the_upgrade_changes_no_published_file(project, monkeypatch):
    """Records written before the engine and the timeline were kept name the engine only in
    the fingerprint; the demo's chapters, transcript and soundbite keep their times."""
    with monkeypatch.context() as m:
        m.setattr(master, "ENGINE_VERSION", "3")
        first = publish(project, "episode", "1")
    manifest = project / "public/manifest.json"
    data = json.loads(manifest.read_text())
    record = data["episodes"]["welcome"]
    recording = project / "episodes/001-welcome/recording.opus"
    assert record["audio"]["audio_fingerprint"] == _engine_3_fingerprint(recording)
    del record["audio"]["engine"], record["loudness"]["timeline"]
    manifest.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    media = tree(project / "public/episodes")
    feed = (project / "public/women-in-surgery.xml").read_bytes()

    again = publish(project, "episode", "1")
    assert again["encoded"] is False and again["retagged"] is False
    assert again["audio"]["sha256"] == first["audio"]["sha256"]
    assert again["audio"]["engine"] is None and again["audio"]["older_engine"] is True
    assert tree(project / "public/episodes") == media
    assert (project / "public/women-in-surgery.xml").read_bytes() == feed
    assert _status(project)["welcome"]["older_engine"] is True
