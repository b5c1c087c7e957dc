"""Gathers what the rules check: files of the project, the manifest, and storage's answers."""

from __future__ import annotations

import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..audio import ffmpeg
from ..errors import PublishError
from ..feed.analytics import resolved_prefix, unprefixed
from ..feed.render import render_feed
from ..manifest import MANIFEST_KEY, Manifest
from ..project.config import EpisodeConfig, FeedConfig, public_url
from ..session import Session
from ..storage import content_type_for
from ..texts import notes, transcript
from .identity import check_identity
from .renames import orphan_message, orphans
from .rules import (
    LINKED_FILES,
    NS,
    RENDITION_SOURCE,
    Problem,
    Stored,
    at,
    check_episode_config,
    check_feed_config,
    check_imported,
    check_published,
    check_rendered,
    warning,
)


def before_upload(s: Session, episodes: list[EpisodeConfig],
                  report_unknown_duration: bool = False, jobs: int = 1) -> list[Problem]:
    """The feed's and these episodes' files, checked before anything leaves the machine;
    `jobs` episodes at once (each probes its recording with ffmpeg, a process apiece).

    When publishing, a recording ffmpeg cannot read fails with ffmpeg's own message at the
    mastering step, so only `publish validate` reports an unknown duration.
    """
    exe = s.exe  # found once, before the threads need it

    def one(ep: EpisodeConfig) -> list[Problem]:
        problems = []
        description = notes.to_text(notes.to_html(ep.notes_markdown()))  # before shortening
        duration = ffmpeg.probe(exe, ep.file(ep.audio)).duration_s
        if duration is None and report_unknown_duration:
            problems.append(warning(at(ep.folder / "episode.toml", "audio"),
                                    "ffmpeg cannot tell the recording's duration, so chapters, "
                                    "transcript and soundbites were not checked against it"))
        cues = transcript.read(ep.file(ep.transcript)) if ep.transcript else None
        artwork = ep.file(ep.artwork).read_bytes() if ep.artwork else None
        return problems + check_episode_config(ep, description, duration, cues, artwork)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        found = list(pool.map(one, episodes))
    return check_feed_config(s.feed, s.feed.artwork_path().read_bytes()) + \
        [p for problems in found for p in problems]


def refuse_on_errors(problems: list[Problem], log: Callable[[str], None],
                     where: Path | str) -> None:
    """Warnings are shown and publishing goes on; errors stop it before any upload."""
    for p in problems:
        log(str(p))
    errors = sum(p.level == "error" for p in problems)
    if errors:
        raise PublishError(f"{errors} error(s) listed above; nothing was published",
                           where=where)


def validate_feed(s: Session, deep: bool = False) -> list[Problem]:
    """`publish validate`: the catalogue, the feed as it would be rebuilt now, and the feed
    that is published, with every object it points at asked about in storage.

    The audio is checked by HEAD (size, sha256) against the manifest, whose durations were
    measured when it was published, so CI does not download the catalogue on every push;
    `deep` downloads and measures every MP3 again."""
    feed = s.feed
    eps = [ep for ep in s.catalogue
           if feed.admits(ep.type, ep.season)]
    problems = before_upload(s, eps, report_unknown_duration=True)
    manifest = s.read_manifest()
    where = _item_where(s, manifest)
    if feed.name in manifest.feeds:
        rendered = render_feed(feed, manifest, s.now)
        problems += check_rendered(rendered, str(feed.path), where)
        problems += check_identity(feed, manifest, s.now, s.storage.location(MANIFEST_KEY),
                                   where)
        problems += [warning(where[rec.guid], orphan_message(rec, feed.path))
                     for rec in orphans(manifest, s.catalogue, feed.removed_guids)
                     if feed.admits(rec.type, rec.season)]
        imported = feed.path.parent / f"{feed.name}.imported.xml"
        if imported.is_file():  # kept by `publish import`: no GUID may change or go
            problems += check_imported(imported.read_bytes(), rendered, str(imported))
    published = s.storage.get_bytes(feed.feed_key)
    if published is None:
        problems.append(warning(str(feed.path), f"{feed.feed_key} is not in storage yet: "
                                                "run publish episode or publish feed"))
    else:
        problems += check_rendered(published, s.storage.location(feed.feed_key), where)
        problems += check_published(published, _objects(s, feed, published, manifest, deep),
                                    str(feed.path), where)
    return list(dict.fromkeys(problems))  # the rebuilt and the published feed often agree


def _item_where(s: Session, manifest: Manifest) -> dict[str, str]:
    """An item's GUID -> its episode.toml, or its manifest entry when the folder is gone."""
    folders = s.episode_folders
    where = {}
    for slug, rec in manifest.episodes.items():
        folder = folders.get(slug)
        where[rec.guid] = (str(folder / "episode.toml") if folder
                           else at(s.storage.location(MANIFEST_KEY), f"episodes.{slug}"))
    return where


def _objects(s: Session, feed: FeedConfig, xml: bytes, manifest: Manifest,
             deep: bool) -> dict[str, Stored]:
    """Storage's answer for every URL the feed's items point at: the audio's size and sha256
    (measured too when `deep`), the small files read.

    Keys are the URLs less the storage root the published feed was made with (its rel=self
    link less the feed's key), which is not `base_url` any more if that has just changed."""
    channel = ET.fromstring(xml).find("channel")
    self_link = channel.find("atom:link[@rel='self']", NS) if channel is not None else None
    href = self_link.get("href", "") if self_link is not None else ""
    prefix = href.removesuffix(feed.feed_key) if href.endswith(f"/{feed.feed_key}") \
        else public_url(feed.base_url, "")
    record = manifest.feeds.get(feed.name)
    counted = resolved_prefix(feed, record.podcast_guid) if record else ""
    published = {r.audio.key: r.audio for r in manifest.episodes.values()}
    objects: dict[str, Stored] = {}
    for item in channel.findall("item") if channel is not None else []:
        for path, attr in [("enclosure", "url"), *LINKED_FILES]:
            for node in item.findall(path, NS):
                url = node.get(attr, "")
                own = unprefixed(counted, url)  # the analytics prefix redirects here
                key = own.removeprefix(prefix)
                info = s.storage.head(key) if own.startswith(prefix) and key else None
                if info is None:
                    objects[url] = Stored(None, None)
                elif path == "enclosure":
                    audio = published.get(key)
                    ok = None if info.sha256 is None or audio is None \
                        else info.sha256 == audio.sha256
                    duration = _measure(s, key) if deep else \
                        (audio.duration_s if audio is not None else None)
                    objects[url] = Stored(info.size, content_type_for(key), duration,
                                          sha256_ok=ok)
                else:
                    text = (s.storage.get_bytes(key) or b"").decode("utf-8", "replace")
                    objects[url] = Stored(info.size, content_type_for(key), text=text)
        for node in item.findall(RENDITION_SOURCE[0], NS):
            url = node.get(RENDITION_SOURCE[1], "")
            key = url.removeprefix(prefix)
            info = s.storage.head(key) if url.startswith(prefix) and key else None
            # The MP3's own entry is the enclosure, already asked about above.
            objects.setdefault(url, Stored(info.size, content_type_for(key)) if info
                               else Stored(None, None))
    return objects


def _measure(s: Session, key: str) -> float:
    """How long the published MP3's audio runs (0 when it has no MP3 frames): as players read
    it, unless its bytes run out first. The Info header states the length of the whole
    encode, so a cut upload would keep claiming it; its frames (CBR) say what is there."""
    from mutagen import MutagenError
    from mutagen.mp3 import MP3

    with tempfile.TemporaryDirectory(prefix="publish-check-") as tmp:
        local = Path(tmp) / "audio.mp3"
        s.storage.download(key, local)
        try:
            mp3 = MP3(local)
        except MutagenError:
            return 0.0
        audio_bytes = local.stat().st_size - (mp3.tags.size if mp3.tags else 0)
        return min(mp3.info.length, audio_bytes * 8 / mp3.info.bitrate)
