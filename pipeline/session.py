"""The storage session of one command run, and the one order storage is ever written in.

Media first, manifest next, then the website, feeds last: every object is written before
anything that points at it, so a crash at any step leaves the public feed (and the site's
pages) pointing only at complete objects. Pages the new site no longer has are deleted
after all of that, so a crash leaves at worst a stale page, never a link to a missing one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime
from pathlib import Path

from .errors import PublishError
from .faults import crashpoint
from .feed.history import with_listed
from .feed.render import render_feed
from .manifest import (
    MANIFEST_KEY,
    FeedRecord,
    Manifest,
    StoredObject,
    parse_manifest,
    podcast_guid,
)
from .project.catalog import Catalog
from .project.config import EpisodeConfig, FeedConfig
from .runtime.env import env_float
from .site.build import build_site
from .site.model import INDEX_KEY
from .site.stale import PAGE_FOLDERS, stale_pages
from .storage import Storage, content_type_for, open_storage, sha256_file

# Another run overwriting our manifest three times running is not a race but a broken lock.
COMMIT_TRIES = 3
# A progress factory: (label, total) -> context manager yielding an update(increment) function.
ProgressFactory = Callable[[str, float], AbstractContextManager[Callable[[float], None]]]


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

    def stored(self) -> StoredObject:
        return StoredObject(key=self.key, bytes=self.path.stat().st_size, sha256=self.sha256)


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
    lock_wait_s: float | None = None  # None: $PUBLISH_LOCK_WAIT_S, else 300 s
    uploaded_bytes: int = 0
    actions: list[str] = field(default_factory=list)
    site: dict | None = None  # what commit did to the website: its URL, pages written, deleted
    _site_pages: frozenset[str] = frozenset()  # the keys of the site last written
    _exe: str | None = None

    @classmethod
    def open(cls, root: Path, feed_name: str | None, storage_uri: str | None, now: datetime,
             **hooks) -> Session:
        catalog = Catalog(root)
        feed = catalog.feed(feed_name)
        storage = open_storage(storage_uri or feed.storage, catalog.root, feed.s3)
        return cls(catalog=catalog, feed=feed, storage=storage, now=now, **hooks)

    @cached_property
    def catalogue(self) -> list[EpisodeConfig]:
        """Every episode, read once a run: publishing 300 episodes must not read the catalogue
        300 times."""
        return self.catalog.episodes()

    @property
    def episode_folders(self) -> dict[str, Path]:
        """Each episode's folder by slug."""
        return {ep.slug: ep.folder for ep in self.catalogue}

    @property
    def exe(self) -> str:
        if self._exe is None:
            from .audio import ffmpeg  # only commands that touch audio load numpy with it

            self._exe = ffmpeg.find_ffmpeg(self.feed.ffmpeg)
        return self._exe

    def media_cache(self) -> str:
        return f"public, max-age={self.feed.cache.media_s}, immutable"

    def short_cache(self) -> str:
        return f"public, max-age={self.feed.cache.feed_s}"

    def holds(self, obj: StoredObject) -> bool:
        """Whether the storage has exactly the bytes the manifest says are under the key."""
        info = self.storage.head(obj.key)
        return info is not None and info.size == obj.bytes and info.sha256 == obj.sha256

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

    def write_small(self, key: str, data: bytes, cache_control: str | None = None) -> bool:
        """Small objects (manifest, feed, pages): compared by content, written atomically."""
        if self.storage.get_bytes(key) == data:
            return False
        self.actions.append(f"write {key} ({len(data)} bytes)")
        if not self.dry_run:
            self.storage.put_bytes(key, data, content_type=content_type_for(key),
                                   cache_control=cache_control or self.short_cache())
            self.uploaded_bytes += len(data)
        return True

    def read_manifest(self) -> Manifest:
        return self._parse_manifest(self.storage.get_bytes(MANIFEST_KEY))

    def _parse_manifest(self, data: bytes | None) -> Manifest:
        return parse_manifest(data, where=self.storage.location(MANIFEST_KEY))

    def sibling_feeds(self) -> list[FeedConfig]:
        """Every feed that lives in the same storage (and so shares the manifest)."""
        feeds = [f for f in self.catalog.feeds() if f.storage == self.feed.storage]
        return feeds or [self.feed]

    def commit(self, update: Callable[[Manifest], Manifest],
               uploads: list[Upload]) -> list[dict]:
        """Media first, manifest next, then the website, feeds last: the one order storage is
        ever written in. Then the site's stale pages are deleted (`prune_site`).

        Under the storage's lock the manifest is read again and `update` applied to it, so two
        runs publishing different episodes both land instead of the last one winning, and what
        the feeds will list is added to its history (feed/history.py). Then both are read
        back: if another run overwrote them (a lock the server did not keep), they are merged
        and written again, and after COMMIT_TRIES the run fails instead of reporting an episode
        that is not there.
        """
        wait_s = self.lock_wait_s if self.lock_wait_s is not None \
            else env_float("PUBLISH_LOCK_WAIT_S", 300.0)
        lock = nullcontext() if self.dry_run else self.storage.lock(wait_s)
        feeds_here = self.sibling_feeds()

        def updated(manifest: Manifest) -> Manifest:
            return with_listed(update(manifest), feeds_here, self.now)

        with lock:
            for up in uploads:
                crashpoint(f"upload:{Path(up.key).suffix}")
                self.upload(up)
                crashpoint(f"uploaded:{Path(up.key).suffix}")
            changed: set[str] = set()
            for _ in range(COMMIT_TRIES):
                stored = self.storage.get_bytes(MANIFEST_KEY)
                read = self._parse_manifest(stored)
                manifest = updated(read)
                if manifest is read and stored is not None:
                    # Nothing to change: the update gave back what it was given. Dumping a
                    # large catalogue's records only to compare them is a tenth of a second.
                    written = stored
                else:
                    written = manifest.to_bytes()
                    self.write_small(MANIFEST_KEY, written)
                crashpoint("manifest-written")
                self.write_site(manifest)
                feeds = [(feed, render_feed(feed, manifest, self.now)) for feed in feeds_here]
                changed |= {f.name for f, xml in feeds if self.write_small(f.feed_key, xml)}
                crashpoint("feeds-written")
                if self.dry_run or self._landed(updated, written, feeds):
                    self.prune_site()
                    return [{"name": feed.name, "url": feed.feed_url,
                             "location": self.storage.location(feed.feed_key),
                             "changed": feed.name in changed} for feed, _ in feeds]
            raise PublishError("another run overwrote the manifest or feed after this one, "
                               f"{COMMIT_TRIES} times running; this run's changes may be missing "
                               "from them: publish again",
                               where=self.storage.location(MANIFEST_KEY))

    def _landed(self, update: Callable[[Manifest], Manifest], written: bytes,
                feeds: list[tuple[FeedConfig, bytes]]) -> bool:
        """Whether the stored manifest still holds this run's records and each feed its bytes.
        The manifest is parsed only when its bytes are not the ones written (a large
        catalogue's takes a good part of a second)."""
        data = self.storage.get_bytes(MANIFEST_KEY)
        if data != written:
            stored = self._parse_manifest(data)
            if update(stored).to_bytes() != stored.to_bytes():
                return False
        return all(self.storage.get_bytes(feed.feed_key) == xml for feed, xml in feeds)

    def write_site(self, manifest: Manifest) -> None:
        """The website: its assets (content-addressed, so cached as immutable) before the pages
        that load them; unchanged pages are left alone. Counted in `site` across tries."""
        site = build_site(self.storage, self.sibling_feeds(), manifest, self.now,
                          self.catalog.root)
        if site.url is None:
            return
        for key, data in site.assets.items():
            self.write_small(key, data, cache_control=self.media_cache())
        written = sum(self.write_small(key, data) for key, data in site.pages.items())
        before = self.site["pages_written"] if self.site else 0
        self.site = {"url": site.url, "location": self.storage.location(INDEX_KEY),
                     "pages_written": before + written, "pages_deleted": []}
        self._site_pages = frozenset(site.pages)

    def prune_site(self) -> None:
        """Delete the pages the site written last no longer has: an unpublished or rescheduled
        episode's pages, the pages of the list past its new end. Runs once the pages and feeds
        that linked to them are rewritten. Found by listing storage, so pages left by any
        earlier run or version go too. A site that is off is left as it was: deleting its
        episode pages would break the links of the index it no longer rewrites."""
        if self.site is None:
            return
        stored = (key for folder in PAGE_FOLDERS for key in self.storage.keys(folder))
        gone = stale_pages(stored, self._site_pages)
        for key in gone:
            self.actions.append(f"delete {key}")
            if not self.dry_run:
                crashpoint("before-delete:page")
                self.storage.delete(key)
        self.site["pages_deleted"] = gone


def episode_file(slug: str, stem: str, path: Path, cache_control: str,
                 suffix: str | None = None) -> Upload:
    """An episode's file in storage: every one lives under episodes/<slug>/, so the slug (a
    checked folder name) is all that places it."""
    return addressed(f"episodes/{slug}", stem, path, cache_control, suffix)


def addressed(folder: str, stem: str, path: Path, cache_control: str,
              suffix: str | None = None) -> Upload:
    """Content-addressed keys: new bytes get a new name, so a CDN never serves a stale file."""
    sha = sha256_file(path)
    return Upload(f"{folder}/{stem}-{sha[:12]}{suffix or path.suffix.lower()}", path, sha,
                  cache_control)


def with_feed_records(s: Session, manifest: Manifest) -> tuple[Manifest, list[Upload]]:
    """Each feed's podcast:guid (computed once, then kept forever) and its artwork."""
    uploads = []
    for feed in s.sibling_feeds():
        existing = manifest.feeds.get(feed.name)
        # A show moved here keeps the podcast:guid it had; ours is computed once, then kept.
        guid = feed.podcast_guid or (existing.podcast_guid if existing
                                     else podcast_guid(feed.feed_url))
        art = addressed("artwork", feed.name, feed.artwork_path(), s.media_cache())
        uploads.append(art)
        record = FeedRecord(podcast_guid=guid, artwork=art.stored())
        if record != existing:
            manifest = manifest.with_feed(feed.name, record)
    return manifest, uploads
