"""ffmpeg missing, crashing or hanging: one clear line, a time limit, no orphan processes."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
from helpers import PUBLISH, run, tree

pytestmark = pytest.mark.e2e


def _fake_ffmpeg(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "ffmpeg"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return script


def _fails_cleanly(project: Path, env: dict) -> str:
    proc = run(project, "episode", "1", env=env, check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert tree(project / "public") == {}
    return proc.stderr


def test_ffmpeg_that_crashes(project, tmp_path):
    fake = _fake_ffmpeg(tmp_path, 'echo "Segmentation fault in the decoder" >&2; kill -SEGV $$')
    line = _fails_cleanly(project, {"PUBLISH_FFMPEG": str(fake)})
    assert "killed by signal 11" in line and "episode.toml" not in line


def test_ffmpeg_that_fails_names_its_error(project, tmp_path):
    fake = _fake_ffmpeg(tmp_path, 'echo "Unknown encoder libmp3lame" >&2; exit 1')
    line = _fails_cleanly(project, {"PUBLISH_FFMPEG": str(fake)})
    assert "Unknown encoder libmp3lame" in line and "recording.opus" in line


def test_ffmpeg_that_hangs_is_stopped_and_reaped(project, tmp_path):
    marker = f"300.{uuid.uuid4().int % 10**9}"
    # The wrapper starts a child that would outlive it: the whole group must go.
    fake = _fake_ffmpeg(tmp_path, f"sleep {marker} & sleep {marker}")
    line = _fails_cleanly(project, {"PUBLISH_FFMPEG": str(fake), "PUBLISH_FFMPEG_STALL_S": "1"})
    assert "stopped responding" in line
    left = subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True, check=False)
    assert left.stdout == b"", "an ffmpeg process was left running"


def test_ffmpeg_not_executable(project, tmp_path):
    fake = tmp_path / "ffmpeg"
    fake.write_text("not a program")
    fake.chmod(0o644)
    line = _fails_cleanly(project, {"PUBLISH_FFMPEG": str(fake)})
    assert "cannot run ffmpeg" in line


def test_disk_full_while_encoding_leaves_no_partial_file(project, tmp_path):
    """A file-size limit stands in for a full disk: the encoder's write fails part-way."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = subprocess.run(
        ["sh", "-c", 'ulimit -f 200 && exec "$0" "$@"', *PUBLISH, "-C",
         str(project), "episode", "1"],
        capture_output=True, text=True, env={**os.environ, "TMPDIR": str(scratch)},
        timeout=600, check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "file-size limit" in proc.stderr  # ffmpeg writes the MP3 and dies by SIGXFSZ
    assert list(scratch.iterdir()) == []  # the partial MP3 was removed with its folder
    assert tree(project / "public") == {}
