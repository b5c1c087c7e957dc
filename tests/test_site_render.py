"""The website as a pure function: a manifest in, the pages and what a visitor, a crawler and a
link preview find in them out. No files, no server, no browser."""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import pytest
from helpers import REPO
from sitecase import (
    NOW,
    Page,
    cues_json,
    episode,
    feed_config,
    site,
    transcript_file,
)
from test_feed_render import BASE, SHA, stored

from pipeline.errors import PublishError
from pipeline.feed.alternates import made_from
from pipeline.project.config import RenditionSettings
from pipeline.site.theme import PACKAGE_THEME

WEEK = timedelta(days=7)


def test_pages_of_a_show():
    s = site(episode("one", 1, NOW - WEEK), episode("two", 2, NOW - WEEK / 7))
    assert set(s.pages) == {"index.html", "episodes/one.html", "episodes/two.html",
                            "embed/one.html", "embed/two.html", "404.html", "sitemap.xml",
                            "robots.txt"}
    assert all(re.fullmatch(r"assets/[a-z]+-[0-9a-f]{12}\.(css|js|svg)", k) for k in s.assets)


def test_unchanged_manifest_renders_the_same_bytes_at_any_later_time():
    eps = (episode("one", 1, NOW - WEEK), episode("two", 2, NOW - WEEK / 7))
    assert site(*eps) == site(*eps, now=NOW + 100 * WEEK)


def test_scheduled_episode_appears_when_its_time_comes():
    later = episode("later", 2, NOW + WEEK)
    before = site(episode("one", 1, NOW - WEEK), later)
    assert "episodes/later.html" not in before.pages
    assert b"later" not in before.pages["index.html"] + before.pages["sitemap.xml"]
    after = site(episode("one", 1, NOW - WEEK), later, now=NOW + 2 * WEEK)
    assert "episodes/later.html" in after.pages
    assert b"episodes/later.html" in after.pages["index.html"]


def test_index_lists_newest_first_in_pages():
    eps = [episode(f"e{n}", n, NOW - timedelta(days=30 - n)) for n in range(1, 26)]
    s = site(*eps, episodes_per_page=10)
    first, second, third = (Page.of(s.pages[k]) for k in
                            ("index.html", "page/2.html", "page/3.html"))
    titles = lambda page: [h.text for h in page.find("h3")]
    assert titles(first) == [f"Episode {n}" for n in range(25, 15, -1)]
    assert titles(third) == [f"Episode {n}" for n in range(5, 0, -1)]
    assert [a.attrs["href"] for a in second.find("a", rel="prev")] == ["../index.html"]
    assert [a.attrs["href"] for a in second.find("a", rel="next")] == ["../page/3.html"]
    assert second.find("a", aria_current="page")[0].text == "2"
    assert "page/4.html" not in s.pages


def test_index_shows_the_show_and_where_to_subscribe():
    feed = feed_config(persons=[{"name": "Dr. Host", "href": "https://example.com/host"}],
                       site={"subscribe": [
                           {"name": "Apple Podcasts", "url": "https://podcasts.apple.com/x"},
                           {"name": "Overcast", "url": "https://overcast.fm/itunes1"}]})
    s = site(episode("one", 1, NOW - WEEK), feeds=[feed])
    page = Page.of(s.pages["index.html"])
    assert page.find("h1")[0].text == "Show"
    assert "About the show." in page.text and "Dr. Host" in page.text
    links = [(a.text, a.attrs["href"]) for a in page.find("a")]
    subscribe = [("RSS", f"{BASE}/show.xml"), ("Apple Podcasts", "https://podcasts.apple.com/x"),
                 ("Overcast", "https://overcast.fm/itunes1")]
    start = links.index(subscribe[0])
    assert links[start:start + 3] == subscribe
    (img,) = page.find("img")
    assert img.attrs["src"] == f"{BASE}/artwork/a.jpg" and img.attrs["alt"]


def test_episode_page_for_sharing_and_discovery():
    feed = feed_config(language="de-at", site={"url": "https://podcast.example.org/"})
    ep = episode("one", 7, NOW - WEEK, season=2, title="Über Chirurgie",
                 persons=[{"name": "Guest", "role": "guest"}])
    page = Page.of(site(ep, feeds=[feed]).pages["episodes/one.html"])
    url = "https://podcast.example.org/episodes/one.html"
    audio = f"{BASE}/episodes/one/one.mp3"
    assert page.find("html")[0].attrs["lang"] == "de-at"
    assert page.find("link", rel="canonical")[0].attrs["href"] == url
    assert page.find("link", rel="alternate", type="application/rss+xml")[0].attrs["href"] \
        == f"{BASE}/show.xml"
    meta = {e.attrs.get("property") or e.attrs.get("name"): e.attrs["content"]
            for e in page.find("meta") if "content" in e.attrs}
    assert meta["og:title"] == meta["twitter:title"] == "Über Chirurgie"
    assert meta["og:url"] == url and meta["og:audio"] == audio
    assert meta["og:image"] == meta["twitter:image"] == f"{BASE}/artwork/a.jpg"
    assert meta["twitter:card"] == "summary"
    ld = page.jsonld()
    assert ld["@type"] == "PodcastEpisode" and ld["url"] == url and ld["episodeNumber"] == 7
    assert ld["associatedMedia"] == {"@type": "MediaObject", "contentUrl": audio,
                                     "encodingFormat": "audio/mpeg", "duration": "PT30M",
                                     "contentSize": "123456"}
    assert ld["partOfSeries"]["@type"] == "PodcastSeries"
    assert ld["partOfSeason"] == {"@type": "PodcastSeason", "seasonNumber": 2}
    (player,) = page.find("audio")
    assert player.attrs["preload"] == "metadata"
    assert [(e.attrs["src"], e.attrs["type"]) for e in page.find("source")] == [
        (audio, "audio/mpeg")]
    assert any(a.attrs.get("href") == audio and "download" in a.attrs for a in page.find("a"))
    assert "30:00" in page.text and "Guest" in page.text


def test_index_carries_podcast_series_json_ld():
    ld = Page.of(site(episode("one", 1, NOW - WEEK)).pages["index.html"]).jsonld()
    assert ld["@type"] == "PodcastSeries" and ld["webFeed"] == f"{BASE}/show.xml"


def test_chapters_soundbites_and_transcript_lines_link_to_moments_of_the_audio():
    tr = transcript_file("one")
    ep = episode("one", 1, NOW - WEEK, transcripts=[tr],
                 chapters=[{"start_s": 0, "title": "Start"},
                           {"start_s": 75.5, "title": "Middle", "url": "https://example.com/m"},
                           {"start_s": 3725, "title": "Late"}],
                 soundbites=[{"start_s": 61, "duration_s": 9.5, "title": "Best bit"}])
    s = site(ep, transcripts={tr["key"]: cues_json((0, 2, "Hello there.", "Ann"),
                                                   (2.25, 4, "Hi <Ann> & all.", "Bo"),
                                                   (4, 6, "And again.", "Bo"),
                                                   (40, 42, "Later.", "Bo"))})
    page = Page.of(s.pages["episodes/one.html"])
    audio = f"{BASE}/episodes/one/one.mp3"
    seeks = [(a.attrs["href"].removeprefix(audio), a.text)
             for a in page.find("a") if a.attrs.get("href", "").startswith(audio + "#t=")]
    assert seeks == [("#t=00:00", "00:00 Start"), ("#t=01:15.5", "01:15 Middle"),
                     ("#t=1:02:05", "1:02:05 Late"), ("#t=01:01,01:10.5", "01:01 Best bit"),
                     ("#t=00:00", "00:00"), ("#t=00:02.25", "00:02"), ("#t=00:40", "00:40")]
    lines = transcript_lines(page)
    # A speaker's turn is one passage, cut after 30 s so its time still seeks close to it.
    assert lines == ["00:00 Ann: Hello there.", "00:02 Bo: Hi <Ann> & all. And again.",
                     "00:40 Bo: Later."]
    assert page.find("input", type="search") and page.find("form", id="transcript-search")


def test_a_transcript_not_in_storage_leaves_the_page_without_one():
    ep = episode("one", 1, NOW - WEEK, transcripts=[transcript_file("one")])
    page = Page.of(site(ep).pages["episodes/one.html"])
    assert not page.find("form", id="transcript-search") and "Transcript" not in page.text


def test_a_damaged_transcript_is_one_error_naming_it():
    tr = transcript_file("one")
    with pytest.raises(PublishError, match="transcript is damaged") as exc:
        site(episode("one", 1, NOW - WEEK, transcripts=[tr]), transcripts={tr["key"]: b"{"})
    assert exc.value.where == tr["key"]


def test_every_page_fragment_link_has_its_target():
    tr = transcript_file("one")
    ep = episode("one", 1, NOW - WEEK, transcripts=[tr], chapters=[{"start_s": 0, "title": "A"}])
    s = site(ep, transcripts={tr["key"]: cues_json((0, 2, "Hello.", None))})
    for key, data in s.pages.items():
        if key.endswith(".html"):
            page = Page.of(data)
            ids = {e.attrs["id"] for e in page.elements if "id" in e.attrs}
            for a in page.find("a"):
                href = a.attrs.get("href") or ""
                if href.startswith("#"):
                    assert href[1:] in ids, (key, href)


def test_pages_ask_nothing_of_another_origin_and_forbid_inline_script():
    s = site(episode("one", 1, NOW - WEEK), url="https://www.example.org/podcast")
    for key, data in s.pages.items():
        if not key.endswith(".html"):
            continue
        page = Page.of(data)
        fetched = [e.attrs["href"] for e in page.find("link")
                   if e.attrs.get("rel") in ("stylesheet", "icon")]
        fetched += [e.attrs["src"] for e in page.elements
                    if e.tag in ("script", "img", "source", "iframe") and "src" in e.attrs]
        for url in fetched:
            assert not urlsplit(url).netloc or url.startswith(("https://www.example.org/",
                                                               BASE + "/")), (key, url)
        (csp,) = page.find("meta", http_equiv="Content-Security-Policy")
        policy = csp.attrs["content"]
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy
        assert "img-src 'self' https://cdn.example.com;" in policy
        assert all(e.attrs.get("type") == "application/ld+json" or "src" in e.attrs
                   for e in page.find("script"))


def test_not_found_page_links_absolutely():
    page = Page.of(site(url="https://www.example.org/podcast").pages["404.html"])
    hrefs = [a.attrs["href"] for a in page.find("a")] + [e.attrs["href"]
                                                          for e in page.find("link")]
    assert "https://www.example.org/podcast/index.html" in hrefs
    assert all(urlsplit(h).scheme for h in hrefs if h != "#main")


def test_sitemap_and_robots():
    s = site(episode("one", 1, NOW - WEEK, updated=NOW - WEEK / 2),
             url="https://www.example.org")
    sitemap = s.pages["sitemap.xml"].decode()
    assert "<loc>https://www.example.org/episodes/one.html</loc>" in sitemap
    assert f"<lastmod>{(NOW - WEEK / 2).isoformat()}</lastmod>" in sitemap
    assert "embed" not in sitemap
    assert s.pages["robots.txt"] == (b"User-agent: *\nAllow: /\n"
                                     b"Sitemap: https://www.example.org/sitemap.xml\n")


def test_embed_page_is_a_player_not_for_search_engines():
    page = Page.of(site(episode("one", 1, NOW - WEEK)).pages["embed/one.html"])
    assert page.find("audio", preload="metadata")
    assert page.find("meta", name="robots")[0].attrs["content"] == "noindex"
    assert page.find("a", target="_blank")[0].attrs["href"] == f"{BASE}/episodes/one.html"


def test_disabled_site_renders_nothing():
    assert site(episode("one", 1, NOW - WEEK), enabled=False).pages == {}


def test_the_site_is_made_from_the_primary_feed_and_links_every_feed():
    trailers = feed_config(name="trailers", title="Trailers", filter={"types": ["trailer"]})
    s = site(episode("one", 1, NOW - WEEK), feeds=[trailers, feed_config()])
    page = Page.of(s.pages["index.html"])
    assert page.find("h1")[0].text == "Show"
    assert [(e.attrs["title"], e.attrs["href"]) for e in page.find("link", rel="alternate")] \
        == [("Show", f"{BASE}/show.xml"), ("Trailers", f"{BASE}/trailers.xml")]


def test_project_theme_overrides_a_template_and_adds_an_asset(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "assets").mkdir()
    (tmp_path / "templates" / "404.html").write_text(
        "<p>Lost? <img src=\"{{ asset('logo.png') }}\" alt=\"\"> {{ show.feed.title }}</p>\n")
    (tmp_path / "assets" / "site.css").write_text("body { color: black }\n")
    (tmp_path / "assets" / "logo.png").write_bytes(b"\x89PNG")
    s = site(project_site=tmp_path, url="https://www.example.org")
    assert re.fullmatch(rb"<p>Lost\? <img src=\"https://www.example.org/assets/logo-[0-9a-f]{12}"
                        rb"\.png\" alt=\"\"> Show</p>\n", s.pages["404.html"])
    css = [v for k, v in s.assets.items() if k.endswith(".css")]
    assert css == [b"body { color: black }\n"]
    assert b"<h1>" in s.pages["index.html"]  # the package's template where none overrides it


@pytest.mark.parametrize("template, message", [
    ("{% if %}", "template error"),
    ("{{ show.no_such_thing }}", "template error"),
    ("{{ asset('missing.css') }}", "no asset 'missing.css'"),
])
def test_a_broken_project_template_is_one_error_naming_its_file(tmp_path, template, message):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "404.html").write_text(template)
    with pytest.raises(PublishError, match=message) as exc:
        site(project_site=tmp_path)
    assert str(tmp_path / "templates" / "404.html") in str(exc.value)


def transcript_lines(page: Page) -> list[str]:
    """The text of each transcript passage, as a visitor reads it."""
    return [e.text for e in page.elements if e.tag == "p" and e.text and any(
        p.tag == "div" and p.attrs.get("class") == "transcript" for p in page.parents(e))]


def talk(minutes: float) -> bytes:
    """A conversation of this length: cues of about 4.5 s, two speakers taking turns of 27 s,
    words of a real episode's length (about 12 words, 57 characters a cue)."""
    return cues_json(*[(n * 4.5, n * 4.5 + 4.2,
                        f"Line {n}: we talked about residency, mentors and hours.",
                        "Host" if n // 6 % 2 else "Guest")
                       for n in range(round(minutes * 60 / 4.5))])


def talk_site(minutes: float, **site_keys):
    tr = transcript_file("one")
    return site(episode("one", 1, NOW - WEEK, transcripts=[tr],
                        chapters=[{"start_s": 60.0 * n, "title": f"Part {n}"} for n in range(8)]),
                transcripts={tr["key"]: talk(minutes)}, **site_keys)


def weight(s, key: str) -> int:
    """A page's bytes with the CSS and JS it loads: the budget's measure."""
    return len(s.pages[key]) + sum(len(v) for k, v in s.assets.items()
                                   if k.endswith((".css", ".js")))


@pytest.mark.parametrize("minutes", [30, 60, 180])
def test_episode_page_weighs_under_60_kb_with_its_css_and_js_at_any_length(minutes):
    s = talk_site(minutes)
    assert weight(s, "episodes/one.html") < 60_000


def test_a_30_minute_transcript_stays_on_the_episode_page():
    s = talk_site(30)
    page = Page.of(s.pages["episodes/one.html"])
    assert len(transcript_lines(page)) == 67  # 400 cues in turns of 6
    assert page.find("form", id="transcript-search")
    assert "episodes/one/transcript.html" not in s.pages
    assert "transcript.html" not in s.pages["sitemap.xml"].decode()


def test_a_3_hour_transcript_gets_its_own_page_and_the_episode_page_its_opening():
    s = talk_site(180)
    page = Page.of(s.pages["episodes/one.html"])
    (more,) = [a for a in page.find("a") if a.text.startswith("Read the transcript")]
    assert more.attrs["href"] == "../episodes/one/transcript.html"
    words = 2400 * 9  # "Line N: we talked about residency, mentors and hours."
    assert more.text == f"Read the transcript ({words:,} words)"
    opening = transcript_lines(page)
    assert opening and opening[0].startswith("00:00 Guest: Line 0: we talked")
    assert sum(map(len, opening)) < 2_000
    assert not page.find("form", id="transcript-search")  # the search is on the full page

    full = Page.of(s.pages["episodes/one/transcript.html"])
    lines = transcript_lines(full)
    assert len(lines) == 400 and lines[-1].startswith("2:59:33 Host: Line 2394")
    assert full.find("form", id="transcript-search") and full.find("audio", preload="metadata")
    audio = f"{BASE}/episodes/one/one.mp3"
    seeks = [a.attrs["href"] for a in full.find("a") if "#t=" in a.attrs.get("href", "")]
    assert seeks[:2] == [f"{audio}#t=00:00", f"{audio}#t=00:27"] and len(seeks) == 400
    assert [a.attrs["href"] for a in full.find("a") if a.text == "The episode page"] \
        == ["../../episodes/one.html"]
    assert full.find("link", rel="canonical")[0].attrs["href"] == \
        f"{BASE}/episodes/one/transcript.html"
    assert f"<loc>{BASE}/episodes/one/transcript.html</loc>" in s.pages["sitemap.xml"].decode()


def test_the_budget_is_the_feeds_to_set():
    assert "episodes/one/transcript.html" in talk_site(30, page_budget_kb=20).pages
    assert "episodes/one/transcript.html" not in talk_site(180, page_budget_kb=1000).pages


def test_one_enormous_passage_is_cut_on_the_episode_page():
    tr = transcript_file("one")
    s = site(episode("one", 1, NOW - WEEK, transcripts=[tr]),
             transcripts={tr["key"]: cues_json((0, 20, "word " * 20_000, None))})
    (line,) = transcript_lines(Page.of(s.pages["episodes/one.html"]))
    assert line.endswith("word …") and len(line) < 1_600
    assert weight(s, "episodes/one.html") < 60_000


def test_every_theme_file_ships_with_a_non_editable_install():
    globs = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["setuptools"]["package-data"]["pipeline.site"]
    files = [PurePosixPath(p.relative_to(PACKAGE_THEME.parent).as_posix())
             for p in PACKAGE_THEME.rglob("*") if p.is_file()]
    assert files and [f for f in files if not any(f.match(g) for g in globs)] == []


def test_player_offers_the_mp3_then_the_renditions_the_feed_still_asks_for():
    opus, aac = (RenditionSettings(format="opus", bitrate=48, channels=1),
                 RenditionSettings(format="aac", bitrate=96))
    renditions = [
        {**stored("episodes/one/one-1.opus"), "type": "audio/ogg", "codecs": "opus",
         "made_from": made_from(opus, 1, SHA)},
        {**stored("episodes/one/one-2.m4a"), "type": "audio/mp4", "codecs": "mp4a.40.2",
         "made_from": made_from(aac, 2, SHA)}]
    ep = episode("one", 1, NOW - WEEK, renditions=renditions)
    feed = feed_config(renditions=[{"format": "opus", "bitrate": 48, "channels": 1}])
    page = Page.of(site(ep, feeds=[feed]).pages["episodes/one.html"])
    # The AAC was made, then removed from the config: the player no longer offers it.
    assert [(e.attrs["src"], e.attrs["type"]) for e in page.find("source")] == [
        (f"{BASE}/episodes/one/one.mp3", "audio/mpeg"),
        (f"{BASE}/episodes/one/one-1.opus", 'audio/ogg; codecs="opus"')]
