"""The feed config's [site] table: where the site lives, how it pages, where to subscribe."""

from __future__ import annotations

from pydantic import Field

from ..config import OneLine, Strict


class SubscribeLink(Strict):
    """A directory that lists the show (Apple Podcasts, Spotify, ...), shown beside the RSS URL."""

    name: OneLine = Field(min_length=1, max_length=64)
    url: str = Field(pattern=r"^https://")


class SiteSettings(Strict):
    """The show's website, published with the feed into the same storage."""

    enabled: bool = Field(True, description="render the website with every feed rebuild")
    url: str | None = Field(None, pattern=r"^https?://",
                            description="public URL of the site; default: base_url")
    episodes_per_page: int = Field(20, ge=1, le=1000)
    subscribe: list[SubscribeLink] = Field([], description="directories that list the show")
