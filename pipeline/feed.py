"""The RSS feed as a pure function of the feed config, the manifest and the time."""

from __future__ import annotations

from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from . import __version__
from .config import FeedConfig, public_url
from .feedext.itunes import ItunesEntry, ItunesFeed
from .feedext.podcast import PodcastEntry, PodcastFeed
from .manifest import EpisodeRecord, FeedRecord, Manifest


def visible_episodes(manifest: Manifest, now: datetime) -> list[EpisodeRecord]:
    """Episodes whose publish time has come, newest first; scheduled ones wait."""
    eps = [e for e in manifest.episodes.values() if e.published <= now]
    return sorted(eps, key=lambda e: (e.published, e.number), reverse=True)


def render(feed: FeedConfig, manifest: Manifest, now: datetime) -> bytes:
    """RSS 2.0 with the itunes, podcast, atom and content namespaces.

    lastBuildDate is the newest change among the listed episodes, not the clock, so that
    rebuilding an unchanged feed gives the same bytes and uploads nothing.
    """
    record: FeedRecord = manifest.feeds[feed.name]
    episodes = visible_episodes(manifest, now)
    url = lambda key: public_url(feed.base_url, key)
    artwork = url(record.artwork.key) if record.artwork else None

    fg = FeedGenerator()
    fg.register_extension("itunes", ItunesFeed, ItunesEntry)
    fg.register_extension("podcast", PodcastFeed, PodcastEntry)
    fg.title(feed.title)
    fg.link(href=feed.feed_url, rel="self")
    fg.link(href=feed.link, rel="alternate")
    fg.description(feed.description)
    fg.language(feed.language)
    if feed.copyright:
        fg.copyright(feed.copyright)
    fg.generator("publish", version=__version__)
    if artwork:
        fg.image(url=artwork, title=feed.title, link=feed.link)
    built = max((max(e.published, e.updated) for e in episodes), default=None)
    fg.lastBuildDate(min(built, now) if built else datetime(1970, 1, 1, tzinfo=UTC))

    fg.itunes.channel(author=feed.author, owner_name=feed.owner.name,
                      owner_email=feed.owner.email, image=artwork or "",
                      categories=feed.categories, explicit=feed.explicit, show_type=feed.type)
    fg.podcast.guid(record.podcast_guid)
    fg.podcast.locked(feed.locked, feed.owner.email)
    fg.podcast.medium("podcast")

    for ep in episodes:
        fe = fg.add_entry(order="append")
        fe.title(ep.title)
        fe.guid(ep.guid, permalink=False)
        fe.pubDate(ep.published)
        fe.description(ep.description or ep.title)
        if ep.notes_html:
            fe.content(ep.notes_html, type="CDATA")
        fe.enclosure(url(ep.audio.key), str(ep.audio.bytes), "audio/mpeg")
        fe.itunes.item(title=ep.title, duration_s=ep.audio.duration_s, explicit=ep.explicit,
                       episode_type=ep.type, episode=ep.number, season=ep.season,
                       image=url(ep.artwork.key) if ep.artwork else None)
        if ep.season is not None:
            fe.podcast.season(ep.season)
        fe.podcast.episode(ep.number)
        for person in ep.persons:
            fe.podcast.person(person.name, person.role, person.href, person.img)
    return fg.rss_str(pretty=True, xml_declaration=True, encoding="UTF-8")
