"""Reading other hosts' feeds and planning the import, on data alone (no files, no server):
fixture feeds in the shapes big hosts produce, each with what the import must make of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from importing import FEEDS

from pipeline.errors import PublishError
from pipeline.importer.convert import plan_import
from pipeline.feed.reader import parse_date, parse_duration, parse_feed

BASE = "http://old.example"


def _plan(name: str):
    raw = (FEEDS / name).read_bytes()
    encoding = "cp1252" if b"windows-1252" in raw[:100] else "utf-8"
    feed = parse_feed(raw.decode(encoding).replace("{base}", BASE).encode(encoding),
                      f"{BASE}/feed.xml")
    return feed, plan_import(feed, "show")


# (fixture, folder, guid, number, season, published, extra episode.toml keys expected)
EXPECTED = {
    "full.xml": [
        ("001-pilot-hello-welcome", "Buzzsprout-1001", 1, 1, "2024-01-08T06:00:00+01:00", {}),
        ("002-mailbag", "Buzzsprout-1002", 2, 1, "2024-01-22T06:00:00-05:00",
         {"explicit": True, "persons": [{"name": "Bo Guest", "role": "guest",
                                         "href": "https://example.org/bo"}],
          "soundbites": [{"start": 1.0, "duration": 2.0, "title": "A good bit"}]}),
        ("003-mailbag-2", "Buzzsprout-1003", 1, None, "2024-02-05T06:00:00-05:00",
         {"type": "bonus"}),
    ],
    "anchor.xml": [
        ("001-tomatoes", "e4a1b2c3-anchor-0001", 1, None, "2024-04-02T10:00:00+00:00", {}),
        # No GUID: Apple's fallback, the enclosure URL.
        ("002-compost", f"{BASE}/audio/ep2.mp3", 2, None, "2024-04-09T10:00:00+00:00", {}),
    ],
    "libsyn.xml": [
        ("001-entropie-cafe", f"{BASE}/episodes/entropie", 1, None,
         "2009-10-03T18:30:00+02:00",
         {"chapters": [{"start": "00:00:00.000", "title": "Intro"},
                       {"start": "00:00:01.500", "title": "Entropie",
                        "url": "http://example.fr/entropie"}]}),
        ("002-long-one", "cafe-2", 2, None, "2009-10-10T18:30:00+02:00", {}),
    ],
}


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_fixture_feed_becomes_these_episode_folders(fixture):
    _, plan = _plan(fixture)
    got = [(e.folder, e.guid, e.toml["number"], e.toml.get("season"),
            e.toml["published"].isoformat(), e.toml) for e in plan.episodes]
    assert [g[:5] for g in got] == [e[:5] for e in EXPECTED[fixture]]
    for (*_, toml), (*_, extra) in zip(got, EXPECTED[fixture]):
        assert toml["guid"] and toml["master"] is False
        assert {k: toml.get(k) for k in extra} == extra


def test_item_without_enclosure_is_skipped_with_the_reason():
    _, plan = _plan("anchor.xml")
    assert [(s.title, s.reason) for s in plan.skipped] == [("Announcement", "no enclosure")]


def test_show_fields_and_podcast_guid_are_kept():
    _, plan = _plan("full.xml")
    t = plan.feed_toml
    assert t["podcast_guid"] == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    assert (t["title"], t["author"], t["language"], t["type"]) == \
        ("Night Shift Stories", "Night Shift Media", "en-us", "episodic")
    assert t["description"] == "Stories from the night shift & the people on it."
    assert t["owner"] == {"name": "Ada Host", "email": "ada@nightshift.example.org"}
    assert t["categories"] == [["Health & Fitness", "Medicine"]]
    assert t["locked"] is True and t["copyright"] == "© 2024 Night Shift"
    assert t["funding"] == [{"url": "https://donate.example.org/nightshift",
                             "text": "Buy us a coffee"}]
    assert t["persons"] == [{"name": "Ada Host", "role": "host",
                             "href": "https://nightshift.example.org/ada"}]
    assert plan.artwork.url == f"{BASE}/art/show.jpg"


def test_notes_html_and_cdata_become_markdown():
    _, plan = _plan("full.xml")
    notes = {e.folder: e.notes_md for e in plan.episodes}
    assert notes["002-mailbag"] == "The first [mailbag](https://example.org/letters).\n"
    assert notes["003-mailbag-2"] == "Your letters, *answered*.\n\n* One\n* Two\n"
    assert notes["001-pilot-hello-welcome"] == "Plain text notes, no HTML at all.\n"


def test_episode_side_files_are_fetched_only_when_they_differ_from_the_show():
    _, plan = _plan("full.xml")
    extras = {e.folder: [(x.key, x.name) for x in e.extras] for e in plan.episodes}
    assert extras["002-mailbag"] == [("artwork", "cover.jpg"), ("chapters_file", "chapters.json"),
                                     ("transcript", "transcript.srt")]
    assert extras["001-pilot-hello-welcome"] == []


def test_windows_1252_bytes_html_entities_and_relative_urls():
    feed, plan = _plan("libsyn.xml")
    assert feed.title == "Café Physics"
    assert plan.feed_toml["description"] == "Physics over coffee\xa0\u2014 since 2009."
    assert plan.feed_toml["author"] == "Café Physics"
    assert plan.feed_toml["explicit"] is False
    assert feed.image == f"{BASE}/art/show.jpg"
    first = plan.episodes[0]
    assert first.title == "Entropie & café"
    assert first.audio.url == f"{BASE}/audio/ep1.mp3"
    assert first.notes_md == "Notes & liens\xa0: [ici](http://example.fr)\n"
    assert [i.duration_s for i in feed.items] == [3.0, 4502.0]


def test_missing_itunes_episode_numbers_take_the_free_numbers_in_publishing_order():
    feed, _ = _plan("full.xml")
    untagged = [i for i in feed.items if i.episode is None]
    numbered = [i for i in feed.items if i.episode is not None]
    # Two items claim season 1 numbers 1 and 2; a third, untagged, in season 1 gets 3.
    extra = type(untagged[0])(**{**vars(untagged[0]), "season": 1, "guid": "x"})
    plan = plan_import(type(feed)(**{**vars(feed), "items": [*numbered, extra]}), "show")
    assert sorted((e.toml.get("season"), e.toml["number"]) for e in plan.episodes) == \
        [(1, 1), (1, 2), (1, 3)]


@pytest.mark.parametrize("text, seconds", [
    ("3723", 3723), ("3723.5", 3723.5), ("1:02:03", 3723), ("01:02:03", 3723),
    ("62:03", 3723), ("75:02", 4502), ("0:03", 3), ("00:00:04", 4), (" 5 ", 5),
    ("", None), (None, None), ("about an hour", None), ("-5", None),
])
def test_itunes_duration_in_every_format(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text, expected", [
    ("Mon, 08 Jan 2024 06:00:00 +0100",
     datetime(2024, 1, 8, 6, tzinfo=timezone(timedelta(hours=1)))),
    ("Tue, 02 Apr 2024 10:00:00 GMT", datetime(2024, 4, 2, 10, tzinfo=UTC)),
    ("Tue, 02 Apr 2024 10:00:00", datetime(2024, 4, 2, 10, tzinfo=UTC)),
    ("2024-04-02T10:00:00-04:00", datetime(2024, 4, 2, 10, tzinfo=timezone(timedelta(hours=-4)))),
    ("yesterday", None),
])
def test_publish_dates_keep_their_offset(text, expected):
    got = parse_date(text)
    assert got == expected
    if expected is not None:
        assert got.utcoffset() == expected.utcoffset()


def test_not_a_feed_is_one_error():
    with pytest.raises(PublishError, match="not well-formed XML"):
        parse_feed(b"<html><body>Moved</body>")
    with pytest.raises(PublishError, match="not an RSS feed"):
        parse_feed(b"<html><body>Moved</body></html>")
