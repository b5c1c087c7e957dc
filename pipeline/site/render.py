"""The show's website as a pure function of the feed configs, the manifest, the theme and the
time: {storage key: bytes}, like the feed.

Nothing in a page comes from the clock (scheduled episodes only appear once their time has
come), so an unchanged manifest renders to the same bytes and nothing is uploaded again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from ..errors import PublishError
from ..feed.render import visible_episodes
from ..manifest import Manifest
from ..project.config import FeedConfig
from . import model

if TYPE_CHECKING:
    from .theme import Theme

NOT_FOUND_KEY = "404.html"


@dataclass(frozen=True)
class Site:
    """What to write: the assets first (content-addressed, cached as immutable), then pages."""

    assets: dict[str, bytes]
    pages: dict[str, bytes]
    url: str | None = None  # the public URL of the home page; None: the site is off


NO_SITE = Site({}, {})


def asset_key(name: str, data: bytes) -> str:
    """assets/site-<sha256 prefix>.css: new bytes get a new name, so caches never go stale."""
    pure = PurePosixPath(name)
    return f"assets/{pure.stem}-{hashlib.sha256(data).hexdigest()[:12]}{pure.suffix}"


def index_key(page: int) -> str:
    return model.INDEX_KEY if page == 1 else f"page/{page}.html"


def render_site(feeds: list[FeedConfig], manifest: Manifest, now: datetime, theme: Theme,
                transcripts: Mapping[str, bytes]) -> Site:
    """Every page of the site of the storage these feeds share.

    `transcripts` holds the stored JSON transcripts by key (see `model.transcript_key`); an
    episode whose transcript is not in it gets a page without one.
    """
    feed = model.site_feed(feeds)
    if not feed.site.enabled or feed.name not in manifest.feeds:
        return NO_SITE
    show = model.show(feeds, manifest.feeds[feed.name])
    assets = {name: asset_key(name, data) for name, data in theme.assets.items()}
    pages = _Pages(theme, show, assets)
    # What a visitor's browser loads besides the page, counted against the page's budget.
    budget = feed.site.page_budget_kb * 1000 - sum(
        len(data) for name, data in theme.assets.items() if name.endswith((".css", ".js")))
    out: dict[str, bytes] = {}
    episodes = []
    for rec in visible_episodes(manifest, now, feed):
        ep = model.episode_page(show, rec, transcripts)
        page = _episode(pages, ep, budget)
        if page is None:  # too heavy with its transcript: the transcript gets its own page
            ep = model.with_transcript_apart(ep)
            page = pages.render("episode.html", ep.key, ep=ep, jsonld=model.episode_ld(show, ep))
            out[ep.transcript_key] = pages.render("transcript.html", ep.transcript_key, ep=ep)
        out[ep.key] = page
        out[ep.embed_key] = pages.render("embed.html", ep.embed_key, ep=ep)
        episodes.append(ep)

    per_page = feed.site.episodes_per_page
    chunks = [episodes[i:i + per_page] for i in range(0, len(episodes), per_page)] or [[]]
    for n, chunk in enumerate(chunks, 1):
        nav = {"page": n, "pages": len(chunks),
               "previous": index_key(n - 1) if n > 1 else None,
               "next": index_key(n + 1) if n < len(chunks) else None,
               "links": [model.Link(str(i), index_key(i)) for i in range(1, len(chunks) + 1)]}
        out[index_key(n)] = pages.render("index.html", index_key(n), episodes=chunk,
                                         pagination=nav, jsonld=model.series_ld(show))
    out[NOT_FOUND_KEY] = pages.render("404.html", NOT_FOUND_KEY)
    out["sitemap.xml"] = pages.render("sitemap.xml", "sitemap.xml", episodes=episodes,
                                      index_pages=[index_key(n) for n in range(1, len(chunks) + 1)])
    out["robots.txt"] = pages.render("robots.txt", "robots.txt")
    return Site(assets={assets[name]: data for name, data in theme.assets.items()}, pages=out,
                url=show.page_url(model.INDEX_KEY))


def _episode(pages: _Pages, ep: model.EpisodePage, budget: int) -> bytes | None:
    """The episode page with its whole transcript, or None when it would weigh more than the
    budget. A transcript whose words and links alone are over it is not rendered to find out:
    each passage is at least its text and its link's URL (escaping only adds to them)."""
    if ep.transcript and sum(len(p.text.encode()) + len(p.href)
                             for p in ep.transcript) > budget:
        return None
    page = pages.render("episode.html", ep.key, ep=ep, jsonld=model.episode_ld(pages.show, ep))
    return page if not ep.transcript or len(page) <= budget else None


class _Pages:
    """Renders one template into one key's bytes, with what every template may use."""

    def __init__(self, theme: Theme, show: model.Show, assets: dict[str, str]):
        self.theme, self.show, self.assets = theme, show, assets

    def render(self, template: str, key: str, **context) -> bytes:
        # Links between pages are relative, so the site works wherever it is served (a CDN,
        # `publish serve`); 404.html is served at any path, so its links are absolute.
        root = self.show.url + "/" if key == NOT_FOUND_KEY else "../" * key.count("/")
        import jinja2  # loaded with the theme; not at the top, so a site that is off costs none

        try:
            text = self.theme.env.get_template(template).render(
                show=self.show, root=root, canonical=self.show.page_url(key),
                asset=lambda name: root + self._asset(name, template), **context)
        except jinja2.TemplateError as exc:
            where = getattr(exc, "filename", None) or self._where(template)
            line = getattr(exc, "lineno", None)
            raise PublishError(f"template error: {exc.message}",
                               where=f"{where}:{line}" if line else where) from None
        return text.encode("utf-8")

    def _asset(self, name: str, template: str) -> str:
        if name not in self.assets:
            raise PublishError(f"no asset {name!r} in the theme", where=self._where(template))
        return self.assets[name]

    def _where(self, template: str) -> str:
        for folder in self.theme.folders:
            if (folder / "templates" / template).is_file():
                return str(folder / "templates" / template)
        return template
