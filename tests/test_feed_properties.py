"""Property-based: whatever the metadata, the feed stays well-formed, parses in podcast clients,
round-trips every field, and no input injects an element or escapes the storage prefix."""

from __future__ import annotations

import io
import tempfile
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import podcastparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import manifest
from pipeline.errors import PublishError
from pipeline.feed.render import render_feed
from pipeline.project.config import SLUG, EpisodeConfig, FeedConfig, Person, slug_of
from pipeline.storage import key_parts
from pipeline.texts import notes

NOW = datetime(2026, 11, 23, tzinfo=UTC)
NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
      "podcast": "https://podcastindex.org/namespace/1.0",
      "content": "http://purl.org/rss/1.0/modules/content/"}
TRICKY = list("<>&\"']]>\t\n \u202e\u200f\u05d0\U0001f399") + ["]]>", "&amp;", "<script>",
                                                              "<![CDATA[", "-->"]
text = st.lists(st.one_of(
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn")), max_size=30),
    st.sampled_from(TRICKY)), min_size=1, max_size=12).map("".join)
one_line = text.filter(lambda s: s.split())

FEED = FeedConfig.model_validate({
    "title": "Show", "description": "A show", "author": "A", "language": "en",
    "owner": {"name": "O", "email": "o@example.org"}, "categories": [["Health & Fitness"]],
    "artwork": "a.jpg", "link": "https://example.org/", "base_url": "https://cdn.example.org/s",
    "name": "show"})


def _manifest(title: str, notes_md: str, person: str, number: int, published: datetime):
    html = notes.to_html(notes_md)
    ep = manifest.EpisodeRecord(
        slug="ep", guid="g-1", title=title, number=number, published=published, updated=NOW,
        explicit=False, type="full", description=notes.to_text(html), notes_html=html,
        audio=manifest.AudioObject(key="episodes/ep/ep-0123456789ab.mp3", bytes=1234,
                                   sha256="0" * 64, duration_s=61.4, audio_fingerprint="a",
                                   tags_fingerprint="t"),
        persons=[manifest.PublishedPerson(name=person, role="guest")])
    m = manifest.Manifest(feeds={"show": manifest.FeedRecord(podcast_guid="9b024349-ccf0-5f69-a609-"
                                                              "6b82873eab3c")})
    return m.with_episode(ep), ep


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_title=one_line, notes_md=text, raw_person=one_line,
       number=st.integers(1, 10**6),
       published=st.datetimes(datetime(1900, 1, 1), datetime(2026, 11, 1), timezones=st.just(UTC)))
def test_any_metadata_gives_a_well_formed_feed_that_round_trips(raw_title, notes_md, raw_person,
                                                                number, published):
    # Through the same validation as episode.toml, so what the feed sees is what a user can give.
    title = EpisodeConfig.model_validate({"title": raw_title, "number": number,
                                          "published": published, "audio": "x.flac"}).title
    person = Person(name=raw_person).name
    state, ep = _manifest(title, notes_md, person, number, published)
    xml = render_feed(FEED, state, NOW)

    root = ET.fromstring(xml)  # well-formed
    channel = root.find("channel")
    (item,) = channel.findall("item")
    assert item.findtext("title") == title
    assert item.findtext("description") == (ep.description or ep.title)
    assert (item.findtext("content:encoded", namespaces=NS) or "") == ep.notes_html
    assert [p.text for p in item.findall("podcast:person", NS)] == [person]
    # No input adds an element: the item has exactly the children the renderer writes.
    reference = ET.fromstring(render_feed(FEED, _manifest("t", "n", "p", 1, published)[0], NOW))
    expected = [c.tag for c in reference.find("channel/item")
                if ep.notes_html or not c.tag.endswith("encoded")]
    assert [c.tag for c in item] == expected
    assert "<script" not in ep.notes_html.lower() and "javascript:" not in ep.notes_html.lower()

    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    (entry,) = parsed.entries
    assert entry.id == "g-1"
    assert entry.enclosures[0].href == "https://cdn.example.org/s/episodes/ep/ep-0123456789ab.mp3"
    pod = podcastparser.parse("https://cdn.example.org/s/show.xml", io.BytesIO(xml))
    (pep,) = pod["episodes"]
    assert pep["title"] == title and pep["guid"] == "g-1" and pep["number"] == number
    assert pep["published"] == int(published.replace(microsecond=0).timestamp())


# Folder names: ordinary slugs (so many are accepted), the pieces that make path tricks, and
# any text at all.
ordinary = st.lists(st.sampled_from(["a", "B7", "-", "_", "x.y", "2"]), min_size=1,
                    max_size=6).map("".join)
tricky = st.lists(st.sampled_from(["..", ".", "a", "B7", "-", "_", "%2e", " ", "\\",
                                   "\u2024", "e\u0301", "~", "$HOME", ":", "\n", "001-"]),
                  min_size=1, max_size=8).map("".join)


def _publish_keys(name: str, root: Path) -> list[str] | None:
    """The storage keys publishing the folder episodes/001-<name> would write, from the code
    that builds them; None when the catalogue refuses the folder (with one line, else the
    assertion fails). Raises OSError when the file system itself refuses the name."""
    from pipeline.project.catalog import Catalog
    from pipeline.session import episode_file

    folder = root / "episodes" / f"001-{name}"
    folder.mkdir(parents=True)
    (folder / "episode.toml").write_text(
        'title = "T"\nnumber = 1\npublished = 2026-01-01T00:00:00Z\naudio = "a.wav"\n')
    media = folder / "a.wav"
    media.write_bytes(b"RIFF")
    try:
        (ep,) = Catalog(root).episodes()
    except PublishError as exc:
        assert len(str(exc).splitlines()) == 1, str(exc)
        return None
    # Audio, renditions, transcripts; the cover; the loudness report; the chapters.
    uploads = [episode_file(ep.slug, ep.slug, media, ""),
               episode_file(ep.slug, "cover", media, ""),
               episode_file(ep.slug, f"{ep.slug}-loudness", media, ""),
               episode_file(ep.slug, ep.slug, media, "", ".chapters.json")]
    return [up.key for up in uploads]


def test_no_folder_name_escapes_the_storage_prefix(tmp_path):
    """Whatever a folder is called, the catalogue either refuses it in one line, or every file
    the episode publishes lands below the storage root, under episodes/<one folder>/."""
    from pipeline.storage.local import LocalStorage

    outcomes = []

    @given(st.one_of(ordinary, tricky, st.text(min_size=1, max_size=30)))
    @settings(deadline=None, max_examples=200, database=None)
    def check(name):
        name = name.replace("/", "_").replace("\x00", "_")
        with tempfile.TemporaryDirectory(dir=tmp_path) as tmp:
            root = Path(tmp)
            try:
                keys = _publish_keys(name, root)
            except OSError:
                return  # the file system itself refuses the name: nothing to publish
            outcomes.append(keys is not None)
            for key in keys or []:
                parts = key_parts(key)  # refuses absolute keys and ".." parts
                assert "\\" not in key and parts[0] == "episodes" and len(parts) == 3, key
                LocalStorage(root / "public").put_bytes(key, b"x", content_type="audio/mpeg",
                                                        cache_control="")
            written = [p for p in (root / "public").rglob("*") if p.is_file()
                       and not p.name.startswith(".")]
            assert {p.parent.parent for p in written} <= {root / "public" / "episodes"}

    check()
    assert outcomes.count(True) >= 10 and outcomes.count(False) >= 10, outcomes


def test_folder_names_with_path_tricks_are_refused():
    """Named refusals, beside the property above."""
    for bad in ("001-..", "001-.hidden", "001-a..b", "001-a b", "001-%2e%2e", "001-e\u0301"):
        assert not SLUG.fullmatch(slug_of(Path("/episodes") / bad)), bad
    assert SLUG.fullmatch(slug_of(Path("/episodes/001-part.two_3")))


@pytest.mark.parametrize("key", ["../x", "/etc/passwd", "a/../../b", ""])
def test_storage_refuses_keys_outside_the_root(key):
    with pytest.raises(PublishError):
        key_parts(key)


@given(st.sampled_from(["\x00", "\x07", "\x1b", "\ufffe", "\x08"]), one_line)
def test_control_characters_are_refused_not_published(bad, title):
    with pytest.raises(ValueError, match="control character"):
        EpisodeConfig.model_validate({"title": title + bad, "number": 1,
                                      "published": NOW + timedelta(0), "audio": "x.flac"})
