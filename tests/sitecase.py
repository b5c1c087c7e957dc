"""Building blocks of the site tests: a feed config, episodes as published, a page parser."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import test_feed_render
from test_feed_render import NOW, feed_config, stored

from pipeline.manifest import EpisodeRecord, FeedRecord, Manifest, StoredObject, podcast_guid
from pipeline.project.config import FeedConfig
from pipeline.site import theme
from pipeline.site.render import Site, render_site
from pipeline.texts import notes, transcript

DEFAULT_THEME = theme.load()  # loaded once: Jinja compiles each template once per theme


def transcript_file(slug: str) -> dict:
    return {**stored(f"episodes/{slug}/{slug}-0123456789ab.json"), "type": "application/json"}


def episode(slug: str, number: int, published: datetime, notes_md: str = "",
            **fields) -> EpisodeRecord:
    """The feed tests' episode, with notes made from Markdown as publishing makes them."""
    html = notes.to_html(notes_md or f"About *{slug}*.")
    return test_feed_render.episode(slug, number, published, notes_html=html,
                                    description=notes.to_description(html), **fields)


def manifest(*episodes: EpisodeRecord, feeds: list[FeedConfig]) -> Manifest:
    return Manifest(
        feeds={f.name: FeedRecord(podcast_guid=podcast_guid(f.feed_url),
                                     artwork=StoredObject(**stored("artwork/a.jpg")))
               for f in feeds},
        episodes={e.slug: e for e in episodes})


def cues_json(*cues: tuple[float, float, str, str | None]) -> bytes:
    return transcript.to_json([transcript.Cue(round(a * 1000), round(b * 1000), text, who)
                               for a, b, text, who in cues]).encode()


def site(*episodes: EpisodeRecord, feeds: list[FeedConfig] | None = None,
         now: datetime = NOW, transcripts: dict[str, bytes] | None = None,
         project_site: Path | None = None, **site_keys) -> Site:
    """The site of these episodes; `site_keys` are the primary feed's [site] table."""
    feeds = feeds or [feed_config(site=site_keys)]
    look = theme.load(project_site) if project_site else DEFAULT_THEME
    return render_site(feeds, manifest(*episodes, feeds=feeds), now, look, transcripts or {})


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    text: str = ""


class Page(HTMLParser):
    """Every element of a page with its attributes, the text of each, and all the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.text = ""
        self._open: list[Element] = []
        self._parents: dict[int, list[Element]] = {}

    @classmethod
    def of(cls, data: bytes) -> Page:
        page = cls()
        page.feed(data.decode("utf-8"))
        page.close()
        return page

    def handle_starttag(self, tag: str, attrs: list) -> None:
        el = Element(tag, dict(attrs))
        self.elements.append(el)
        self._parents[id(el)] = self._open[::-1]
        if tag not in {"meta", "link", "img", "input", "br"}:
            self._open.append(el)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        self.text += data
        for el in self._open:
            el.text += data

    def parents(self, el: Element) -> list[Element]:
        """The elements `el` is inside, nearest first."""
        return self._parents.get(id(el), [])

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag
                and all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def jsonld(self) -> dict:
        (script,) = self.find("script", type="application/ld+json")
        return json.loads(script.text)
