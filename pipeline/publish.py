"""Publishing: master, tag and upload an episode, then the manifest, then the feeds, in that order.

Every object is written before anything that points at it, so a crash at any step leaves
the public feed pointing only at complete objects; a re-run finishes the job.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import feed as feedmod
from . import ffmpeg, master, notes
from . import manifest as mf
from .catalog import Catalog
from .config import EpisodeConfig, FeedConfig, public_url
from .errors import PublishError
from .id3 import ChapterMark, TagData, write_tags
from .storage import Storage, content_type_for, open_storage, sha256_file

# A progress factory: (label, total) -> context manager yielding an update(n) function.
ProgressFactory = Callable[[str, float], AbstractContextManager[Callable[[float], None]]]


@contextmanager
def no_progress(label: str, total: float) -> Iterator[Callable[[float], None]]:
    yield lambda n: None


@dataclass
class Session:
    """What one command run works with: the catalogue, one storage, the clock, the UI hooks."""

    catalog: Catalog
    feed: FeedConfig
    storage: Storage
    now: datetime
    progress: ProgressFactory = no_progress
    log: Callable[[str], None] = lambda msg: None
    uploaded_bytes: int = 0
    actions: list[str] = field(default_factory=list)
    _exe: str | None = None

    @classmethod
    def open(cls, root: Path, feed_name: str | None, storage_uri: str | None, now: datetime,
             **hooks) -> Session:
        catalog = Catalog(root)
        feed = catalog.feed(feed_name)
        storage = open_storage(storage_uri or feed.storage, catalog.root, feed.s3)
        return cls(catalog=catalog, feed=feed, storage=storage, now=now, **hooks)

    @property
    def exe(self) -> str:
        if self._exe is None:
            self._exe = ffmpeg.find_ffmpeg(self.feed.ffmpeg)
        return self._exe

    def media_cache(self, feed: FeedConfig) -> str:
        return f"public, max-age={feed.cache.media_s}, immutable"

    def short_cache(self, feed: FeedConfig) -> str:
        return f"public, max-age={feed.cache.feed_s}"

    def ensure(self, key: str, path: Path, sha: str, cache_control: str,
               dry_run: bool) -> int:
        """Upload unless the storage already holds exactly these bytes under that key."""
        info = self.storage.head(key)
        size = path.stat().st_size
        if info is not None and info.size == size and info.sha256 == sha:
            return 0
        self.actions.append(f"upload {key} ({size} bytes)")
        if dry_run:
            return 0
        with self.progress(f"Uploading {Path(key).name}", size) as update:
            self.storage.put_file(key, path, sha256=sha, content_type=content_type_for(key),
                                  cache_control=cache_control, progress=update)
        self.uploaded_bytes += size
        return size

    def ensure_bytes(self, key: str, data: bytes, cache_control: str, dry_run: bool) -> bool:
        """Small objects (manifest, feed): compared by content, written atomically."""
        if self.storage.get_bytes(key) == data:
            return False
        self.actions.append(f"write {key} ({len(data)} bytes)")
        if not dry_run:
            self.storage.put_bytes(key, data, content_type=content_type_for(key),
                                   cache_control=cache_control)
            self.uploaded_bytes += len(data)
        return True

    def read_manifest(self) -> mf.Manifest:
        return mf.parse(self.storage.get_bytes(mf.MANIFEST_KEY),
                        where=self.storage.location(mf.MANIFEST_KEY))

    def sibling_feeds(self) -> list[FeedConfig]:
        """Every feed that lives in the same storage (and so shares the manifest)."""
        feeds = [f for f in self.catalog.feeds() if f.storage == self.feed.storage]
        return feeds or [self.feed]


PERMILLE = 1000


def _as_fraction(update: Callable[[float], None]) -> Callable[[float], None]:
    """Adapt an increment-counting progress bar to a callback that reports 0..1 done."""
    done = 0

    def report(fraction: float) -> None:
        nonlocal done
        now = int(min(max(fraction, 0.0), 1.0) * PERMILLE)
        if now > done:
            update(now - done)
            done = now
    return report


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fingerprint(obj: object) -> str:
    return sha256_bytes(json.dumps(obj, sort_keys=True, default=str).encode())


def _addressed(folder: str, stem: str, sha: str, suffix: str) -> str:
    """Content-addressed keys: new bytes get a new name, so a CDN never serves a stale file."""
    return f"{folder}/{stem}-{sha[:12]}{suffix}"


def ensure_feed_record(s: Session, feed: FeedConfig, manifest: mf.Manifest,
                       dry_run: bool) -> mf.Manifest:
    """The show's podcast:guid (kept once published) and its artwork in storage."""
    existing = manifest.feeds.get(feed.name)
    guid = existing.podcast_guid if existing else mf.podcast_guid(feed.feed_url)
    art = feed.artwork_path()
    sha = sha256_file(art)
    key = _addressed("artwork", feed.name, sha, art.suffix.lower())
    s.ensure(key, art, sha, s.media_cache(feed), dry_run)
    record = mf.FeedRecord(podcast_guid=guid, artwork=mf.StoredObject(
        key=key, bytes=art.stat().st_size, sha256=sha))
    return manifest if existing == record else manifest.with_feed(feed.name, record)


def publish_feeds(s: Session, manifest: mf.Manifest, dry_run: bool) -> list[dict]:
    """Render each feed of this storage and write those whose bytes changed."""
    results = []
    for feed in s.sibling_feeds():
        xml = feedmod.render(feed, manifest, s.now)
        changed = s.ensure_bytes(feed.feed_key, xml, s.short_cache(feed), dry_run)
        results.append({"name": feed.name, "url": feed.feed_url,
                        "location": s.storage.location(feed.feed_key), "changed": changed})
    return results


def rebuild_feeds(s: Session, dry_run: bool = False) -> dict:
    """`publish feed`: from the manifest and the feed configs alone, no audio needed."""
    manifest = s.read_manifest()
    updated = manifest
    for feed in s.sibling_feeds():
        updated = ensure_feed_record(s, feed, updated, dry_run)
    if updated != manifest:
        s.ensure_bytes(mf.MANIFEST_KEY, updated.to_bytes(), s.short_cache(s.feed), dry_run)
    feeds = publish_feeds(s, updated, dry_run)
    return {"feeds": feeds, "uploaded_bytes": s.uploaded_bytes, "dry_run": dry_run,
            "actions": s.actions}


def _tag_data(s: Session, ep: EpisodeConfig, guid: str, description: str,
              duration_s: float | None) -> TagData:
    cover = (ep.file(ep.artwork) if ep.artwork else s.feed.artwork_path())
    marks = ()
    if ep.chapters and duration_s:
        starts = [c.start_s for c in ep.chapters]
        ends = starts[1:] + [duration_s]
        marks = tuple(ChapterMark(st, en, c.title, c.url)
                      for st, en, c in zip(starts, ends, ep.chapters))
    return TagData(title=ep.title, artist=s.feed.author, album=s.feed.title, track=ep.number,
                   date=ep.published, description=description, feed_url=s.feed.feed_url,
                   guid=guid, category=" > ".join(s.feed.categories[0]),
                   cover=cover.read_bytes(),
                   cover_mime=content_type_for(cover.name), chapters=marks)


def _tags_fingerprint(tags: TagData, audio_fp: str) -> str:
    fields = {k: v for k, v in vars(tags).items() if k != "cover"}
    return _fingerprint({"tags": fields, "cover": sha256_bytes(tags.cover or b""),
                         "audio": audio_fp})


def _strip_tags(path: Path) -> None:
    from mutagen.id3 import ID3, ID3NoHeaderError

    try:
        ID3(path).delete(path)
    except ID3NoHeaderError:
        pass


def _duration(path: Path) -> float:
    from mutagen.mp3 import MP3, HeaderNotFoundError

    try:
        return round(MP3(path).info.length, 3)
    except HeaderNotFoundError:
        raise PublishError("encoded MP3 has no audio frames", where=path) from None


def publish_episode(s: Session, ep: EpisodeConfig, dry_run: bool = False) -> dict:
    """Master, tag and upload one episode; then the manifest; then every feed of the storage."""
    manifest = s.read_manifest()
    manifest = ensure_feed_record(s, s.feed, manifest, dry_run)
    show_guid = manifest.feeds[s.feed.name].podcast_guid
    existing = manifest.episodes.get(ep.slug)
    guid = existing.guid if existing else (ep.guid or mf.episode_guid(show_guid, ep.slug))

    notes_html = notes.to_html(ep.notes_markdown())
    description = notes.to_text(notes_html)
    source = ep.file(ep.audio)
    audio_fp = _fingerprint({"source": sha256_file(source), "audio": s.feed.audio.model_dump(),
                             "engine": master.ENGINE_VERSION})
    # Tags depend on the duration only through chapter end times, known from the last run.
    known_duration = existing.audio.duration_s if existing else None
    tags = _tag_data(s, ep, guid, description, known_duration)
    tags_fp = _tags_fingerprint(tags, audio_fp)

    same_audio = existing is not None and existing.audio.audio_fingerprint == audio_fp
    if same_audio and existing.audio.tags_fingerprint == tags_fp and _intact(s, existing.audio):
        audio, loudness, encoded, retagged = existing.audio, existing.loudness, False, False
    elif dry_run:
        s.actions.append("retag the published MP3" if same_audio else f"master and encode {source}")
        audio, loudness = existing.audio if existing else None, existing.loudness if existing else {}
        encoded, retagged = not same_audio, same_audio
    else:
        with tempfile.TemporaryDirectory(prefix="publish-") as tmp:
            mp3 = Path(tmp) / f"{ep.slug}.mp3"
            if same_audio:
                s.storage.download(existing.audio.key, mp3)
                _strip_tags(mp3)
                loudness, encoded, retagged = existing.loudness, False, True
            else:
                with s.progress("Mastering", PERMILLE) as update:
                    report = master.master_to_mp3(s.exe, source, mp3, s.feed.audio,
                                                  progress=_as_fraction(update))
                loudness, encoded, retagged = report.to_dict(), True, False
                for warning in report.warnings:
                    s.log(f"warning: {source}: {warning}")
            duration = _duration(mp3)
            tags = _tag_data(s, ep, guid, description, duration)
            tags_fp = _tags_fingerprint(tags, audio_fp)
            write_tags(mp3, tags)
            sha = sha256_file(mp3)
            key = _addressed(f"episodes/{ep.slug}", ep.slug, sha, ".mp3")
            s.ensure(key, mp3, sha, s.media_cache(s.feed), dry_run)
            audio = mf.AudioObject(key=key, bytes=mp3.stat().st_size, sha256=sha,
                                   duration_s=duration, audio_fingerprint=audio_fp,
                                   tags_fingerprint=tags_fp)

    artwork = None
    if ep.artwork:
        art = ep.file(ep.artwork)
        sha = sha256_file(art)
        key = _addressed(f"episodes/{ep.slug}", "cover", sha, art.suffix.lower())
        s.ensure(key, art, sha, s.media_cache(s.feed), dry_run)
        artwork = mf.StoredObject(key=key, bytes=art.stat().st_size, sha256=sha)

    result = {"episode": ep.slug, "guid": guid, "encoded": encoded, "retagged": retagged,
              "dry_run": dry_run}
    if audio is None:  # a dry run of an episode never published: nothing measured yet
        feeds = [{"name": f.name, "url": f.feed_url, "location": s.storage.location(f.feed_key),
                  "changed": True} for f in s.sibling_feeds()]
        return {**result, "audio": None, "loudness": None, "feeds": feeds,
                "uploaded_bytes": 0, "actions": s.actions}

    record = mf.EpisodeRecord(
        slug=ep.slug, guid=guid, title=ep.title, number=ep.number, season=ep.season,
        published=ep.published, updated=s.now,
        explicit=s.feed.explicit if ep.explicit is None else ep.explicit, type=ep.type,
        description=description, notes_html=notes_html, audio=audio, artwork=artwork,
        chapters=[mf.PublishedChapter(start_s=c.start_s, title=c.title, url=c.url,
                                      image=c.image) for c in ep.chapters],
        persons=[mf.PublishedPerson(**p.model_dump()) for p in ep.persons],
        loudness=loudness)
    if existing is not None and record.model_copy(update={"updated": existing.updated}) == existing:
        record = existing  # nothing changed: keep `updated`, so the feed's bytes stay the same
    manifest = manifest.with_episode(record)
    s.ensure_bytes(mf.MANIFEST_KEY, manifest.to_bytes(), s.short_cache(s.feed), dry_run)
    feeds = publish_feeds(s, manifest, dry_run)
    return {**result,
            "audio": {"url": public_url(s.feed.base_url, audio.key),
                      "location": s.storage.location(audio.key), "bytes": audio.bytes,
                      "duration_s": audio.duration_s, "sha256": audio.sha256},
            "loudness": _loudness_summary(loudness),
            "feeds": feeds, "uploaded_bytes": s.uploaded_bytes, "actions": s.actions}


def _loudness_summary(loudness: dict) -> dict:
    return {"input_lufs": loudness["input"]["integrated_lufs"],
            "output_lufs": loudness["output"]["integrated_lufs"],
            "true_peak_dbtp": loudness["output"]["true_peak_dbtp"]}


def _intact(s: Session, obj: mf.StoredObject) -> bool:
    info = s.storage.head(obj.key)
    return info is not None and info.size == obj.bytes and info.sha256 == obj.sha256

