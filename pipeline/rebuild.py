"""`publish feed`: every feed of a storage rebuilt from the manifest and the feed configs.

Its own module, apart from publish.py's audio steps, so that the command loads no audio
stack: the process start is most of a large catalogue's rebuild (bench/feed.py).
"""

from __future__ import annotations

from .manifest import FeedRecord, Manifest, podcast_guid
from .session import Session, Upload, addressed


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


def rebuild_feeds(s: Session) -> dict:
    """`publish feed`: from the manifest and the feed configs alone, no audio needed."""
    _, uploads = with_feed_records(s, Manifest())
    feeds = s.commit(lambda fresh: with_feed_records(s, fresh)[0], uploads)
    return {"feeds": feeds, "site": s.site, "uploaded_bytes": s.uploaded_bytes,
            "dry_run": s.dry_run, "actions": s.actions}
