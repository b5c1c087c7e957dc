"""What the site's pages show, taken from the manifest: URLs, times, and links that seek.

Every time in a page is a link to the audio URL with a media fragment (`#t=MM:SS`), so it
works without JavaScript; the script only makes the same link seek the page's player.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from markupsafe import Markup

from ..errors import PublishError
from ..feed.alternates import offered
from ..feed.analytics import prefixed, resolved_prefix
from ..manifest import EpisodeRecord, FeedRecord
from ..project.config import FeedConfig, public_url
from ..texts import notes, transcript
from ..texts.transcript import Cue, TranscriptError, parse_json

AUDIO_TYPE = "audio/mpeg"
TRANSCRIPT_JSON = transcript.FORMATS[".json"][0]
INDEX_KEY = "index.html"
# English month names, not the locale's: the same manifest must give the same bytes anywhere.
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
# The transcript reads as passages: a speaker's turn, cut every 30 s so each passage's time
# still seeks close to what it says. One link per cue would double the page's weight (a cue
# is a few seconds of speech, its link as long as its words) and read like subtitles.
PASSAGE_MAX_MS = 30_000
# What an episode page whose transcript has a page of its own shows of it: the opening, about
# two minutes of talk, so a visitor sees what the episode is like before following the link.
EXCERPT_CHARS = 1_500
ROLES = {"host": "Host", "co-host": "Co-host", "guest": "Guest", "producer": "Producer",
         "editor": "Editor"}


def clock(seconds: float) -> str:
    """"01:05" under an hour, "1:01:05" from an hour on: a time as players show it."""
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def npt(seconds: float) -> str:
    """A Media Fragments time: "MM:SS" or "H:MM:SS", with milliseconds when there are any."""
    whole, ms = divmod(round(seconds * 1000), 1000)
    return clock(whole) + (f".{ms:03d}".rstrip("0") if ms else "")


def seek_url(audio_url: str, start_s: float, end_s: float | None = None) -> str:
    """The audio URL that starts (and, with an end, stops) playing at a moment."""
    end = f",{npt(end_s)}" if end_s is not None else ""
    return f"{audio_url}#t={npt(start_s)}{end}"


def iso_duration(seconds: float) -> str:
    """ISO 8601 duration (PT1H2M3S), for <time datetime> and schema.org."""
    h, rest = divmod(round(seconds), 3600)
    m, s = divmod(rest, 60)
    parts = [f"{v}{unit}" for v, unit in ((h, "H"), (m, "M"), (s, "S")) if v]
    return "PT" + ("".join(parts) or "0S")


def date_text(moment: datetime) -> str:
    """"20 November 2026": the date where the episode was published (its own offset)."""
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def size_text(n_bytes: int) -> str:
    return f"{n_bytes / 1_000_000:.1f} MB"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Link:
    label: str
    href: str


@dataclass(frozen=True)
class Moment:
    """A moment of the episode a link seeks to: a chapter, a soundbite or a transcript line."""

    start_s: float
    text: str
    href: str  # the audio URL with a media fragment: the script seeks to its time
    clock: str  # start_s as players show it
    speaker: str | None = None
    url: str | None = None  # a chapter's own link
    end_s: float | None = None


def moment(audio_url: str, start_s: float, text: str, end_s: float | None = None,
           **extra: str | None) -> Moment:
    """A moment with its link and times as text made once: pages show them many times."""
    return Moment(start_s, text, seek_url(audio_url, start_s, end_s), clock(start_s),
                  end_s=end_s, **extra)


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    href: str | None


@dataclass(frozen=True)
class Show:
    """The show as every page shows it."""

    feed: FeedConfig
    url: str  # the site's root URL, without a trailing slash
    artwork_url: str | None
    subscribe: tuple[Link, ...]  # the RSS URL first, then the directories
    feeds: tuple[Link, ...]  # every feed of this storage, for <link rel="alternate">
    hosts: tuple[Person, ...]
    csp: str
    media_prefix: str  # the analytics prefix, filled in; '' for none

    def page_url(self, key: str) -> str:
        return f"{self.url}/{key}"


@dataclass(frozen=True)
class Source:
    """One encoding the player offers: its URL and the type a browser decides by."""

    url: str
    type: str


def player_sources(feed: FeedConfig, record: EpisodeRecord,
                   media_prefix: str = "") -> tuple[Source, ...]:
    """The MP3 first, which every browser plays and every link on the page points at, then
    the feed's renditions, for a browser that cannot; all behind the analytics prefix."""
    url = lambda key: prefixed(media_prefix, public_url(feed.base_url, key))
    mp3 = Source(url(record.audio.key), AUDIO_TYPE)
    return (mp3, *(Source(url(r.key),
                          f'{r.type}; codecs="{r.codecs}"' if r.codecs else r.type)
                   for r in offered(feed, record)))


@dataclass(frozen=True)
class EpisodePage:
    record: EpisodeRecord
    key: str
    embed_key: str
    audio_url: str
    sources: tuple[Source, ...]
    artwork_url: str | None
    notes: Markup
    persons: tuple[Person, ...]
    chapters: tuple[Moment, ...]
    soundbites: tuple[Moment, ...]
    transcript: tuple[Moment, ...]  # every passage, on the episode page or on its own page
    transcript_key: str  # the transcript's own page, written when `transcript_apart`
    words: int  # in the transcript
    transcript_apart: bool = False  # too long for the episode page's budget

    @property
    def excerpt(self) -> tuple[Moment, ...]:
        """The passages the episode page shows: all of them, or the opening when the
        transcript has its own page (at least one passage, cut at a word if it is long)."""
        if not self.transcript_apart:
            return self.transcript
        shown, chars = [], 0
        for passage in self.transcript:
            chars += len(passage.text)
            if shown and chars > EXCERPT_CHARS:
                break
            shown.append(passage if chars <= EXCERPT_CHARS
                         else replace(passage, text=cut_at_word(passage.text, EXCERPT_CHARS)))
        return tuple(shown)

    @property
    def words_text(self) -> str:
        return f"{self.words:,}"

    @property
    def date(self) -> str:
        return date_text(self.record.published)

    @property
    def duration(self) -> str:
        return clock(round(self.record.audio.duration_s))

    @property
    def duration_iso(self) -> str:
        return iso_duration(self.record.audio.duration_s)

    @property
    def modified(self) -> str:
        """When the page last changed in substance (for the sitemap), W3C date-time."""
        return max(self.record.published, self.record.updated).isoformat()

    @property
    def size(self) -> str:
        return size_text(self.record.audio.bytes)


def cut_at_word(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a space, with an ellipsis when anything was cut."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip() + " …"


def with_transcript_apart(ep: EpisodePage) -> EpisodePage:
    """The episode as shown when its transcript moves to a page of its own."""
    return replace(ep, transcript_apart=True)


def site_feed(feeds: list[FeedConfig]) -> FeedConfig:
    """The feed a storage's site is made from: the primary one (no [filter]), else the first."""
    return next((f for f in feeds if f.filter is None), feeds[0])


def site_url(feed: FeedConfig) -> str:
    return (feed.site.url or feed.base_url).rstrip("/")


def content_security_policy(site: str, media: str, prefix: str = "") -> str:
    """Nothing but this site (and the media's origin, when elsewhere): no third party at all,
    and no inline script, so injected markup could not run even if it got past escaping.
    An analytics prefix's origin may serve the audio too: it redirects to the media."""
    others = "" if origin(media) == origin(site) else f" {origin(media)}"
    counted = f" {origin(prefix)}" if prefix and origin(prefix) not in (origin(site),
                                                                       origin(media)) else ""
    return ("default-src 'none'; script-src 'self'; style-src 'self'; "
            f"img-src 'self'{others}; media-src 'self'{others}{counted}; connect-src 'self'; "
            "base-uri 'none'; form-action 'none'")


def show(feeds: list[FeedConfig], record: FeedRecord) -> Show:
    feed = site_feed(feeds)
    url = site_url(feed)
    prefix = resolved_prefix(feed, record.podcast_guid)
    rss = tuple(Link(f.title, f.feed_url) for f in [feed, *(f for f in feeds if f is not feed)])
    return Show(
        feed=feed, url=url,
        artwork_url=public_url(feed.base_url, record.artwork.key) if record.artwork else None,
        subscribe=(Link("RSS", feed.feed_url),
                   *(Link(s.name, s.url) for s in feed.site.subscribe)),
        feeds=rss,
        hosts=tuple(Person(p.name, ROLES[p.role], p.href) for p in feed.persons),
        csp=content_security_policy(url, feed.base_url, prefix),
        media_prefix=prefix,
    )


def transcript_key(record: EpisodeRecord) -> str | None:
    """The published Podcasting 2.0 JSON transcript: the one the page's text is made from."""
    return next((t.key for t in record.transcripts if t.type == TRANSCRIPT_JSON), None)


def episode_page(s: Show, record: EpisodeRecord, transcripts: Mapping[str, bytes]) -> EpisodePage:
    """One episode; `transcripts` are stored JSON transcripts by key (absent: no transcript)."""
    key = transcript_key(record)
    audio = prefixed(s.media_prefix, public_url(s.feed.base_url, record.audio.key))
    chapters = tuple(moment(audio, c.start_s, c.title, url=c.url) for c in record.chapters)
    bites = tuple(moment(audio, b.start_s, b.title or clock(b.start_s), b.start_s + b.duration_s)
                  for b in record.soundbites)
    passages = _transcript(key, transcripts.get(key) if key else None, audio)
    return EpisodePage(
        record=record, key=f"episodes/{record.slug}.html", embed_key=f"embed/{record.slug}.html",
        audio_url=audio, sources=player_sources(s.feed, record, s.media_prefix),
        artwork_url=public_url(s.feed.base_url, record.artwork.key) if record.artwork
        else s.artwork_url,
        # Sanitized again: the manifest in storage is read back, not trusted to be ours.
        notes=Markup(notes.clean(record.notes_html)),
        persons=tuple(Person(p.name, ROLES.get(p.role, p.role), p.href) for p in record.persons),
        chapters=chapters, soundbites=bites, transcript=passages,
        transcript_key=f"episodes/{record.slug}/transcript.html",
        words=sum(len(p.text.split()) for p in passages),
    )


def _transcript(key: str | None, data: bytes | None, audio: str) -> tuple[Moment, ...]:
    if data is None:
        return ()
    try:
        cues = parse_json(data.decode("utf-8"))
    except (TranscriptError, UnicodeDecodeError) as exc:
        raise PublishError(f"published transcript is damaged: {exc}",
                           where=key) from None
    passages: list[list[Cue]] = []
    for cue in cues:
        first = passages[-1][0] if passages else None
        if first and cue.speaker == first.speaker and cue.start_ms - first.start_ms < PASSAGE_MAX_MS:
            passages[-1].append(cue)
        else:
            passages.append([cue])
    return tuple(moment(audio, p[0].start_ms / 1000, " ".join(c.text for c in p),
                        speaker=p[0].speaker) for p in passages)


def series_ld(s: Show) -> dict:
    """schema.org PodcastSeries, as JSON-LD."""
    ld = {"@context": "https://schema.org", "@type": "PodcastSeries",
          "name": s.feed.title, "description": s.feed.description,
          "url": s.page_url(INDEX_KEY), "webFeed": s.feed.feed_url,
          "inLanguage": s.feed.language,
          "author": {"@type": "Organization", "name": s.feed.author}}
    if s.artwork_url:
        ld["image"] = s.artwork_url
    if s.hosts:
        ld["actor"] = [_person_ld(p) for p in s.hosts]
    return ld


def episode_ld(s: Show, ep: EpisodePage) -> dict:
    """schema.org PodcastEpisode, its audio a MediaObject whose contentUrl is the enclosure."""
    rec = ep.record
    ld = {"@context": "https://schema.org", "@type": "PodcastEpisode",
          "name": rec.title, "url": s.page_url(ep.key),
          "datePublished": rec.published.isoformat(), "description": rec.description,
          "episodeNumber": rec.number, "timeRequired": ep.duration_iso,
          "associatedMedia": {"@type": "MediaObject", "contentUrl": ep.audio_url,
                              "encodingFormat": AUDIO_TYPE, "duration": ep.duration_iso,
                              "contentSize": str(rec.audio.bytes)},
          "partOfSeries": {"@type": "PodcastSeries", "name": s.feed.title,
                           "url": s.page_url(INDEX_KEY)}}
    if rec.season is not None:
        ld["partOfSeason"] = {"@type": "PodcastSeason", "seasonNumber": rec.season}
    if ep.artwork_url:
        ld["image"] = ep.artwork_url
    if ep.persons:
        ld["actor"] = [_person_ld(p) for p in ep.persons]
    return ld


def _person_ld(p: Person) -> dict:
    return {"@type": "Person", "name": p.name, **({"url": p.href} if p.href else {})}
