"""`publish episode --all`, several EPISODEs or a range, `--jobs N`: every episode prepared
(some at once), then one commit, so the feed changes once and a failure publishes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from feedserver import FeedServer
from helpers import run, run_json
from importing import serve_fixture

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def show(tmp_path_factory) -> Path:
    """An imported show of three episodes (published as they are: no mastering to wait for)."""
    project = tmp_path_factory.mktemp("show")
    with FeedServer() as server:
        run(project, "import", serve_fixture(server, "full.xml"))
    return project


def _copy(show: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(show, tmp_path / "show"))


def test_all_with_jobs_publishes_every_episode_in_one_ordered_commit(show, tmp_path):
    project = _copy(show, tmp_path)
    r = run_json(project, "episode", "--all", "--jobs", "2")
    assert [e["episode"] for e in r["episodes"]] == ["pilot-hello-welcome", "mailbag",
                                                     "mailbag-2"]
    writes = [a.split()[1] for a in r["actions"] if a.startswith("write ")]
    assert writes.count("manifest.json") == 1 and writes.count("night-shift-stories.xml") == 1
    manifest = json.loads((project / "public" / "manifest.json").read_text())
    assert sorted(manifest["episodes"]) == ["mailbag", "mailbag-2", "pilot-hello-welcome"]
    again = run_json(project, "episode", "--all", "--jobs", "2")
    assert again["uploaded_bytes"] == 0


def test_a_list_and_a_range_pick_those_episodes_each_once(show, tmp_path):
    project = _copy(show, tmp_path)
    r = run_json(project, "episode", "2-2", "003-mailbag-2", "mailbag", "--dry-run")
    assert [e["episode"] for e in r["episodes"]] == ["mailbag", "mailbag-2"]
    assert not (project / "public").exists()


def test_one_failing_episode_publishes_none_of_them(show, tmp_path):
    project = _copy(show, tmp_path)
    folder = project / "episodes" / "002-mailbag"
    (folder / "audio.mp3").write_bytes(b"RIFF not an mp3 at all" * 100)
    proc = run(project, "episode", "--all", "--jobs", "2", check=False)
    assert proc.returncode == 2 and "is not an MP3" in proc.stderr
    assert not (project / "public" / "manifest.json").exists()


def test_episode_needs_a_name_or_all(show):
    proc = run(show, "episode", check=False)
    assert proc.returncode == 2 and "give one or more EPISODEs, or --all" in proc.stderr
