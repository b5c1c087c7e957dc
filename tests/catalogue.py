"""A small catalogue of short episodes published as they are (`master = false`), for tests
of many episodes at once where mastering would only cost time."""

from __future__ import annotations

import shutil
from pathlib import Path

from importing import mp3


def make_catalogue(project: Path, count: int, seconds: float = 1.0) -> list[str]:
    """`count` episodes numbered 1..count, each a real MP3 of `seconds`; their slugs."""
    shutil.rmtree(project / "episodes", ignore_errors=True)
    slugs = []
    for n in range(1, count + 1):
        folder = project / "episodes" / f"{n:03d}-part-{n}"
        folder.mkdir(parents=True)
        (folder / "audio.mp3").write_bytes(mp3(seconds))
        (folder / "episode.toml").write_text(
            f'title = "Part {n}"\nnumber = {n}\npublished = 2026-11-20T09:00:00-05:00\n'
            f'audio = "audio.mp3"\nmaster = false\nnotes = "Part number {n}."\n',
            encoding="utf-8")
        slugs.append(f"part-{n}")
    return slugs
