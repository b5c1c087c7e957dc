"""Shared test helpers: run the real `publish` command on a copy of the demo project."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The working tree's `publish`, not an installed copy: after an edit, end-to-end tests run the
# same code the unit tests import, whether the project was installed editable or not.
PUBLISH = [sys.executable, "-c",
           "import sys; sys.path.insert(0, sys.argv.pop(1)); from cli import main; "
           "main(prog_name='publish')", str(REPO)]


def copy_project(dest: Path) -> Path:
    """The demo feed and episode in a scratch folder, so tests never touch the repo."""
    for sub in ("feeds", "episodes"):
        shutil.copytree(REPO / sub, dest / sub)
    return dest


def run(project: Path, *args: str, env: dict | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([*PUBLISH, "-C", str(project), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"publish {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stderr}")
    return proc


def run_json(project: Path, *args: str, env: dict | None = None) -> dict:
    proc = run(project, *args, "--json", env=env)
    return json.loads(proc.stdout)


def set_key(toml: Path, key: str, value: str) -> None:
    """Replace a top-level `key = ...` line (value is TOML text)."""
    lines = toml.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line.split("=")[0].strip() == key:
            lines[i] = f"{key} = {value}"
            break
    else:
        lines.insert(0, f"{key} = {value}")
    toml.write_text("\n".join(lines) + "\n", encoding="utf-8")


def tree(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file below a folder with its size and mtime, to prove nothing was written."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def short_episode(episode_toml: Path, name: str, audio: bytes) -> None:
    """The demo episode with `audio` (written as `name`) as its recording, without the
    chapters, transcript and soundbites timed for the minute-long demo recording."""
    (episode_toml.parent / name).write_bytes(audio)
    set_key(episode_toml, "audio", f'"{name}"')
    text = episode_toml.read_text().replace('transcript = "transcript.vtt"\n', "")
    episode_toml.write_text(text[:text.index("[[chapters]]")])
