"""Gathers what the site is rendered from: the theme in the project, transcripts in storage.

CI has neither audio nor episode folders, only the manifest and what it points at, so the
transcript text of a page is read back from the published JSON transcript.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..feed.render import visible_episodes
from ..manifest import Manifest
from ..project.config import FeedConfig
from ..storage import Storage
from . import model
from .render import NO_SITE, Site, render_site

PROJECT_THEME = "site"  # the project folder whose templates/ and assets/ override the package's


def build_site(storage: Storage, feeds: list[FeedConfig], manifest: Manifest, now: datetime,
               project: Path) -> Site:
    """The site of this storage as it should be now; a transcript not in storage (yet, in a
    dry run) is left off its page."""
    feed = model.site_feed(feeds)
    if not feed.site.enabled:
        return NO_SITE
    from . import theme  # Jinja2, which a site that is off does not need to load

    keys = [model.transcript_key(ep) for ep in visible_episodes(manifest, now, feed)]
    transcripts = {k: data for k in keys if k and (data := storage.get_bytes(k)) is not None}
    return render_site(feeds, manifest, now, theme.load(project / PROJECT_THEME),
                       transcripts)
