"""The RSS feed as a pure function of the feed config, the manifest and the time."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

from feedgen.feed import FeedGenerator
from lxml import etree

from .. import __version__
from ..manifest import EpisodeRecord, FeedRecord, Manifest, Rendition
from ..project.config import FeedConfig, public_url
from ..runtime.gcpause import collector_paused
from ..texts import transcript
from .alternates import offered
from .analytics import prefixed, resolved_prefix
from .ext import ItemsExtension, sub
from .ext.atom import AtomFeed
from .ext.itunes import ItunesFeed, ItunesItem
from .ext.podcast import PodcastFeed, PodcastItem
from .ext.psc import PscFeed, PscItem

AUDIO_TYPE = "audio/mpeg"
TRANSCRIPT_REL = dict(transcript.FORMATS.values())
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"


def visible_episodes(manifest: Manifest, now: datetime,
                     feed: FeedConfig | None = None) -> list[EpisodeRecord]:
    """Episodes whose publish time has come and that the feed admits, newest first."""
    eps = [e for e in manifest.episodes.values() if e.published <= now
           and (feed is None or _admits(feed, e))]
    return sorted(eps, key=lambda e: (e.published, e.number), reverse=True)


def _admits(feed: FeedConfig, ep: EpisodeRecord) -> bool:
    """The feed's filter admits the episode and the producer has not removed it."""
    return feed.admits(ep.type, ep.season) and ep.guid not in feed.removed_guids


def feed_episodes(feed: FeedConfig, manifest: Manifest, now: datetime) -> list[EpisodeRecord]:
    """The feed's items: its visible episodes, newest first, at most `max_items` of them (the
    website still lists them all)."""
    return visible_episodes(manifest, now, feed)[:feed.max_items]


def enclosure_url(feed: FeedConfig, ep: EpisodeRecord) -> str:
    """The episode's audio URL in storage, as the history keeps it: before any analytics
    prefix, so adding or changing one does not read as every episode having moved."""
    return public_url(feed.base_url, ep.audio.key)


def render_feed(feed: FeedConfig, manifest: Manifest, now: datetime) -> bytes:
    """RSS 2.0 with the itunes, podcast, atom and content namespaces.

    lastBuildDate is the newest change among the listed episodes, not the clock, so that
    rebuilding an unchanged feed gives the same bytes and uploads nothing.
    """
    with collector_paused():
        return _render(feed, manifest, now)


def _render(feed: FeedConfig, manifest: Manifest, now: datetime) -> bytes:
    record: FeedRecord = manifest.feeds[feed.name]
    visible = visible_episodes(manifest, now, feed)
    episodes = visible[:feed.max_items]  # feed_episodes, without sorting the catalogue twice
    url = lambda key: public_url(feed.base_url, key)
    prefix = resolved_prefix(feed, record.podcast_guid)
    media = lambda key: prefixed(prefix, url(key))  # audio: counted by the analytics prefix
    artwork = url(record.artwork.key) if record.artwork else None

    fg = FeedGenerator()
    fg.register_extension("atom", AtomFeed, None)
    fg.register_extension("itunes", ItunesFeed, None)
    fg.register_extension("podcast", PodcastFeed, None)
    fg.register_extension("psc", PscFeed, None)
    fg.register_extension("items", ItemsExtension, None)  # last: items follow the channel
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
                      categories=feed.categories, explicit=feed.explicit, show_type=feed.type,
                      new_feed_url=feed.new_feed_url, complete=feed.complete, block=feed.block)
    for hub in feed.ping.websub_hubs:
        fg.atom.hub(hub)
    fg.podcast.guid(record.podcast_guid)
    fg.podcast.locked(feed.locked, feed.owner.email)
    fg.podcast.medium("podcast")
    for fund in feed.funding:
        fg.podcast.funding(fund.url, fund.text)
    if feed.license:
        fg.podcast.license(feed.license, feed.license_url)
    for person in feed.persons:
        fg.podcast.person(person.name, person.role, person.href, person.img)
    for txt in feed.txt:
        fg.podcast.txt(txt.text, txt.purpose)
    _podcast_channel_moves(fg, feed)
    # Every trailer the feed admits, even one past max_items: the channel tag is how apps
    # find a show's trailer, and an old show's trailer is usually its oldest episode.
    for ep in visible:
        if ep.type == "trailer":
            fg.podcast.trailer(ep.title, media(ep.audio.key), format_datetime(ep.published),
                               ep.audio.bytes, AUDIO_TYPE, ep.season)

    def write_items(channel: etree._Element) -> None:
        for ep in episodes:
            item = _item(channel, ep, media(ep.audio.key))
            ItunesItem(item).item(
                title=ep.title, duration_s=ep.audio.duration_s, explicit=ep.explicit,
                episode_type=ep.type, episode=ep.number, season=ep.season,
                image=url(ep.artwork.key) if ep.artwork else artwork, block=ep.block)
            _podcast_item(PodcastItem(item), ep, url, media, feed.language, offered(feed, ep))
            if ep.chapters:
                PscItem(item).chapters([(c.start_s, c.title, c.url, c.image)
                                        for c in ep.chapters])

    fg.items.write = write_items
    return fg.rss_str(pretty=True, xml_declaration=True, encoding="UTF-8")


def _item(channel: etree._Element, ep: EpisodeRecord, enclosure: str) -> etree._Element:
    """An <item> with its RSS 2.0 tags, as feedgen's entries write them: written straight into
    the channel, since 3,000 entry objects cost more than the XML they make."""
    item = sub(channel, "item")
    if ep.title:
        sub(item, "title", ep.title)
    description = ep.description or ep.title
    if description:
        sub(item, "description", description)
    if ep.notes_html:  # escaped, not CDATA: notes may contain "]]>"
        sub(item, CONTENT_ENCODED if description else "description", ep.notes_html)
    sub(item, "guid", ep.guid, {"isPermaLink": "false"})
    sub(item, "enclosure", attrs={"url": enclosure, "length": str(ep.audio.bytes),
                                  "type": AUDIO_TYPE})
    sub(item, "pubDate", format_datetime(ep.published))
    return item


def _podcast_channel_moves(fg, feed: FeedConfig) -> None:
    """How often the show comes out, the shows it recommends, and where it was before."""
    freq = feed.update_frequency
    if freq is not None:
        fg.podcast.update_frequency(freq.text, freq.rrule, freq.complete,
                                    freq.dtstart.isoformat() if freq.dtstart else None)
    if feed.podroll:
        fg.podcast.podroll([(show.feed_guid, show.feed_url) for show in feed.podroll])
    for previous in feed.previous_urls:
        fg.podcast.previous_url(previous)


def _podcast_item(podcast: PodcastItem, ep: EpisodeRecord, url, media, language: str,
                  renditions: list[Rendition]) -> None:
    """The Podcasting 2.0 tags of one item, in the order the namespace documents them."""
    if ep.season is not None:
        podcast.season(ep.season)
    podcast.episode(ep.number)
    for person in ep.persons:
        podcast.person(person.name, person.role, person.href, person.img)
    if ep.chapters_file:
        podcast.chapters(url(ep.chapters_file.key))
    for t in ep.transcripts:
        podcast.transcript(url(t.key), t.type, language, TRANSCRIPT_REL.get(t.type))
    for bite in ep.soundbites:
        podcast.soundbite(bite.start_s, bite.duration_s, bite.title)
    if renditions:  # the enclosure itself is the default rendition
        podcast.alternate_enclosure(media(ep.audio.key), AUDIO_TYPE, ep.audio.bytes,
                                    ep.audio.sha256, default=True, title="MP3")
        for r in renditions:
            podcast.alternate_enclosure(media(r.key), r.type, r.bytes, r.sha256,
                                        title=r.title, bitrate=r.bitrate, codecs=r.codecs)
