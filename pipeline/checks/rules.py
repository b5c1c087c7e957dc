"""What Apple and PSP-1 reject or frown on, found before upload and in the published feed.

Every check is a pure function of its inputs (bytes, configs, storage answers) and returns
Problems naming where to fix them; gathering those inputs is checkup.py's job.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Literal

from ..feed import reader
from ..feed.ext.itunes import ITUNES_NS
from ..feed.ext.podcast import PODCAST_NS
from ..feed.timing import EpisodeTimes
from ..project.config import EpisodeConfig, FeedConfig
from ..texts import chapters, notes, transcript
from ..texts.transcript import Cue

ARTWORK_PX = (1400, 3000)
ARTWORK_FORMATS = {"JPEG": (".jpg", ".jpeg"), "PNG": (".png",)}
# itunes:duration is whole seconds; more than this off means the feed and the file disagree.
DURATION_TOLERANCE_S = 1.0
NS = {"itunes": ITUNES_NS, "podcast": PODCAST_NS, "atom": "http://www.w3.org/2005/Atom"}

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    level: Level
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.where}: {self.message}"


def error(where: str, message: str) -> Problem:
    return Problem("error", where, message)


def warning(where: str, message: str) -> Problem:
    return Problem("warning", where, message)


def at(path: object, key: str | None = None) -> str:
    """"file: key", the way ConfigError names a place to fix."""
    return f"{path}: {key}" if key else str(path)


# --- artwork -------------------------------------------------------------------------------

def check_artwork(data: bytes, name: str, where: str) -> list[Problem]:
    """JPEG or PNG, RGB, square, 1400 to 3000 px, and an extension that says what it is."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt, mode, (w, h) = im.format, im.mode, im.size
    except (UnidentifiedImageError, OSError):
        return [error(where, f"{name} is not an image Pillow can read")]
    if fmt not in ARTWORK_FORMATS:
        return [error(where, f"{name} is {fmt}; artwork must be JPEG or PNG")]
    problems = []
    if not name.lower().endswith(ARTWORK_FORMATS[fmt]):
        problems.append(error(where, f"{name} holds a {fmt} image but its extension says "
                                     f"otherwise; name it {ARTWORK_FORMATS[fmt][0]}"))
    if mode != "RGB":
        problems.append(error(where, f"{name} is in colour mode {mode}; Apple wants RGB"))
    if w != h:
        problems.append(error(where, f"{name} is {w}x{h} px; artwork must be square"))
    low, high = ARTWORK_PX
    if not (low <= w <= high and low <= h <= high):
        problems.append(error(where, f"{name} is {w}x{h} px; artwork must be {low} to {high} px"))
    return problems


# --- configuration, before anything is uploaded ---------------------------------------------

def _https(url: str | None, where: str, level: Level = "error") -> list[Problem]:
    if url and not url.startswith("https://"):
        return [Problem(level, where, f"{url} is not https")]
    return []


def check_feed_config(feed: FeedConfig, artwork: bytes) -> list[Problem]:
    toml = feed.path
    problems = check_artwork(artwork, feed.artwork.name, at(toml, "artwork"))
    problems += _description(feed.description, at(toml, "description"))
    problems += _https(feed.base_url, at(toml, "base_url"))
    problems += _https(feed.link, at(toml, "link"), "warning")
    if feed.max_items is not None and feed.type == "serial":
        problems.append(warning(at(toml, "max_items"),
                                "a serial show is heard from its first episode, which max_items "
                                "takes out of the feed first; new subscribers start elsewhere"))
    for i, person in enumerate(feed.persons):
        problems += _https(person.img, at(toml, f"persons.{i}.img"), "warning")
        problems += _https(person.href, at(toml, f"persons.{i}.href"), "warning")
    return problems


def check_episode_config(ep: EpisodeConfig, description: str, duration_s: float | None,
                         cues: list[Cue] | None, artwork: bytes | None) -> list[Problem]:
    """`duration_s` is the source recording's (the intro, bumpers and outro only add to it);
    None skips the checks against it."""
    toml = ep.folder / "episode.toml"
    notes_at = at(ep.file(ep.notes_file) if ep.notes_file else toml,
                  None if ep.notes_file else "notes")
    size = len(description.encode("utf-8"))
    problems = [] if size <= notes.DESCRIPTION_MAX_BYTES else [warning(
        notes_at, f"the notes are {size} bytes as plain text; <description> and the ID3 "
                  f"comment are cut to {notes.DESCRIPTION_MAX_BYTES}, content:encoded keeps "
                  "them whole")]
    if artwork is not None and ep.artwork is not None:
        problems += check_artwork(artwork, ep.artwork.name, at(toml, "artwork"))
    for i, ch in enumerate(ep.chapters):
        problems += _https(ch.url, at(toml, f"chapters.{i}.url"), "warning")
        problems += _https(ch.image, at(toml, f"chapters.{i}.image"), "warning")
    for i, person in enumerate(ep.persons):
        problems += _https(person.img, at(toml, f"persons.{i}.img"), "warning")
    if duration_s is None:
        return problems
    return problems + check_times(ep, EpisodeTimes.of(ep, cues), duration_s)


def check_times(ep: EpisodeConfig, times: EpisodeTimes, duration_s: float,
                in_mp3: bool = False) -> list[Problem]:
    """Chapters, cues and soundbites in order and inside the audio: as written, against the
    recording; or (`in_mp3`) as published, moved by the intro, bumpers and trimming, against
    the MP3, where trimming may have cut what one was timed at."""
    toml = ep.folder / "episode.toml"
    clock = " (times in the MP3, after the intro, bumpers and trimming)" if in_mp3 else ""
    problems = []
    try:
        chapters.check_starts([c.start_s for c in times.chapters], duration_s)
    except ValueError as exc:
        problems.append(error(at(toml, "chapters_file" if ep.chapters_file else "chapters"),
                              f"{exc}{clock}"))
    if times.cues is not None:
        try:
            transcript.check(times.cues, duration_s)
        except transcript.TranscriptError as exc:
            problems.append(error(at(toml, "transcript"), f"{exc}{clock}"))
    for i, bite in enumerate(times.soundbites):
        end_s = bite.start_s + bite.duration_s
        if bite.duration_s <= 0 or end_s > duration_s:
            why = "has no length left" if bite.duration_s <= 0 else \
                f"ends at {end_s:g} s, after the end of the audio ({duration_s:.3f} s)"
            problems.append(error(at(toml, f"soundbites.{i}"), f"{why}{clock}"))
    return problems


def _description(text: str, where: str) -> list[Problem]:
    size = len(text.encode("utf-8"))
    if size > notes.DESCRIPTION_MAX_BYTES:
        return [error(where, f"description is {size} bytes; Apple and PSP-1 allow "
                             f"{notes.DESCRIPTION_MAX_BYTES}")]
    return []


# --- the rendered feed -----------------------------------------------------------------------

# (level, path below <channel>, feed key to fix, why): PSP-1's required and recommended
# channel tags, and the owner e-mail Apple uses to verify who may claim the show.
CHANNEL_TAGS: list[tuple[Level, str, str, str]] = [
    ("error", "title", "title", "PSP-1 requires a title"),
    ("error", "description", "description", "PSP-1 requires a description"),
    ("error", "link", "link", "PSP-1 requires a link"),
    ("error", "language", "language", "PSP-1 requires a language"),
    ("error", "atom:link[@rel='self']", "base_url", "PSP-1 requires atom:link rel=self"),
    ("error", "itunes:category", "categories", "Apple and PSP-1 require a category"),
    ("error", "itunes:explicit", "explicit", "Apple and PSP-1 require itunes:explicit"),
    ("error", "itunes:image", "artwork", "Apple and PSP-1 require itunes:image"),
    ("error", "itunes:owner/itunes:email", "owner.email", "Apple needs the owner's e-mail"),
    ("warning", "itunes:author", "author", "PSP-1 recommends itunes:author"),
    ("warning", "podcast:locked", "locked", "PSP-1 recommends podcast:locked"),
    ("warning", "podcast:guid", "base_url", "PSP-1 recommends podcast:guid"),
]
ITEM_TAGS: list[tuple[Level, str, str, str]] = [
    ("error", "title", "title", "PSP-1 requires an item title"),
    ("error", "enclosure", "audio", "PSP-1 requires an enclosure"),
    ("error", "guid", "guid", "PSP-1 requires a guid"),
    ("warning", "pubDate", "published", "PSP-1 recommends pubDate"),
    ("warning", "description", "notes", "PSP-1 recommends a description"),
    ("warning", "itunes:duration", "audio", "PSP-1 recommends itunes:duration"),
    ("warning", "itunes:image", "artwork", "PSP-1 recommends itunes:image"),
    ("warning", "itunes:explicit", "explicit", "PSP-1 recommends itunes:explicit"),
    ("warning", "podcast:transcript", "transcript", "PSP-1 recommends a transcript"),
]
# Tags whose text is one of a few words; anything else is an error.
ALLOWED_TEXT = {
    "itunes:explicit": {"true", "false"},
    "itunes:type": {"episodic", "serial"},
    "itunes:episodeType": {"full", "trailer", "bonus"},
    "itunes:complete": {"yes"},
}
# Files published beside the audio that an item links to.
LINKED_FILES = [("podcast:chapters", "url"), ("podcast:transcript", "url")]
# Other encodings of the audio: only their size and type are asked of storage.
RENDITION_SOURCE = ("podcast:alternateEnclosure/podcast:source", "uri")
# Attributes that hold URLs listeners' apps fetch.
URL_ATTRS = [("enclosure", "url"), ("itunes:image", "href"), *LINKED_FILES, RENDITION_SOURCE]


def parse_feed(xml: bytes, where: str) -> tuple[ET.Element | None, list[Problem]]:
    try:
        channel = ET.fromstring(xml).find("channel")
    except ET.ParseError as exc:
        return None, [error(where, f"the feed is not well-formed XML: {exc}")]
    if channel is None:
        return None, [error(where, "the feed has no <channel>")]
    return channel, []


def check_rendered(xml: bytes, feed_where: str, item_where: dict[str, str]) -> list[Problem]:
    """Tags per Apple and PSP-1, sizes, https, unique GUIDs and enclosure URLs.

    `feed_where` is the feed's TOML, `item_where` maps an item's GUID to its episode.toml.
    """
    channel, problems = parse_feed(xml, feed_where)
    if channel is None:
        return problems
    problems += _tags(channel, CHANNEL_TAGS, feed_where)
    problems += _description(channel.findtext("description") or "", at(feed_where, "description"))
    guids: dict[str, int] = {}
    urls: dict[str, str] = {}
    for n, item in enumerate(channel.findall("item"), 1):
        guid = item.findtext("guid") or ""
        where = item_where.get(guid, f"{feed_where}: item {n}")
        problems += _tags(item, ITEM_TAGS, where, keyed=guid in item_where)
        problems += _description(item.findtext("description") or "", at(where, "notes"))
        if guid in guids:
            problems.append(error(where, f"guid {guid} is also item {guids[guid]}'s"))
        guids.setdefault(guid, n)
        enclosure = item.find("enclosure")
        if enclosure is not None:
            url = enclosure.get("url", "")
            if url in urls:
                problems.append(error(where, f"enclosure URL {url} is also {urls[url]}'s; "
                                             "Apple wants each episode's URL to be unique"))
            urls.setdefault(url, guid)
            for attr in ("url", "length", "type"):
                if not enclosure.get(attr):
                    problems.append(error(at(where, "audio"), f"enclosure has no {attr}"))
        for path, attr in URL_ATTRS:
            for node in item.findall(path, NS):
                problems += _https(node.get(attr), at(where, path))
    for node in channel.findall("itunes:image", NS):
        problems += _https(node.get("href"), at(feed_where, "base_url"))
    return problems


def _tags(node: ET.Element, table: list[tuple[Level, str, str, str]], where: str,
          keyed: bool = True) -> list[Problem]:
    problems = []
    for level, path, key, why in table:
        found = node.find(path, NS)
        if found is None or (found.text is None and not found.attrib and not len(found)):
            problems.append(Problem(level, at(where, key) if keyed else where, why))
    for path, allowed in ALLOWED_TEXT.items():
        found = node.find(path, NS)
        if found is not None and (found.text or "").strip() not in allowed:
            problems.append(error(where, f"{path} is {found.text!r}, not one of "
                                         f"{', '.join(sorted(allowed))}"))
    return problems


# --- the published objects --------------------------------------------------------------------

@dataclass(frozen=True)
class Stored:
    """What storage says about the object behind a URL, and the audio's measured duration."""

    size: int | None
    content_type: str | None
    duration_s: float | None = None
    text: str | None = None  # the content of chapters and transcript files
    sha256_ok: bool | None = None  # storage's sha256 against the published one (None: unknown)


def check_published(xml: bytes, objects: dict[str, Stored], feed_where: str,
                    item_where: dict[str, str]) -> list[Problem]:
    """Every enclosure, chapters and transcript URL answers, with the length, type and duration
    the feed claims. `objects` maps a URL to what storage holds there (size None: missing)."""
    channel, problems = parse_feed(xml, feed_where)
    if channel is None:
        return problems
    for n, item in enumerate(channel.findall("item"), 1):
        where = item_where.get(item.findtext("guid") or "", f"{feed_where}: item {n}")
        enclosure = item.find("enclosure")
        if enclosure is not None:
            problems += _enclosure(enclosure, item, objects, where)
        problems += _renditions(item, objects, where)
        duration = _duration(item, objects)
        for path, attr in LINKED_FILES:
            for node in item.findall(path, NS):
                url = node.get(attr, "")
                obj = objects.get(url, Stored(None, None))
                if obj.size is None:
                    problems.append(error(where, f"{url} is not in storage; run publish "
                                                 "episode again"))
                elif obj.text is not None:
                    problems += _timed_file(path, node.get("type", ""), obj.text, duration,
                                            f"{where}: {url}")
    return problems


def _duration(item: ET.Element, objects: dict[str, Stored]) -> float | None:
    """How long the episode runs, to check its chapters and transcripts against.

    The measured audio when it agrees with itunes:duration; otherwise the claim (rounded to
    whole seconds, hence the half second), so a damaged upload is one error, not one per file.
    """
    enclosure = item.find("enclosure")
    measured = objects.get(enclosure.get("url", "") if enclosure is not None else "")
    measured_s = measured.duration_s if measured is not None else None
    try:
        claimed = float(item.findtext("itunes:duration", namespaces=NS) or "")
    except ValueError:
        return measured_s
    if measured_s and abs(measured_s - claimed) <= DURATION_TOLERANCE_S:
        return measured_s
    return claimed + 0.5


TRANSCRIPT_PARSERS = {"text/vtt": transcript.parse_vtt,
                      "application/x-subrip": transcript.parse_srt,
                      "application/json": transcript.parse_json}


def _timed_file(path: str, mime: str, text: str, duration_s: float | None,
                where: str) -> list[Problem]:
    """A published chapters or transcript file: well-formed and inside the audio."""
    try:
        if path == "podcast:chapters":
            starts = [float(c["start"]) for c in chapters.parse_json(text)]
            chapters.check_starts(starts, duration_s)
        elif mime in TRANSCRIPT_PARSERS:
            transcript.check(TRANSCRIPT_PARSERS[mime](text), duration_s)
    except ValueError as exc:  # transcript.TranscriptError is a ValueError
        return [error(where, str(exc))]
    return []


def _enclosure(enclosure: ET.Element, item: ET.Element, objects: dict[str, Stored],
               where: str) -> list[Problem]:
    url = enclosure.get("url", "")
    obj = objects.get(url, Stored(None, None))
    if obj.size is None:
        return [error(where, f"enclosure {url} is not in storage; run publish episode again")]
    problems = []
    if str(obj.size) != enclosure.get("length"):
        problems.append(error(where, f"enclosure length is {enclosure.get('length')} but the "
                                     f"object has {obj.size} bytes; run publish episode "
                                     "again to upload it whole"))
    if obj.content_type and obj.content_type != enclosure.get("type"):
        problems.append(error(where, f"enclosure type is {enclosure.get('type')} but storage "
                                     f"serves {obj.content_type}"))
    if obj.sha256_ok is False:
        problems.append(error(where, f"enclosure {url}: the stored bytes' sha256 is not the one "
                                     "published (damaged or replaced); run publish episode "
                                     "again to master it anew"))
    claimed = item.findtext("itunes:duration", namespaces=NS)
    if obj.duration_s is not None and claimed is not None:
        try:
            off = abs(float(claimed) - obj.duration_s)
        except ValueError:
            return problems + [error(where, f"itunes:duration {claimed!r} is not seconds")]
        if off > DURATION_TOLERANCE_S:
            problems.append(error(where, f"itunes:duration says {claimed} s but the audio "
                                         f"runs {obj.duration_s:.1f} s"))
    return problems


def _renditions(item: ET.Element, objects: dict[str, Stored], where: str) -> list[Problem]:
    """Each podcast:alternateEnclosure's source is in storage, as long as the feed says."""
    problems = []
    for alt in item.findall("podcast:alternateEnclosure", NS):
        for source in alt.findall("podcast:source", NS):
            url = source.get("uri", "")
            obj = objects.get(url, Stored(None, None))
            if obj.size is None:
                problems.append(error(where, f"rendition {url} is not in storage; run publish "
                                             "episode again"))
            elif str(obj.size) != alt.get("length"):
                problems.append(error(where, f"rendition length is {alt.get('length')} but "
                                             f"{url} has {obj.size} bytes; run publish episode "
                                             "again to upload it whole"))
    return problems


# --- a show imported from another host ----------------------------------------------------------

def check_imported(source_xml: bytes, rendered_xml: bytes, where: str) -> list[Problem]:
    """Every episode of the feed the show was imported from must keep its GUID in ours: a
    changed GUID is a new episode to every app (listed again, downloaded again), a missing
    one is lost to the subscribers who follow the move."""
    source = {i.guid: (i.title, i.published) for i in reader.parse_feed(source_xml).items}
    ours = {i.guid: (i.title, i.published) for i in reader.parse_feed(rendered_xml).items}
    problems = []
    for guid, (title, published) in source.items():
        if guid in ours:
            continue
        # The same episode under another GUID: same title, same publishing moment.
        new = [g for g, seen in ours.items() if seen == (title, published) and g not in source]
        if new:
            problems.append(error(where, f"{title!r} was GUID {guid!r} in the imported feed and "
                                         f"would be {new[0]!r}: apps would list it as a new "
                                         f"episode; put guid = {guid!r} in its episode.toml"))
        else:
            problems.append(warning(where, f"{title!r} (GUID {guid!r}) of the imported feed is "
                                           "not in this feed: publish it, or subscribers who "
                                           "follow the move lose it"))
    return problems
