"""Chapters: read a chapters file, check the marks, write Podcasting 2.0 JSON chapters.

The same marks become ID3 CHAP frames (id3.py) and Podlove Simple Chapters (feedext/psc.py),
so every player sees the same chapters whichever format it reads.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Protocol

from .timecode import parse_timestamp

JSON_VERSION = "1.2.0"
# A text line: a time stamp, the title, and optionally a link in angle brackets (mp4chaps style).
_LINE = re.compile(r"^(\S+)\s+(.+?)(?:\s+<(https?://\S+)>)?$")


class Mark(Protocol):
    start_s: float
    title: str
    url: str | None
    image: str | None


def check_starts(starts: list[float], duration_s: float | None = None) -> None:
    """The first chapter starts at 0, starts increase, and all lie inside the audio."""
    if starts and (starts[0] != 0 or starts != sorted(set(starts))):
        raise ValueError("chapters: first chapter starts at 0 and starts increase")
    if duration_s is not None and starts and starts[-1] >= duration_s:
        raise ValueError(f"chapters: the last chapter starts at {starts[-1]:g} s, "
                         f"not before the end of the audio ({duration_s:.3f} s)")


def parse_text(text: str) -> list[dict]:
    """`00:15.5 Title <https://link>` per line; blank lines and `#` comments are skipped."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            raise ValueError(f"line {n}: expected a time and a title")
        try:
            parse_timestamp(m.group(1))
        except ValueError as exc:
            raise ValueError(f"line {n}: {exc}") from None
        out.append({"start": m.group(1), "title": m.group(2),
                    **({"url": m.group(3)} if m.group(3) else {})})
    return out


def parse_json(text: str) -> list[dict]:
    """A Podcasting 2.0 JSON chapters file; chapters with toc=false are not marks."""
    try:
        doc = json.loads(text)
        items = doc["chapters"]
        out = []
        for ch in items:
            if ch.get("toc", True) is False:
                continue
            entry = {"start": float(ch["startTime"]), "title": ch["title"]}
            entry.update({k: ch[src] for k, src in (("url", "url"), ("image", "img"))
                          if ch.get(src)})
            out.append(entry)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a Podcasting 2.0 JSON chapters file: {exc}") from None
    return out


def read(path: Path) -> list[dict]:
    """Chapter tables (as in episode.toml) from a .json or a text chapters file."""
    text = path.read_text(encoding="utf-8")
    return parse_json(text) if path.suffix.lower() == ".json" else parse_text(text)


def to_json(marks: list[Mark]) -> str:
    chapters = []
    for m in marks:
        ch: dict = {"startTime": m.start_s, "title": m.title}
        if m.image:
            ch["img"] = m.image
        if m.url:
            ch["url"] = m.url
        chapters.append(ch)
    return json.dumps({"version": JSON_VERSION, "chapters": chapters}, indent=2,
                      ensure_ascii=False) + "\n"
