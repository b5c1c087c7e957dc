"""The goal of issue 13: a 300-episode feed imports with no manual edit, and once every episode
is published (`--all --jobs 2`) the new feed has the source's GUIDs, titles, dates and
durations (±1 s), as feedparser and podcastparser read them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape

import pytest
from feedserver import FeedServer
from helpers import run
from importing import ARTWORK, episodes_as_apps_read, mp3

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ITEMS = 300
SECONDS = (1, 2)  # two tiny real MP3s, so durations differ between episodes
FIRST = datetime(2019, 1, 7, 6, 0, tzinfo=UTC)
# Offsets hosts write pubDate in (GMT, US east, central Europe, India).
OFFSETS = (timedelta(0), timedelta(hours=-5), timedelta(hours=1), timedelta(hours=5, minutes=30))


def _duration(seconds: int, n: int) -> str:
    """itunes:duration in the forms hosts use: seconds, M:SS, HH:MM:SS, MM:SS."""
    return (str(seconds), f"0:{seconds:02d}", f"00:00:{seconds:02d}", f"00:{seconds:02d}")[n % 4]


def _item(n: int, base: str) -> str:
    """Item n (1 = oldest) in one of the shapes of the fixture feeds, by n."""
    seconds = SECONDS[n % 2]
    when = (FIRST + timedelta(days=7 * (n - 1))).astimezone(timezone(OFFSETS[n % 4]))
    # Duplicate titles (a weekly "Mailbag"), entities and CDATA, non-ASCII.
    title = ("Mailbag" if n % 10 == 0 else f"Café &amp; surgery #{n}" if n % 3 == 0
             else f"<![CDATA[Rounds {n}: Q&A]]>" if n % 3 == 1 else f"Episode {n} — night shift")
    url = f"audio/ep{n}.mp3" if n % 7 == 0 else f"{base}/audio/ep{n}.mp3"  # some relative
    # Missing GUIDs fall back to the enclosure URL, as Apple does; others in several forms.
    guid = ("" if n % 25 == 0
            else f'<guid isPermaLink="true">{base}/episodes/{n}</guid>' if n % 5 == 0
            else f'<guid isPermaLink="false">Buzzsprout-{1000 + n}</guid>')
    number = f"<itunes:episode>{n}</itunes:episode>" if n % 4 else ""  # some have none
    length = ("0", "1", "999999")[n % 3]  # 0 or wrong, as hosts write it
    notes = (f"<description><![CDATA[<p>Notes for <b>{n}</b> &amp; more.</p>]]></description>"
             if n % 2 else
             f"<description>{escape('<p>Plain notes ' + str(n) + '</p>')}</description>")
    return f"""
  <item>
    <title>{title}</title>
    {guid}
    <pubDate>{format_datetime(when)}</pubDate>
    <enclosure url="{url}" length="{length}" type="audio/mpeg"/>
    <itunes:duration>{_duration(seconds, n)}</itunes:duration>
    {number}
    {notes}
  </item>"""


def source_feed(base: str) -> bytes:
    items = "".join(_item(n, base) for n in range(ITEMS, 0, -1))  # newest first
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel>
  <title>Grand Rounds Archive</title>
  <link>{base}/</link>
  <description>Six years of rounds.</description>
  <language>en-us</language>
  <itunes:author>Grand Rounds</itunes:author>
  <itunes:owner><itunes:name>Ada</itunes:name><itunes:email>ada@example.org</itunes:email>
  </itunes:owner>
  <itunes:image href="{base}/art/show.jpg"/>
  <itunes:category text="Health &amp; Fitness"><itunes:category text="Medicine"/>
  </itunes:category>
  <itunes:explicit>false</itunes:explicit>{items}
</channel>
</rss>
""".encode()


def test_a_300_episode_show_imports_and_republishes_as_its_subscribers_knew_it(tmp_path):
    with FeedServer() as server:
        base = server.url("").rstrip("/")
        feed = source_feed(base)
        server.host.add("/feed.xml", feed, "application/rss+xml")
        server.host.add("/art/show.jpg", ARTWORK, "image/jpeg")
        for n in range(1, ITEMS + 1):
            server.host.add(f"/audio/ep{n}.mp3", mp3(SECONDS[n % 2]), "audio/mpeg")
        url = server.url("/feed.xml")
        project = tmp_path / "show"
        project.mkdir()
        run(project, "import", url, "--name", "rounds")
    assert len(list((project / "episodes").iterdir())) == ITEMS
    run(project, "episode", "--all", "--jobs", "2")

    source = episodes_as_apps_read(feed, url)
    ours = episodes_as_apps_read((project / "public" / "rounds.xml").read_bytes(), url)
    assert len(source) == ITEMS and sorted(ours) == sorted(source)
    for guid, (title, published, duration) in source.items():
        assert ours[guid][:2] == (title, published), guid
        assert abs(ours[guid][2] - duration) <= 1, guid
