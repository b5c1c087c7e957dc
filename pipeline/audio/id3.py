"""ID3v2.3 tags for podcast players, declared once as a table of frame builders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    PCST,
    TALB,
    TCAT,
    TCON,
    TDES,
    TDRC,
    TGID,
    TIT2,
    TPE1,
    TRCK,
    WFED,
    WXXX,
    CTOCFlags,
    Frame,
)
from mutagen.id3 import error as ID3Error

from ..errors import PublishError

UTF16 = 1  # ID3v2.3 knows Latin-1 and UTF-16 only; UTF-16 carries any title


@dataclass(frozen=True)
class ChapterMark:
    start_s: float
    end_s: float
    title: str
    url: str | None = None


@dataclass(frozen=True)
class TagData:
    """Everything written into the MP3, derived from the episode and the feed."""

    title: str
    artist: str
    album: str
    track: int
    date: datetime
    description: str
    feed_url: str
    guid: str
    category: str
    cover: bytes | None = None
    cover_mime: str = "image/jpeg"
    chapters: tuple[ChapterMark, ...] = field(default_factory=tuple)


def _text(cls: type[Frame], value: Callable[[TagData], str | None]):
    def build(t: TagData) -> list[Frame]:
        v = value(t)
        return [cls(encoding=UTF16, text=[v])] if v else []
    return build


def _cover(t: TagData) -> list[Frame]:
    if not t.cover:
        return []
    return [APIC(encoding=0, mime=t.cover_mime, type=3, desc="Cover", data=t.cover)]


def _chapters(t: TagData) -> list[Frame]:
    if not t.chapters:
        return []
    frames: list[Frame] = []
    ids = []
    for i, ch in enumerate(t.chapters):
        cid = f"chp{i}"
        ids.append(cid)
        sub: list[Frame] = [TIT2(encoding=UTF16, text=[ch.title])]
        if ch.url:
            sub.append(WXXX(encoding=0, desc="", url=ch.url))
        frames.append(CHAP(element_id=cid, start_time=round(ch.start_s * 1000),
                           end_time=round(ch.end_s * 1000), start_offset=0xFFFFFFFF,
                           end_offset=0xFFFFFFFF, sub_frames=sub))
    frames.insert(0, CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                          child_element_ids=ids,
                          sub_frames=[TIT2(encoding=UTF16, text=["Chapters"])]))
    return frames


# One row per frame: what players show and what podcast apps use to recognise an episode.
FRAMES: list[Callable[[TagData], list[Frame]]] = [
    _text(TIT2, lambda t: t.title),
    _text(TPE1, lambda t: t.artist),
    _text(TALB, lambda t: t.album),
    _text(TRCK, lambda t: str(t.track)),
    _text(TDRC, lambda t: t.date.strftime("%Y-%m-%d")),
    _text(TCON, lambda t: "Podcast"),
    _text(TCAT, lambda t: t.category),
    _text(TDES, lambda t: t.description),
    _text(TGID, lambda t: t.guid),
    lambda t: [COMM(encoding=UTF16, lang="eng", desc="", text=[t.description])]
    if t.description else [],
    lambda t: [PCST(value=1)],
    lambda t: [WFED(encoding=0, url=t.feed_url)],
    _cover,
    _chapters,
]


def write_tags(mp3: Path, tags: TagData) -> None:
    """Replace whatever tags the file has with ours, as ID3v2.3."""
    id3 = ID3()
    for build in FRAMES:
        for frame in build(tags):
            id3.add(frame)
    try:
        id3.save(mp3, v2_version=3, v1=0)
    except (ID3Error, OSError) as exc:
        raise PublishError(f"cannot write ID3 tags: {exc}", where=mp3) from None

