"""Which stored pages the site no longer has, so a commit can delete them after the new site.

Only the site's own page keys qualify: an episode's page, its embed and transcript pages, a
page of the episode list. Media, feeds, the manifest, assets, the 404 page and anything else
kept in the storage never match, whatever the new site holds.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

# The folders those pages live in: listing them finds every page any earlier run wrote.
PAGE_FOLDERS = ("episodes", "embed", "page")
_PAGE = re.compile(r"(episodes|embed)/[^/]+\.html|episodes/[^/]+/transcript\.html"
                   r"|page/[0-9]+\.html")


def is_page(key: str) -> bool:
    """Whether a key is one the site writes per episode or per page of the list."""
    return _PAGE.fullmatch(key) is not None


def stale_pages(stored: Iterable[str], pages: Collection[str]) -> list[str]:
    """The stored page keys that are not among the new site's pages, in order."""
    return sorted(k for k in stored if is_page(k) and k not in pages)
