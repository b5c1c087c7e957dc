"""The analytics prefix: on every audio URL apps and the website are given, nowhere else, and
never in storage or the manifest."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import feedparser
import podcastparser
import pytest
from helpers import run, run_json, set_key, tree
from sitecase import Page, site
from test_feed_render import BASE, NOW, NS, episode, feed_config, render, stored

from pipeline import manifest
from pipeline.feed.analytics import prefixed, unprefixed

OP3 = "https://op3.dev/e,pg={podcast_guid}/"
SHOW = feed_config(analytics_prefix=OP3)
GUID = manifest.podcast_guid(SHOW.feed_url)
COUNTED = f"https://op3.dev/e,pg={GUID}/cdn.example.com/show"  # BASE without its https://


def _episode_with_everything(slug: str, number: int, **fields) -> manifest.EpisodeRecord:
    return episode(
        slug, number, NOW - timedelta(days=number), **fields,
        chapters_file=stored(f"episodes/{slug}/{slug}.chapters.json"),
        transcripts=[{**stored(f"episodes/{slug}/{slug}.vtt"), "type": "text/vtt"}],
        renditions=[{**stored(f"episodes/{slug}/{slug}.opus", 654321), "type": "audio/ogg",
                     "title": "Opus", "bitrate": 48000, "codecs": "opus"}])


def test_prefix_is_on_every_audio_url_of_the_feed_and_on_nothing_else():
    xml = render(SHOW, _episode_with_everything("one", 1),
                 _episode_with_everything("teaser", 2, type="trailer"))
    channel = ET.fromstring(xml).find("channel")
    assert [e.get("url") for e in channel.iterfind("item/enclosure")] == [
        f"{COUNTED}/episodes/one/one.mp3", f"{COUNTED}/episodes/teaser/teaser.mp3"]
    assert [s.get("uri") for s in channel.iterfind(
        "item/podcast:alternateEnclosure/podcast:source", NS)][:2] == [
        f"{COUNTED}/episodes/one/one.mp3", f"{COUNTED}/episodes/one/one.opus"]
    assert channel.find("podcast:trailer", NS).get("url") == \
        f"{COUNTED}/episodes/teaser/teaser.mp3"
    # Artwork, chapters and transcripts are not downloads to count: fetched directly.
    item = channel.find("item")
    assert item.find("podcast:chapters", NS).get("url") == \
        f"{BASE}/episodes/one/one.chapters.json"
    assert item.find("podcast:transcript", NS).get("url") == f"{BASE}/episodes/one/one.vtt"
    assert item.find("itunes:image", NS).get("href") == f"{BASE}/artwork/a.jpg"

    parsed = feedparser.parse(xml)
    assert [e.enclosures[0].href for e in parsed.entries] == [
        f"{COUNTED}/episodes/one/one.mp3", f"{COUNTED}/episodes/teaser/teaser.mp3"]
    pod = podcastparser.parse(SHOW.feed_url, io.BytesIO(xml))
    assert pod["episodes"][0]["enclosures"][0]["url"] == f"{COUNTED}/episodes/one/one.mp3"


def test_prefix_keeps_the_scheme_of_plain_http_media():
    assert prefixed("https://op3.dev/e/", "http://cdn.example.com/a.mp3") == \
        "https://op3.dev/e/http://cdn.example.com/a.mp3"
    assert prefixed("https://dts.podtrac.com/redirect.mp3/", "https://cdn.example.com/a.mp3") \
        == "https://dts.podtrac.com/redirect.mp3/cdn.example.com/a.mp3"
    for url in ("http://cdn.example.com/a.mp3", "https://cdn.example.com/a.mp3"):
        assert unprefixed("https://op3.dev/e/", prefixed("https://op3.dev/e/", url)) == url


def test_website_plays_and_links_the_audio_through_the_prefix():
    s = site(_episode_with_everything("one", 1), feeds=[SHOW])
    page = Page.of(s.pages["episodes/one.html"])
    counted = f"{COUNTED}/episodes/one/one.mp3"
    sources = [source.attrs["src"] for source in page.find("source")]
    assert sources[0] == counted and len(sources) == 2  # the MP3, then the Opus rendition
    assert all(src.startswith(f"{COUNTED}/") for src in sources)
    (download,) = [a for a in page.find("a") if "download" in a.attrs]
    assert download.attrs["href"] == counted
    assert page.jsonld()["associatedMedia"]["contentUrl"] == counted
    assert page.find("meta", property="og:audio")[0].attrs["content"] == counted
    csp = page.find("meta", http_equiv="Content-Security-Policy")[0].attrs["content"]
    assert "media-src 'self' https://op3.dev;" in csp  # the site is on the media's origin
    embed = Page.of(s.pages["embed/one.html"])
    assert embed.find("source")[0].attrs["src"] == counted


@pytest.mark.parametrize("prefix", [
    '"http://op3.dev/e/"', '"https://op3.dev/e"', '"https://op3.dev/e/?x=1/"',
    '"https://op3.dev/e,pg={guid}/"'])
def test_invalid_prefix_is_one_line_naming_file_and_field(project, prefix):
    set_key(project / "feeds/women-in-surgery.toml", "analytics_prefix", prefix)
    proc = run(project, "feed", check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert "women-in-surgery.toml" in line and "analytics_prefix" in line
    assert "https" in line and "Traceback" not in proc.stderr
    assert tree(project / "public") == {}


@pytest.mark.slow  # masters the demo episode: about 20 s on a busy machine
def test_published_prefix_is_in_feed_and_site_but_not_in_storage(project):
    set_key(project / "feeds/women-in-surgery.toml", "analytics_prefix", f'"{OP3}"')
    result = run_json(project, "episode", "1")
    public = project / "public"
    stored_manifest = json.loads((public / "manifest.json").read_text())
    guid = stored_manifest["feeds"]["women-in-surgery"]["podcast_guid"]
    counted = f"https://op3.dev/e,pg={guid}/media.example.org/women-in-surgery/"
    audio_key = stored_manifest["episodes"]["welcome"]["audio"]["key"]

    feed = ET.parse(public / "women-in-surgery.xml").getroot()
    assert [e.get("url") for e in feed.iterfind("channel/item/enclosure")] == [
        counted + audio_key]
    page = Page.of((public / "episodes/welcome.html").read_bytes())
    assert page.find("source")[0].attrs["src"] == counted + audio_key
    # The prefix exists only where URLs are rendered: not in keys, not in the manifest.
    assert "op3" not in json.dumps(stored_manifest)
    assert not any("op3" in key for key in tree(public))
    assert (public / audio_key).is_file()
    assert result["audio"]["url"] == f"https://media.example.org/women-in-surgery/{audio_key}"
    # validate sees through the prefix to the object in storage.
    problems = json.loads(run(project, "validate", "--json", check=False).stdout)
    assert not [p for p in problems["errors"] if "not in storage" in p["message"]]
