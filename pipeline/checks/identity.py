"""Apps know an episode by its GUID: one that was listed must stay, under the same GUID.

A pure function of the feed config, the manifest (with the history of what each feed listed,
see feed/history.py) and the time; `gather.py` calls it from `publish validate`.
"""

from __future__ import annotations

from datetime import datetime

from ..feed.render import enclosure_url, feed_episodes, visible_episodes
from ..manifest import ListedItem, Manifest
from ..project.config import FeedConfig, public_url
from .rules import Problem, at, error, warning


def check_identity(feed: FeedConfig, manifest: Manifest, now: datetime, manifest_where: str,
                   item_where: dict[str, str]) -> list[Problem]:
    """Every GUID this feed listed before is still listed, or left out for a reason the
    producer gave: removed on purpose (`removed_guids`), past `max_items`, scheduled again or
    no longer admitted by the feed's filter (both warned about, or nothing: the filter is the
    producer's own choice). An enclosure URL that changed is a warning.

    `item_where` maps a GUID to the file to fix (its episode.toml); `manifest_where` names
    the manifest, for records whose folder is gone.
    """
    listed = {ep.guid: ep for ep in feed_episodes(feed, manifest, now)}
    in_window = {ep.guid for ep in visible_episodes(manifest, now, feed)}
    records = {rec.guid: rec for rec in manifest.episodes.values()}
    problems = []
    for guid, item in manifest.history.get(feed.name, {}).items():
        where = item_where.get(guid, at(manifest_where, f"episodes.{item.slug}"))
        if guid in listed:
            problems += _enclosure_moved(feed, item, enclosure_url(feed, listed[guid]), where)
        elif guid in feed.removed_guids or guid in in_window:
            continue
        elif guid in records:
            if records[guid].published > now:
                problems.append(warning(where, f"{item.title!r} (GUID {guid}) was in the feed "
                                               "and is now scheduled for later: apps that have "
                                               "it keep it until then"))
        elif item.slug in manifest.episodes:
            problems.append(_guid_changed(feed, guid, item, manifest, manifest_where))
        else:
            problems.append(_missing(feed, guid, item))
    return problems


def _missing(feed: FeedConfig, guid: str, item: ListedItem) -> Problem:
    return error(at(feed.path, "removed_guids"),
                 f"GUID {guid} ({item.title!r}, slug {item.slug!r}) was in this feed and is "
                 "gone from the manifest: apps keep it but it no longer gets updates; publish "
                 f"episode {item.slug} again to bring it back (same slug, same GUID), or, if it "
                 f"was removed on purpose, add \"{guid}\" to removed_guids")


def _guid_changed(feed: FeedConfig, guid: str, item: ListedItem, manifest: Manifest,
                  manifest_where: str) -> Problem:
    new = manifest.episodes[item.slug].guid
    return error(at(manifest_where, f"episodes.{item.slug}.guid"),
                 f"{item.title!r} (slug {item.slug!r}) was GUID {guid} in this feed and is now "
                 f"{new}: apps would list it as a new episode and download it again; put the "
                 f"GUID {guid} back, or, if the change is meant, add \"{guid}\" to removed_guids "
                 f"in {feed.path}")


def _enclosure_moved(feed: FeedConfig, item: ListedItem, url: str,
                     where: str) -> list[Problem]:
    before = item.enclosures[-1]
    if url == before:
        return []
    key = url.removeprefix(public_url(feed.base_url, ""))
    if before.endswith(f"/{key}"):
        why = ("base_url changed: keep the old URLs answering (a redirect) until apps have "
               "the new feed")
    else:
        why = ("new audio gets a new content-addressed key, so this is expected after a "
               "re-master or a new recording")
    return [warning(where, f"{item.title!r}: the enclosure URL changes from {before} to {url}; "
                           f"some apps download the episode again ({why})")]
