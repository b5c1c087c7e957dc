"""A generated catalogue as published: a feed config and a manifest of N realistic episodes
(notes, eight chapters, a guest, a soundbite, a transcript of N cues), for the benchmarks."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the working tree, not an installed copy

from pipeline.manifest import (  # noqa: E402
    AudioObject,
    EpisodeRecord,
    FeedRecord,
    Manifest,
    PublishedChapter,
    PublishedFile,
    PublishedPerson,
    PublishedSoundbite,
    StoredObject,
)
from pipeline.project.config import FeedConfig  # noqa: E402
from pipeline.texts import notes, transcript  # noqa: E402

NOW = datetime(2026, 12, 1, tzinfo=UTC)
SHA = "ab" * 32
NOTES = """In this episode we talk with a **surgeon** about training, mentorship and the long
road from medical school to the operating room.

- why a good mentor tells you the truth about the hours and the setbacks;
- how to find your people early, and ask to scrub in;
- asking for feedback after every case;
- what changes when you become the attending.

Links: [the hospital](https://example.org/), [the residency programme](https://example.org/r),
and [the society](https://example.org/s). Episode {n} of the series.
"""


def catalogue(episodes: int, cues: int) -> tuple[FeedConfig, Manifest, dict[str, bytes]]:
    feed = FeedConfig.model_validate({
        "title": "Women in Surgery Podcast", "description": "Conversations with surgeons.",
        "author": "Connecticut Children's", "language": "en-us",
        "owner": {"name": "Team", "email": "podcast@example.org"},
        "categories": [["Health & Fitness", "Medicine"]], "artwork": "art.jpg",
        "link": "https://example.org/", "base_url": "https://media.example.org/show",
        "name": "show", "persons": [{"name": "Host One"}, {"name": "Host Two"}],
        "site": {"subscribe": [{"name": "Apple Podcasts", "url": "https://podcasts.apple.com/x"},
                               {"name": "Spotify", "url": "https://open.spotify.com/show/x"}]}})
    transcripts = {}
    records = {}
    for n in range(1, episodes + 1):
        slug = f"episode-{n:04d}"
        html = notes.to_html(NOTES.format(n=n))
        key = f"episodes/{slug}/{slug}-0123456789ab.json"
        transcripts[key] = transcript.to_json([
            transcript.Cue(i * 4500, i * 4500 + 4200,
                           f"Line {i}: we talked about residency, mentors and the hours.",
                           "Host" if i // 6 % 2 else "Guest")  # turns of about 27 s
            for i in range(cues)]).encode()
        published = NOW - timedelta(days=7 * (episodes - n) + 1)
        records[slug] = EpisodeRecord(
            slug=slug, guid=f"guid-{n}", title=f"Episode {n}: training in surgery", number=n,
            season=1 + n // 50, published=published, updated=published, explicit=False,
            type="full", description=notes.to_description(html), notes_html=html,
            audio=AudioObject(key=f"episodes/{slug}/{slug}-0123456789ab.mp3",
                                 bytes=30_000_000, sha256=SHA, duration_s=cues * 4.5,
                                 audio_fingerprint="a", tags_fingerprint="t"),
            chapters=[PublishedChapter(start_s=c * 200.0, title=f"Part {c + 1}")
                      for c in range(8)],
            persons=[PublishedPerson(name=f"Guest {n}", role="guest")],
            transcripts=[PublishedFile(key=key, bytes=len(transcripts[key]), sha256=SHA,
                                          type="application/json")],
            soundbites=[PublishedSoundbite(start_s=60, duration_s=20, title="Best bit")])
    manifest = Manifest(
        feeds={"show": FeedRecord(podcast_guid="9b024349-ccf0-5f69-a609-6b82873eab3c",
                                     artwork=StoredObject(key="artwork/a.jpg", bytes=1,
                                                             sha256=SHA))},
        episodes=records)
    return feed, manifest, transcripts
