"""Read an RSS podcast feed (another host's, or ours) into plain records: the one place that
knows its tag soup; the importer reads the old feed with it, validation compares ours to it.

ElementTree with namespaces rather than feedparser: feedparser drops the `podcast:` tags we
must keep (guid, chapters, transcripts, persons, soundbites) and sanitizes notes its own way.
What real feeds get wrong is repaired here, before parsing: undeclared HTML entities
(`&nbsp;`), bytes in an encoding the XML declaration does not name.
"""

from __future__ import annotations

import html.entities
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from ..errors import PublishError
from ..texts.timecode import parse_timestamp

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "psc": "http://podlove.org/simple-chapters",
    "atom": "http://www.w3.org/2005/Atom",
    "googleplay": "http://www.google.com/schemas/play-podcasts/1.0",
}
# Hosts have published the Podcasting 2.0 namespace under other spellings.
PODCAST_NS_ALIASES = ("https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
                      "http://podcastindex.org/namespace/1.0")
XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]*);")


@dataclass(frozen=True)
class Enclosure:
    url: str
    length: int | None  # as the feed claims it: often 0 or wrong, so only a hint
    type: str


@dataclass(frozen=True)
class Link:
    """A URL with the attributes feeds put beside it (a transcript's type, a chapter's title)."""

    url: str
    type: str = ""
    text: str = ""


@dataclass(frozen=True)
class SourceItem:
    title: str
    guid: str
    guid_from_enclosure: bool
    published: datetime | None
    notes_html: str
    enclosure: Enclosure | None
    duration_s: float | None
    episode: int | None
    season: int | None
    explicit: bool | None
    type: str | None
    block: bool
    image: str | None
    chapters_url: str | None
    psc_chapters: list[dict] = field(default_factory=list)
    transcripts: list[Link] = field(default_factory=list)
    persons: list[dict] = field(default_factory=list)
    soundbites: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class SourceFeed:
    title: str
    description_html: str
    author: str | None
    owner_name: str | None
    owner_email: str | None
    language: str | None
    categories: list[list[str]]
    explicit: bool | None
    type: str | None
    copyright: str | None
    link: str | None
    locked: bool | None
    image: str | None
    podcast_guid: str | None
    funding: list[Link]
    persons: list[dict]
    items: list[SourceItem]
    problems: list[str]  # items that could not be read at all, one line each


def parse_feed(data: bytes, base_url: str = "", charset: str | None = None) -> SourceFeed:
    """The channel and its items; `base_url` resolves relative URLs, `charset` is what the
    server said the bytes are (used when the XML declaration is missing or wrong)."""
    root = _parse_xml(data, charset)
    _normalize(root)
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise PublishError("not an RSS feed (no <rss><channel>)", where=base_url or None)
    base = base_url or _text(channel, "link") or ""
    items, problems = [], []
    for i, node in enumerate(channel.findall("item"), start=1):
        item = _item(node, base)
        if isinstance(item, str):
            problems.append(f"item {i}: {item}")
        else:
            items.append(item)
    owner = channel.find("itunes:owner", NS)
    image = channel.find("itunes:image", NS)
    image_url = image.get("href") if image is not None else _text(channel, "image/url")
    return SourceFeed(
        title=_text(channel, "title") or "",
        description_html=_text(channel, "description") or _text(channel, "itunes:summary") or "",
        author=_text(channel, "itunes:author") or _text(channel, "managingEditor"),
        owner_name=_text(owner, "itunes:name") if owner is not None else None,
        owner_email=_text(owner, "itunes:email") if owner is not None else None,
        language=_text(channel, "language"),
        categories=_categories(channel),
        explicit=_flag(_text(channel, "itunes:explicit")),
        type=_text(channel, "itunes:type"),
        copyright=_text(channel, "copyright"),
        link=_url(base, _text(channel, "link")),
        locked=_flag(_text(channel, "podcast:locked")),
        image=_url(base, image_url),
        podcast_guid=_text(channel, "podcast:guid"),
        funding=[Link(_url(base, f.get("url")), text=(f.text or "").strip())
                 for f in channel.findall("podcast:funding", NS) if f.get("url")],
        persons=_persons(channel, base),
        items=items, problems=problems)


def _parse_xml(data: bytes, charset: str | None) -> ET.Element:
    data = _ENTITY.sub(_numeric_entity, data)
    try:
        return ET.fromstring(data)
    except ET.ParseError as first:
        # Bytes that are not the declared (or default UTF-8) encoding: try what the server
        # said, then Windows-1252, the usual culprit; re-declared as UTF-8 for the parser.
        for encoding in dict.fromkeys(e for e in (charset, "cp1252") if e):
            try:
                text = data.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                continue
            text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
            try:
                return ET.fromstring(text.encode("utf-8"))
            except ET.ParseError:
                continue
        raise PublishError(f"not well-formed XML: {first}") from None


def _numeric_entity(m: re.Match) -> bytes:
    """HTML entities (`&nbsp;`, `&eacute;`) are undefined in XML; hosts write them anyway."""
    name = m.group(1).decode("ascii")
    if name in XML_ENTITIES or name not in html.entities.name2codepoint:
        return m.group(0)
    return f"&#{html.entities.name2codepoint[name]};".encode("ascii")


def _alias(tag: str) -> str:
    for alias in PODCAST_NS_ALIASES:
        tag = tag.replace("{" + alias + "}", "{" + NS["podcast"] + "}")
    return tag


def _normalize(root: ET.Element) -> None:
    for node in root.iter():
        if isinstance(node.tag, str):
            node.tag = _alias(node.tag)


def _text(node: ET.Element | None, path: str) -> str | None:
    found = node.find(path, NS) if node is not None else None
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _url(base: str, url: str | None) -> str | None:
    """Absolute, as feeds sometimes give enclosure and image paths relative to the feed."""
    return urljoin(base, url.strip()) if url and url.strip() else None


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    v = value.strip().lower()
    if v in ("yes", "true", "explicit"):
        return True
    if v in ("no", "false", "clean"):
        return False
    return None


def _int(value: str | None) -> int | None:
    try:
        return int(value.strip()) if value else None
    except ValueError:
        return None


def _categories(channel: ET.Element) -> list[list[str]]:
    out = []
    for cat in channel.findall("itunes:category", NS):
        name = (cat.get("text") or "").strip()
        if not name:
            continue
        subs = [(s.get("text") or "").strip() for s in cat.findall("itunes:category", NS)]
        out += [[name, s] for s in subs if s] or [[name]]
    return out


def _persons(node: ET.Element, base: str) -> list[dict]:
    out = []
    for p in node.findall("podcast:person", NS):
        name = " ".join((p.text or "").split())
        if not name:
            continue
        person = {"name": name, "role": (p.get("role") or "").strip().lower() or None,
                  "href": _url(base, p.get("href")), "img": _url(base, p.get("img"))}
        out.append({k: v for k, v in person.items() if v})
    return out


def parse_duration(value: str | None) -> float | None:
    """itunes:duration in every form seen: seconds ("3723", "3723.5"), "MM:SS", "H:MM:SS",
    minutes past 59 ("75:02"), and nothing usable (None) for the rest."""
    if not value:
        return None
    v = value.strip()
    parts = v.split(":")
    if len(parts) in (2, 3) and all(p.strip().replace(".", "", 1).isdigit() for p in parts):
        seconds = 0.0
        for p in parts:
            seconds = seconds * 60 + float(p)
        return seconds
    try:
        return parse_timestamp(v)
    except ValueError:
        return None


def parse_date(value: str | None) -> datetime | None:
    """RFC 822 with its original offset; no zone (or "-0000") is read as UTC."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _item(node: ET.Element, base: str) -> SourceItem | str:
    """The item, or why it cannot be one (a line for the report)."""
    title = " ".join((_text(node, "title") or _text(node, "itunes:title") or "").split())
    enc = node.find("enclosure")
    enclosure = None
    if enc is not None and enc.get("url"):
        enclosure = Enclosure(_url(base, enc.get("url")), _int(enc.get("length")) or None,
                              (enc.get("type") or "").strip().lower())
    guid = _text(node, "guid")
    # Apple's rule for an item without a GUID: the enclosure URL identifies it.
    from_enclosure = guid is None and enclosure is not None
    guid = guid or (enclosure.url if enclosure else None)
    if not title:
        return "no title"
    if guid is None:
        return f"{title!r}: no GUID and no enclosure"
    image = node.find("itunes:image", NS)
    chapters = node.find("podcast:chapters", NS)
    return SourceItem(
        title=title, guid=guid, guid_from_enclosure=from_enclosure,
        published=parse_date(_text(node, "pubDate")),
        notes_html=_text(node, "content:encoded") or _text(node, "description")
        or _text(node, "itunes:summary") or "",
        enclosure=enclosure,
        duration_s=parse_duration(_text(node, "itunes:duration")),
        episode=_int(_text(node, "itunes:episode")) or _int(_text(node, "podcast:episode")),
        season=_int(_text(node, "itunes:season")) or _int(_text(node, "podcast:season")),
        explicit=_flag(_text(node, "itunes:explicit")),
        type=(_text(node, "itunes:episodeType") or "").lower() or None,
        block=bool(_flag(_text(node, "itunes:block"))),
        image=_url(base, image.get("href")) if image is not None else None,
        chapters_url=_url(base, chapters.get("url")) if chapters is not None else None,
        psc_chapters=[{"start": c.get("start", "").strip(), "title": c.get("title", "").strip(),
                       "url": _url(base, c.get("href")), "image": _url(base, c.get("image"))}
                      for c in node.findall("psc:chapters/psc:chapter", NS)],
        transcripts=[Link(_url(base, t.get("url")), (t.get("type") or "").lower())
                     for t in node.findall("podcast:transcript", NS) if t.get("url")],
        persons=_persons(node, base),
        soundbites=[{"start": s.get("startTime", "").strip(),
                     "duration": s.get("duration", "").strip(),
                     "title": " ".join((s.text or "").split()) or None}
                    for s in node.findall("podcast:soundbite", NS)])
