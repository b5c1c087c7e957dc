"""Turn a parsed feed into our project's files: the feed TOML and one folder per episode.

Pure: what to write and what to download, decided without touching the disk or the network,
so every rule here (numbering, slugs, which tag wins) is tested on plain data.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from markdownify import markdownify

from ..feed.reader import SourceFeed, SourceItem
from ..project.catalog import free_slug, slugify
from ..project.config import slug_of
from ..texts.notes import to_text
from ..texts.timecode import parse_timestamp

# Values the producer must replace before publishing for real; the report lists them.
PLACEHOLDER_BASE_URL = "https://media.example.com/{name}"
PLACEHOLDER_EMAIL = "owner@example.com"
PLACEHOLDER_CATEGORY = ["Society & Culture"]
PLACEHOLDER_LANGUAGE = "en"
ROLES = {"host", "guest", "co-host", "producer", "editor"}
ROLE_ALIASES = {"cohost": "co-host", "co host": "co-host"}
AUDIO_SUFFIXES = {"audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/x-m4a": ".m4a",
                  "audio/mp4": ".m4a", "audio/aac": ".aac", "audio/ogg": ".ogg",
                  "audio/opus": ".opus", "audio/flac": ".flac", "audio/wav": ".wav",
                  "audio/x-wav": ".wav"}
TRANSCRIPT_SUFFIXES = {"application/srt": ".srt", "application/x-subrip": ".srt",
                       "text/srt": ".srt", "text/vtt": ".vtt"}
DESCRIPTION_MAX = 4000


@dataclass(frozen=True)
class Fetch:
    """A file an episode (or the feed) needs from the old host, and the key it fills."""

    url: str
    name: str  # the file's name in the folder
    key: str | None  # the TOML key to set to `name` once the file is here
    length_hint: int | None = None


@dataclass(frozen=True)
class ImportedEpisode:
    """One episode folder as it will be written."""

    folder: str  # "NNN-slug" under episodes/
    guid: str
    title: str
    toml: dict
    notes_md: str
    audio: Fetch
    extras: list[Fetch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was dropped or guessed, for the report
    duration_s: float | None = None  # as the old feed said it (itunes:duration)


@dataclass(frozen=True)
class Skipped:
    guid: str
    title: str
    reason: str


@dataclass(frozen=True)
class ImportPlan:
    name: str
    feed_toml: dict
    artwork: Fetch | None
    placeholders: list[str]  # feed keys holding values the producer must edit
    episodes: list[ImportedEpisode]
    skipped: list[Skipped]


def feed_name(feed: SourceFeed) -> str:
    return slugify(feed.title) if feed.title else "imported"


def plan_import(feed: SourceFeed, name: str,
                existing: dict[str, str | None] | None = None) -> ImportPlan:
    """Everything to write. `existing` maps the project's episode folders to their GUIDs:
    an item whose GUID has a folder (an earlier run's) keeps it, and new items get slugs no
    folder has."""
    existing = existing or {}
    mine = {guid: folder for folder, guid in existing.items() if guid}
    toml, placeholders = _feed_toml(feed, name)
    artwork = None
    if feed.image:
        artwork = Fetch(feed.image, f"{name}-artwork{_suffix(feed.image, '.jpg')}", "artwork")
    else:
        placeholders.append("artwork (the old feed has none: add a square JPEG or PNG)")
    skipped = [Skipped("", "", p) for p in feed.problems]
    usable = []
    for item in feed.items:
        reason = _unusable(item)
        if reason:
            skipped.append(Skipped(item.guid, item.title, reason))
        else:
            usable.append(item)
    usable.sort(key=lambda i: i.published)
    numbers = _numbers(usable)
    slugs = dict.fromkeys((slug_of(Path(f)) for f in existing), "")
    width = max(3, len(str(len(usable))))
    episodes = []
    for position, item in enumerate(usable, start=1):
        folder = mine.get(item.guid)
        if folder is None:
            slug = free_slug(slugify(item.title), slugs)
            slugs[slug] = item.guid
            folder = f"{position:0{width}d}-{slug}"
        episodes.append(_episode(item, folder, numbers[item.guid], feed.image))
    return ImportPlan(name, toml, artwork, placeholders, episodes, skipped)


def _unusable(item: SourceItem) -> str | None:
    if item.enclosure is None:
        return "no enclosure"
    if item.published is None:
        return "no valid pubDate"
    kind = item.enclosure.type
    if kind and not (kind.startswith("audio/") or kind == "application/octet-stream"):
        return f"not audio ({kind})"
    return None


def _numbers(items: list[SourceItem]) -> dict[str, int]:
    """itunes:episode where the feed gives one (unique in its season); the others numbered in
    publishing order with the numbers left free, so no two episodes of a season share one."""
    taken: set[tuple[int | None, int]] = set()
    numbers: dict[str, int] = {}
    for item in items:
        if item.episode and item.episode >= 1 and (item.season, item.episode) not in taken:
            taken.add((item.season, item.episode))
            numbers[item.guid] = item.episode
    for item in items:
        if item.guid not in numbers:
            n = 1
            while (item.season, n) in taken:
                n += 1
            taken.add((item.season, n))
            numbers[item.guid] = n
    return numbers


def _feed_toml(feed: SourceFeed, name: str) -> tuple[dict, list[str]]:
    placeholders = [(f"base_url (set to {PLACEHOLDER_BASE_URL.format(name=name)}: the public "
                     "URL of your new storage)"),
                    ("storage (set to the local folder \"public\": an s3://bucket/prefix for "
                     "production)")]
    description = to_text(feed.description_html) or feed.title
    if len(description) > DESCRIPTION_MAX:
        description = description[:DESCRIPTION_MAX - 1].rsplit(None, 1)[0] + "\u2026"
    owner_name = feed.owner_name or feed.author or feed.title
    if not feed.owner_email:
        placeholders.append(f"owner.email (the old feed has none: {PLACEHOLDER_EMAIL})")
    language = feed.language
    if not language:
        placeholders.append(f"language (the old feed has none: {PLACEHOLDER_LANGUAGE})")
    if not feed.categories:
        placeholders.append(f"categories (the old feed has none: {PLACEHOLDER_CATEGORY})")
    toml: dict = {
        "title": feed.title,
        "description": description,
        "author": feed.author or owner_name,
        "owner": {"name": owner_name, "email": feed.owner_email or PLACEHOLDER_EMAIL},
        "language": language or PLACEHOLDER_LANGUAGE,
        "categories": feed.categories or [PLACEHOLDER_CATEGORY],
        "explicit": bool(feed.explicit),
        "link": feed.link or PLACEHOLDER_BASE_URL.format(name=name),
        "base_url": PLACEHOLDER_BASE_URL.format(name=name),
        "storage": "public",
        "type": feed.type if feed.type in ("episodic", "serial") else "episodic",
    }
    if not feed.link:
        placeholders.append("link (the old feed has none: the show's website)")
    optional = {"copyright": feed.copyright, "locked": feed.locked,
                "podcast_guid": feed.podcast_guid,
                "funding": [{"url": f.url, "text": (f.text or "Support the show")[:128]}
                            for f in feed.funding if f.url.startswith("https://")],
                "persons": [_person(p, "host") for p in feed.persons]}
    toml.update({k: v for k, v in optional.items() if v not in (None, [])})
    return toml, placeholders


def _person(p: dict, default_role: str) -> dict:
    role = ROLE_ALIASES.get(p.get("role", ""), p.get("role", default_role))
    out = {"name": p["name"], "role": role if role in ROLES else default_role}
    out.update({k: p[k] for k in ("href", "img") if p.get(k, "").startswith(("http://",
                                                                                "https://"))})
    return out


def _suffix(url: str, default: str) -> str:
    ext = posixpath.splitext(urlparse(url).path)[1].lower()
    return ext if ext and len(ext) <= 5 and ext[1:].isalnum() else default


def _audio_name(item: SourceItem) -> str:
    enc = item.enclosure
    return "audio" + AUDIO_SUFFIXES.get(enc.type, _suffix(enc.url, ".mp3"))


def _episode(item: SourceItem, folder: str, number: int, show_image: str | None) \
        -> ImportedEpisode:
    notes: list[str] = []
    if item.guid_from_enclosure:
        notes.append("no GUID in the old feed: its enclosure URL is kept as the GUID, as "
                     "Apple Podcasts does")
    audio = Fetch(item.enclosure.url, _audio_name(item), "audio", item.enclosure.length)
    toml: dict = {"title": item.title, "number": number}
    if item.season is not None:
        toml["season"] = item.season
    toml.update({"published": item.published, "audio": audio.name, "guid": item.guid,
                 # Back-catalogue audio is published as it was: no second lossy generation.
                 # Only an MP3 can be; anything else is mastered to one.
                 "master": not audio.name.endswith(".mp3")})
    if not audio.name.endswith(".mp3"):
        notes.append(f"{audio.name[len('audio'):]} audio will be mastered and re-encoded to MP3")
    notes_md = markdownify(item.notes_html, heading_style="ATX").strip() + "\n" \
        if item.notes_html.strip() else ""
    if notes_md:
        toml["notes_file"] = "notes.md"
    if item.explicit is not None:
        toml["explicit"] = item.explicit
    if item.type in ("full", "trailer", "bonus"):
        toml["type"] = item.type
    if item.block:
        toml["block"] = True
    extras = []
    if item.image and item.image != show_image:
        extras.append(Fetch(item.image, f"cover{_suffix(item.image, '.jpg')}", "artwork"))
    if item.chapters_url:
        extras.append(Fetch(item.chapters_url, "chapters.json", "chapters_file"))
    elif item.psc_chapters:
        toml["chapters"] = _psc_chapters(item.psc_chapters, notes)
    transcript = next((t for t in item.transcripts if t.type in TRANSCRIPT_SUFFIXES), None)
    if transcript:
        extras.append(Fetch(transcript.url, "transcript" + TRANSCRIPT_SUFFIXES[transcript.type],
                            "transcript"))
    persons = [_person(p, "guest") for p in item.persons]
    if persons:
        toml["persons"] = persons
    soundbites = _soundbites(item.soundbites, notes)
    if soundbites:
        toml["soundbites"] = soundbites
    return ImportedEpisode(folder, item.guid, item.title, toml, notes_md, audio, extras, notes,
                           item.duration_s)


def _psc_chapters(chapters: list[dict], notes: list[str]) -> list[dict]:
    out = []
    for c in chapters:
        try:
            parse_timestamp(c["start"])
        except ValueError:
            notes.append(f"chapter {c['title']!r} dropped: start {c['start']!r} is not a time")
            continue
        if not c["title"]:
            notes.append(f"chapter at {c['start']} dropped: no title")
            continue
        out.append({k: v for k, v in c.items() if v})
    return out


def _soundbites(soundbites: list[dict], notes: list[str]) -> list[dict]:
    out = []
    for s in soundbites:
        try:
            start, duration = float(s["start"]), float(s["duration"])
        except ValueError:
            notes.append(f"soundbite at {s['start']!r} dropped: not a number of seconds")
            continue
        if not (start >= 0 and 0 < duration <= 600):
            notes.append(f"soundbite at {s['start']} dropped: times out of range")
            continue
        out.append({"start": start, "duration": duration,
                    **({"title": s["title"]} if s["title"] else {})})
    return out
