"""The renditions the feed asks of an episode: kept while their MP3 and settings stay, else made.

Every rendition is made from the published MP3 (see audio/rendition.py for why), so adding
renditions to a feed with published episodes never masters anything again nor touches the
MP3: a re-run downloads the MP3 when it is not at hand and encodes only what is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..audio import rendition
from ..audio.id3 import TagData
from ..feed.alternates import made_from
from ..manifest import AudioObject, Rendition
from ..project.config import RenditionSettings
from ..session import Session, Upload, episode_file


def _wanted(s: Session) -> list[tuple[RenditionSettings, int]]:
    """Every rendition a feed of this storage asks for, once: the feeds share the manifest, and
    each lists those its own config asks for."""
    wanted: dict[tuple[str, int, int], RenditionSettings] = {}
    for feed in s.sibling_feeds():
        for spec in feed.renditions:
            wanted.setdefault((spec.format, spec.bitrate, spec.channels or feed.audio.channels),
                              spec)
    return [(spec, channels) for (_, _, channels), spec in wanted.items()]


def episode_renditions(s: Session, slug: str, audio: AudioObject, mp3: Path,
                       tags: Callable[[], TagData], before: list[Rendition], tmp: Path
                       ) -> tuple[list[Rendition], list[Upload]]:
    """The renditions of one episode the feeds ask for, in their configs' order, and what to
    upload.

    `mp3` is where the published MP3 is, or is to be downloaded to; `before` are the renditions
    the manifest has of the episode: one made from the same MP3 with the same settings and
    still intact in storage is kept as it is. A rendition no longer in the config is dropped."""
    made, uploads = [], []
    source: rendition.Mp3 | None = None
    for spec, channels in _wanted(s):
        codec = rendition.CODECS[spec.format]
        origin = made_from(spec, channels, audio.sha256)
        title = rendition.default_title(spec, channels)
        kept = next((r for r in before if r.made_from == origin and s.holds(r)), None)
        if kept is not None:
            made.append(kept.model_copy(update={"title": title}))
            continue
        s.actions.append(f"encode the {title} rendition of {slug}")
        if s.dry_run:
            continue
        if source is None:
            if not mp3.exists():
                s.storage.download(audio.key, mp3, sha256=audio.sha256)
            source = rendition.Mp3.read(s.exe, mp3)
        path = tmp / f"{slug}-{spec.format}-{spec.bitrate}-{channels}{codec.suffix}"
        with s.progress(f"Encoding {title}", 1) as update:
            rendition.encode(s.exe, source, tags(), spec, channels,
                             s.feed.audio.true_peak_dbtp, path)
            update(1)
        up = episode_file(slug, slug, path, s.media_cache())
        uploads.append(up)
        made.append(Rendition(**up.stored().model_dump(), type=codec.mime, title=title,
                              bitrate=spec.bitrate * 1000, codecs=codec.codecs,
                              made_from=origin))
    return made, uploads

