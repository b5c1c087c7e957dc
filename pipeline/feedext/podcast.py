"""The Podcasting 2.0 namespace (podcastindex.org/namespace/1.0) as a feedgen extension."""

from __future__ import annotations

from . import NamespaceEntryExtension, NamespaceExtension

PODCAST_NS = "https://podcastindex.org/namespace/1.0"


class PodcastFeed(NamespaceExtension):
    prefix, uri = "podcast", PODCAST_NS

    def guid(self, value: str) -> None:
        self.add("guid", value)

    def locked(self, locked: bool, owner: str | None) -> None:
        self.add("locked", "yes" if locked else "no", {"owner": owner})

    def person(self, name: str, role: str, href: str | None = None,
               img: str | None = None) -> None:
        self.add("person", name, {"role": role, "href": href, "img": img})

    def medium(self, value: str) -> None:
        self.add("medium", value)


class PodcastEntry(NamespaceEntryExtension):
    prefix, uri = "podcast", PODCAST_NS

    def season(self, number: int) -> None:
        self.add("season", str(number))

    def episode(self, number: int) -> None:
        self.add("episode", str(number))

    def person(self, name: str, role: str, href: str | None = None,
               img: str | None = None) -> None:
        self.add("person", name, {"role": role, "href": href, "img": img})

    def chapters(self, url: str) -> None:
        self.add("chapters", attrs={"url": url, "type": "application/json+chapters"})

    def transcript(self, url: str, mime: str, language: str | None = None,
                   rel: str | None = None) -> None:
        self.add("transcript", attrs={"url": url, "type": mime, "language": language, "rel": rel})
