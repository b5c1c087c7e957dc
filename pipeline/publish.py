"""Publishing: master, tag and upload an episode, then the manifest, then the feeds, in that order.

Everything is prepared locally first (config, audio, tags); only then is storage written,
media first, manifest next, feed last. Every object is written before anything that points
at it, so a crash at any step leaves the public feed pointing only at complete objects,
and a re-run finishes the job.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import chapters as chaptersmod
from . import feed as feedmod
from . import ffmpeg, master, notes
from . import manifest as mf
from . import transcript as transcriptmod
from .catalog import Catalog
from .config import EpisodeConfig, FeedConfig, episode_audio, episode_bumpers, public_url
from .errors import PublishError
from .faults import crashpoint
from .id3 import ChapterMark, TagData, write_tags
from .storage import Storage, content_type_for, open_storage, sha256_file

# A progress factory: (label, total) -> context manager yielding an update(increment) function.
ProgressFactory = Callable[[str, float], AbstractContextManager[Callable[[float], None]]]
PERMILLE = 1000


@contextmanager
def no_progress(label: str, total: float) -> Iterator[Callable[[float], None]]:
    yield lambda n: None


@dataclass(frozen=True)
class Upload:
    """A local file that must be in storage under a key before anything refers to it."""

    key: str
    path: Path
    sha256: str
    cache_control: str

    def stored(self) -> mf.StoredObject:
        return mf.StoredObject(key=self.key, bytes=self.path.stat().st_size, sha256=self.sha256)


@dataclass
class Session:
    """What one command run works with: the catalogue, one storage, the clock, the UI hooks."""

    catalog: Catalog
    feed: FeedConfig
    storage: Storage
    now: datetime
    progress: ProgressFactory = no_progress
    log: Callable[[str], None] = lambda msg: None
    dry_run: bool = False
    lock_wait_s: float = float(os.environ.get("PUBLISH_LOCK_WAIT_S", "300"))
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

    def media_cache(self) -> str:
        return f"public, max-age={self.feed.cache.media_s}, immutable"

    def short_cache(self) -> str:
        return f"public, max-age={self.feed.cache.feed_s}"

    def upload(self, up: Upload) -> None:
        """Upload unless the storage already holds exactly these bytes under that key."""
        info = self.storage.head(up.key)
        size = up.path.stat().st_size
        if info is not None and info.size == size and info.sha256 == up.sha256:
            return
        self.actions.append(f"upload {up.key} ({size} bytes)")
        if self.dry_run:
            return
        with self.progress(f"Uploading {Path(up.key).name}", size) as update:
            self.storage.put_file(up.key, up.path, sha256=up.sha256,
                                  content_type=content_type_for(up.key),
                                  cache_control=up.cache_control, progress=update)
        self.uploaded_bytes += size

    def write_small(self, key: str, data: bytes) -> bool:
        """Small objects (manifest, feed): compared by content, written atomically."""
        if self.storage.get_bytes(key) == data:
            return False
        self.actions.append(f"write {key} ({len(data)} bytes)")
        if not self.dry_run:
            self.storage.put_bytes(key, data, content_type=content_type_for(key),
                                   cache_control=self.short_cache())
            self.uploaded_bytes += len(data)
        return True

    def read_manifest(self) -> mf.Manifest:
        return mf.parse(self.storage.get_bytes(mf.MANIFEST_KEY),
                        where=self.storage.location(mf.MANIFEST_KEY))

    def sibling_feeds(self) -> list[FeedConfig]:
        """Every feed that lives in the same storage (and so shares the manifest)."""
        feeds = [f for f in self.catalog.feeds() if f.storage == self.feed.storage]
        return feeds or [self.feed]

    def commit(self, update: Callable[[mf.Manifest], mf.Manifest],
               uploads: list[Upload]) -> list[dict]:
        """Media first, manifest next, feeds last: the one order storage is ever written in.

        Under the storage's lock the manifest is read again and `update` applied to it, so two
        runs publishing different episodes both land instead of the last one winning.
        """
        lock = nullcontext() if self.dry_run else self.storage.lock(self.lock_wait_s)
        with lock:
            manifest = update(self.read_manifest())
            for up in uploads:
                crashpoint(f"upload:{Path(up.key).suffix}")
                self.upload(up)
                crashpoint(f"uploaded:{Path(up.key).suffix}")
            self.write_small(mf.MANIFEST_KEY, manifest.to_bytes())
            crashpoint("manifest-written")
            results = []
            for feed in self.sibling_feeds():
                xml = feedmod.render(feed, manifest, self.now)
                changed = self.write_small(feed.feed_key, xml)
                results.append({"name": feed.name, "url": feed.feed_url,
                                "location": self.storage.location(feed.feed_key),
                                "changed": changed})
            crashpoint("feeds-written")
        return results


def _as_fraction(update: Callable[[float], None]) -> Callable[[float], None]:
    """Adapt an increment-counting progress bar to a callback that reports 0..1 done."""
    done = 0

    def report(fraction: float) -> None:
        nonlocal done
        now = int(min(max(fraction, 0.0), 1.0) * PERMILLE)
        if now >= PERMILLE // 2 > done:
            crashpoint("mastering-half")
        if now > done:
            update(now - done)
            done = now
    return report


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fingerprint(obj: object) -> str:
    return sha256_bytes(json.dumps(obj, sort_keys=True, default=str).encode())


def addressed(folder: str, stem: str, path: Path, cache_control: str,
              suffix: str | None = None) -> Upload:
    """Content-addressed keys: new bytes get a new name, so a CDN never serves a stale file."""
    sha = sha256_file(path)
    return Upload(f"{folder}/{stem}-{sha[:12]}{suffix or path.suffix.lower()}", path, sha,
                  cache_control)


def _side_files(s: Session, ep: EpisodeConfig, tmp: Path
                ) -> tuple[Upload | None, list[tuple[Upload, str]]]:
    """The JSON chapters file and the transcript in every format, ready to upload."""
    folder = f"episodes/{ep.slug}"
    chapters_up = None
    if ep.chapters:
        path = tmp / f"{ep.slug}.chapters.json"
        path.write_text(chaptersmod.to_json(_marks(ep)), encoding="utf-8")
        chapters_up = addressed(folder, ep.slug, path, s.media_cache(), ".chapters.json")
    transcripts = []
    if ep.transcript is not None:
        cues = transcriptmod.read(ep.file(ep.transcript))
        for suffix, (mime, _rel) in transcriptmod.FORMATS.items():
            path = tmp / f"{ep.slug}.transcript{suffix}"
            path.write_text(transcriptmod.WRITERS[suffix](cues), encoding="utf-8")
            transcripts.append((addressed(folder, ep.slug, path, s.media_cache()), mime))
    return chapters_up, transcripts


def _marks(ep: EpisodeConfig) -> list[mf.PublishedChapter]:
    """The chapters as published: the one list JSON, ID3 and psc chapters are all made from."""
    return [mf.PublishedChapter(start_s=c.start_s, title=c.title, url=c.url, image=c.image)
            for c in ep.chapters]


def with_feed_records(s: Session, manifest: mf.Manifest) -> tuple[mf.Manifest, list[Upload]]:
    """Each feed's podcast:guid (computed once, then kept forever) and its artwork."""
    uploads = []
    for feed in s.sibling_feeds():
        existing = manifest.feeds.get(feed.name)
        guid = existing.podcast_guid if existing else mf.podcast_guid(feed.feed_url)
        art = addressed("artwork", feed.name, feed.artwork_path(), s.media_cache())
        uploads.append(art)
        record = mf.FeedRecord(podcast_guid=guid, artwork=art.stored())
        if record != existing:
            manifest = manifest.with_feed(feed.name, record)
    return manifest, uploads


def rebuild_feeds(s: Session) -> dict:
    """`publish feed`: from the manifest and the feed configs alone, no audio needed."""
    _, uploads = with_feed_records(s, mf.Manifest())
    feeds = s.commit(lambda fresh: with_feed_records(s, fresh)[0], uploads)
    return {"feeds": feeds, "uploaded_bytes": s.uploaded_bytes, "dry_run": s.dry_run,
            "actions": s.actions}


def _tag_data(s: Session, ep: EpisodeConfig, guid: str, description: str,
              duration_s: float | None) -> TagData:
    cover = ep.file(ep.artwork) if ep.artwork else s.feed.artwork_path()
    marks: tuple[ChapterMark, ...] = ()
    if ep.chapters and duration_s:
        chapters = _marks(ep)
        ends = [c.start_s for c in chapters[1:]] + [duration_s]
        marks = tuple(ChapterMark(c.start_s, end, c.title, c.url)
                      for c, end in zip(chapters, ends))
    return TagData(title=ep.title, artist=s.feed.author, album=s.feed.title, track=ep.number,
                   date=ep.published, description=description, feed_url=s.feed.feed_url,
                   guid=guid, category=" > ".join(s.feed.categories[0]),
                   cover=cover.read_bytes(), cover_mime=content_type_for(cover.name),
                   chapters=marks)


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


def publish_episode(s: Session, ep: EpisodeConfig) -> dict:
    """Master, tag and upload one episode; then the manifest; then every feed of the storage."""
    manifest, uploads = with_feed_records(s, s.read_manifest())
    crashpoint("manifest-read")
    show_guid = manifest.feeds[s.feed.name].podcast_guid
    existing = manifest.episodes.get(ep.slug)
    guid = existing.guid if existing else (ep.guid or mf.episode_guid(show_guid, ep.slug))

    notes_html = notes.to_html(ep.notes_markdown())
    description = notes.to_description(notes_html)
    source = ep.file(ep.audio)
    settings = episode_audio(s.feed, ep)
    bumpers = episode_bumpers(s.feed, ep)
    clips = [p for p in (settings.intro, settings.outro) if p is not None]
    audio_fp = _fingerprint({"source": sha256_file(source), "audio": settings.model_dump(),
                             "clips": [sha256_file(p) for p in clips],
                             "bumpers": [(at, sha256_file(p)) for at, p in bumpers],
                             "engine": master.ENGINE_VERSION})
    # Tags depend on the duration only through the last chapter's end, known from the last run.
    known = existing.audio if existing else None
    tags_fp = _tags_fingerprint(_tag_data(s, ep, guid, description,
                                          known.duration_s if known else None), audio_fp)
    same_audio = known is not None and known.audio_fingerprint == audio_fp
    cover = (addressed(f"episodes/{ep.slug}", "cover", ep.file(ep.artwork), s.media_cache())
             if ep.artwork else None)
    uploads += [cover] if cover else []
    result = {"episode": ep.slug, "guid": guid, "dry_run": s.dry_run}

    with tempfile.TemporaryDirectory(prefix="publish-") as tmp:
        chapters_up, transcripts = _side_files(s, ep, Path(tmp))
        uploads += [chapters_up] if chapters_up else []
        uploads += [up for up, _mime in transcripts]
        report_objects = existing.report if same_audio else {}
        if same_audio and known.tags_fingerprint == tags_fp and _intact(s, known):
            audio, loudness = known, existing.loudness
            result.update(encoded=False, retagged=False)
        elif s.dry_run:
            s.actions.append("re-tag the published MP3" if same_audio
                             else f"master and encode {source}")
            result.update(encoded=not same_audio, retagged=same_audio)
            if known is None:  # never published: nothing measured yet to show
                return {**result, "audio": None, "loudness": None, "uploaded_bytes": 0,
                        "feeds": [], "actions": s.actions}
            audio, loudness = known, existing.loudness
        else:
            mp3 = Path(tmp) / f"{ep.slug}.mp3"
            if same_audio:
                s.storage.download(known.key, mp3)
                _strip_tags(mp3)
                loudness = existing.loudness
            else:
                with s.progress("Mastering", PERMILLE) as update:
                    report = master.master_to_mp3(s.exe, source, mp3, settings,
                                                  progress=_as_fraction(update),
                                                  bumpers=bumpers)
                crashpoint("encoded")
                loudness = report.to_dict()
                for warning in report.warnings:
                    s.log(f"warning: {source}: {warning}")
                report_uploads = _loudness_report(s, ep, report, Path(tmp))
                uploads += report_uploads.values()
                report_objects = {k: up.stored() for k, up in report_uploads.items()}
            result.update(encoded=not same_audio, retagged=same_audio)
            duration = _duration(mp3)
            tags = _tag_data(s, ep, guid, description, duration)
            write_tags(mp3, tags)
            crashpoint("tagged")
            up = addressed(f"episodes/{ep.slug}", ep.slug, mp3, s.media_cache())
            uploads.append(up)
            audio = mf.AudioObject(**up.stored().model_dump(), duration_s=duration,
                                   audio_fingerprint=audio_fp,
                                   tags_fingerprint=_tags_fingerprint(tags, audio_fp))

        record = mf.EpisodeRecord(
            slug=ep.slug, guid=guid, title=ep.title, number=ep.number, season=ep.season,
            published=ep.published, updated=s.now,
            explicit=s.feed.explicit if ep.explicit is None else ep.explicit, type=ep.type,
            description=description, notes_html=notes_html, audio=audio,
            artwork=cover.stored() if cover else None,
            chapters=_marks(ep),
            persons=[mf.PublishedPerson(**p.model_dump()) for p in ep.persons],
            chapters_file=chapters_up.stored() if chapters_up else None,
            transcripts=[mf.PublishedFile(**up.stored().model_dump(), type=mime)
                         for up, mime in transcripts],
            soundbites=[mf.PublishedSoundbite(start_s=b.start_s, duration_s=b.duration,
                                              title=b.title) for b in ep.soundbites],
            block=ep.block, loudness=loudness, report=report_objects)
        if existing is not None and record.model_copy(update={"updated": existing.updated}) \
                == existing:
            record = existing  # nothing changed: keep `updated`, so the feed's bytes stay put
        feeds = s.commit(lambda fresh: with_feed_records(s, fresh)[0].with_episode(record),
                         uploads)

    return {**result,
            "audio": {"url": public_url(s.feed.base_url, audio.key),
                      "location": s.storage.location(audio.key), "bytes": audio.bytes,
                      "duration_s": audio.duration_s, "sha256": audio.sha256},
            "loudness": _loudness_summary(loudness),
            "feeds": feeds, "uploaded_bytes": s.uploaded_bytes, "actions": s.actions}


def _loudness_report(s: Session, ep: EpisodeConfig, report: master.MasterReport,
                     tmp: Path) -> dict[str, Upload]:
    """The loudness report (JSON and a PNG plot), published beside the episode's audio."""
    from .report import write_report

    json_path, png_path = tmp / "loudness.json", tmp / "loudness.png"
    write_report(report, json_path, png_path, target_lufs=s.feed.audio.target_lufs)
    folder = f"episodes/{ep.slug}"
    return {"json": addressed(folder, f"{ep.slug}-loudness", json_path, s.media_cache()),
            "png": addressed(folder, f"{ep.slug}-loudness", png_path, s.media_cache())}


def _loudness_summary(loudness: dict) -> dict:
    return {"input_lufs": loudness["input"]["integrated_lufs"],
            "output_lufs": loudness["output"]["integrated_lufs"],
            "true_peak_dbtp": loudness["output"]["true_peak_dbtp"]}


def _intact(s: Session, obj: mf.StoredObject) -> bool:
    info = s.storage.head(obj.key)
    return info is not None and info.size == obj.bytes and info.sha256 == obj.sha256
