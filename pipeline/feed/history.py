"""What each feed has listed, kept in the manifest so a lost or changed GUID can be told."""

from __future__ import annotations

from datetime import datetime

from ..manifest import ListedItem, Manifest
from ..project.config import FeedConfig
from .render import enclosure_url, feed_episodes


def with_listed(manifest: Manifest, feeds: list[FeedConfig], now: datetime) -> Manifest:
    """The manifest with every item these feeds list as of `now` in their history.

    Pure and idempotent, so a commit can apply it again to a manifest re-read under the lock.
    An item keeps the moment it was first listed; its slug and title follow the record (a
    renamed folder keeps its GUID); a new enclosure URL is appended to the ones it had.
    Nothing is ever dropped: an item that leaves the feed is what the history is for.
    When there is nothing to add, the manifest itself is returned, so a commit can tell an
    unchanged manifest without writing its 3,000 records out to compare them.
    """
    history = dict(manifest.history)
    changed = False
    for feed in feeds:
        listed = dict(history.get(feed.name, {}))
        changed |= feed.name not in history
        for ep in feed_episodes(feed, manifest, now):
            url = enclosure_url(feed, ep)
            old = listed.get(ep.guid)
            if old and (old.slug, old.title, old.enclosures[-1]) == (ep.slug, ep.title, url):
                continue  # the common case, and a large catalogue's: nothing to build
            urls = old.enclosures if old else []
            changed = True
            listed[ep.guid] = ListedItem(
                slug=ep.slug, title=ep.title, first_listed=old.first_listed if old else now,
                enclosures=urls if urls and urls[-1] == url else [*urls, url])
        history[feed.name] = listed
    return manifest.model_copy(update={"history": history}) if changed else manifest
