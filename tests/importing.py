"""Test helpers for `publish import`: small real MP3s made with the bundled ffmpeg, and the
fixture feeds of tests/import_feeds/ served by a FeedServer with everything they link to."""

from __future__ import annotations

import calendar
import functools
import io
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urljoin

import feedparser
import podcastparser
from feedserver import FeedServer
from helpers import REPO

from pipeline.audio.ffmpeg import find_ffmpeg

FEEDS = Path(__file__).resolve().parent / "import_feeds"
ARTWORK = (REPO / "feeds" / "artwork" / "women-in-surgery.jpg").read_bytes()
SRT = b"1\n00:00:00,000 --> 00:00:01,500\nHello.\n\n2\n00:00:01,500 --> 00:00:03,000\nBye.\n"
CHAPTERS = (b'{"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Start"},'
            b' {"startTime": 2, "title": "Letters"}]}')
# Each fixture's audio: path -> seconds, matching the feed's itunes:duration.
AUDIO = {"full.xml": {"/audio/ep1.mp3": 3, "/audio/ep2.mp3": 4, "/audio/ep3.mp3": 5},
         "anchor.xml": {"/audio/ep1.mp3": 3, "/audio/ep2.mp3": 4.2},
         "libsyn.xml": {"/audio/ep1.mp3": 3}}


@functools.cache
def mp3(seconds: float) -> bytes:
    """A short tone as a real MP3 (with an ID3 tag, as hosts serve them)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "a.mp3"
        subprocess.run([find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
                        "-i", f"sine=frequency=440:duration={seconds}", "-ac", "1",
                        "-c:a", "libmp3lame", "-b:a", "64k", "-metadata", "title=Old tag",
                        str(out)], check=True)
        return out.read_bytes()


def serve_fixture(server: FeedServer, name: str, feed_path: str = "/feed.xml") -> str:
    """Serve a fixture feed (its {base} filled in) and every file it links to; its URL."""
    base = server.url("")
    raw = (FEEDS / name).read_bytes()
    encoding = "cp1252" if b'encoding="windows-1252"' in raw[:100] else "utf-8"
    feed = raw.decode(encoding).replace("{base}", base).encode(encoding)
    host = server.host
    host.add(feed_path, feed, "application/rss+xml")
    for path, seconds in AUDIO[name].items():
        host.add(path, mp3(seconds), "audio/mpeg")
    host.add("/art/show.jpg", ARTWORK, "image/jpeg")
    host.add("/art/ep2.jpg", ARTWORK, "image/jpeg")
    host.add("/tx/ep2.srt", SRT, "application/srt")
    host.add("/ch/ep2.json", CHAPTERS, "application/json")
    return server.url(feed_path)


def episodes_as_apps_read(xml: bytes, url: str) -> dict[str, tuple[str, int, float]]:
    """GUID -> (title, publish time as a UTC timestamp, duration in seconds), as podcastparser
    reads it; feedparser must agree on the GUIDs, titles and times."""
    pp = {e["guid"]: (e["title"], e["published"], e["total_time"])
          for e in podcastparser.parse(url, io.BytesIO(xml))["episodes"]}
    # Without a GUID, apps (and podcastparser) know an episode by its enclosure URL.
    fp = {e.get("id") or urljoin(url, e.enclosures[0].href):
          (e.title, calendar.timegm(e.published_parsed)) for e in feedparser.parse(xml).entries}
    assert fp == {g: v[:2] for g, v in pp.items()}
    return pp
