"""`publish new`: an episode folder with a valid episode.toml to fill in."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from ..errors import PublishError
from .catalog import Catalog, free_slug, slugify

TEMPLATE = '''# Every key is documented in docs/configuration.md ("Episode keys").
title = {title}
number = {number}
published = {published}
audio = {audio}
notes_file = "notes.md"
type = "full"
'''


def _toml_string(s: str) -> str:
    escaped = s.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped) + '"'


def new_episode(root: Path, title: str, number: int | None, slug: str | None,
                audio: Path | None, now: datetime, published: dict[str, int] | None = None) -> Path:
    """`published` maps the slugs in storage's manifest to their numbers: a slug stays an
    episode's for good, even once its folder is gone, so a new folder never takes one."""
    catalog = Catalog(root)
    slugs, taken = catalog.claimed()
    published = published or {}
    used = {**{s: f"published episode {n}" for s, n in published.items()}, **slugs}
    number = number if number is not None else max([*taken, *published.values()], default=0) + 1
    if number in taken:
        raise PublishError(f"episode number {number} is already used", where=catalog.episodes_dir)
    slug = free_slug(slugify(slug or title), used, explicit=slug is not None)
    folder = catalog.episodes_dir / f"{number:03d}-{slug}"
    if folder.exists():
        raise PublishError("folder already exists", where=folder)
    folder.mkdir(parents=True)
    audio_name = f"recording{audio.suffix.lower()}" if audio else "recording.flac"
    if audio:
        shutil.copyfile(audio, folder / audio_name)
    published = now.astimezone().replace(microsecond=0, second=0).isoformat()
    (folder / "episode.toml").write_text(TEMPLATE.format(
        title=_toml_string(title), number=number, published=published,
        audio=_toml_string(audio_name)), encoding="utf-8")
    (folder / "notes.md").write_text(f"Show notes for *{title}*.\n", encoding="utf-8")
    return folder
