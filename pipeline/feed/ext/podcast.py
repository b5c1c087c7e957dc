"""The Podcasting 2.0 namespace (podcastindex.org/namespace/1.0) on the channel and items."""

from __future__ import annotations

import base64

from . import ItemNamespace, NamespaceExtension, el

PODCAST_NS = "https://podcastindex.org/namespace/1.0"


class _Persons:
    """`podcast:person`, the same on the channel and on an item."""

    def person(self, name: str, role: str, href: str | None = None,
               img: str | None = None) -> None:
        self.add("person", name, {"role": role, "href": href, "img": img})


class PodcastFeed(_Persons, NamespaceExtension):
    prefix, uri = "podcast", PODCAST_NS

    def guid(self, value: str) -> None:
        self.add("guid", value)

    def locked(self, locked: bool, owner: str | None) -> None:
        self.add("locked", "yes" if locked else "no", {"owner": owner})

    def medium(self, value: str) -> None:
        self.add("medium", value)

    def funding(self, url: str, text: str) -> None:
        self.add("funding", text, {"url": url})

    def license(self, name: str, url: str | None) -> None:
        self.add("license", name, {"url": url})

    def txt(self, text: str, purpose: str | None) -> None:
        self.add("txt", text, {"purpose": purpose})

    def update_frequency(self, text: str, rrule: str | None, complete: bool,
                         dtstart: str | None) -> None:
        self.add("updateFrequency", text, {"rrule": rrule, "dtstart": dtstart,
                                           "complete": "true" if complete else None})

    def podroll(self, shows: list[tuple[str | None, str | None]]) -> None:
        """Recommended shows, each a `podcast:remoteItem` by (feed GUID, feed URL)."""
        self.add("podroll", children=tuple(
            el("remoteItem", attrs={"feedGuid": guid, "feedUrl": url}) for guid, url in shows))

    def previous_url(self, url: str) -> None:
        self.add("previousUrl", url)

    def trailer(self, title: str, url: str, pubdate: str, length: int, mime: str,
                season: int | None) -> None:
        self.add("trailer", title, {"url": url, "pubdate": pubdate, "length": length,
                                    "type": mime, "season": season})


class PodcastItem(_Persons, ItemNamespace):
    uri = PODCAST_NS

    def season(self, number: int) -> None:
        self.add("season", str(number))

    def episode(self, number: int) -> None:
        self.add("episode", str(number))

    def chapters(self, url: str) -> None:
        self.add("chapters", attrs={"url": url, "type": "application/json+chapters"})

    def transcript(self, url: str, mime: str, language: str | None = None,
                   rel: str | None = None) -> None:
        self.add("transcript", attrs={"url": url, "type": mime, "language": language, "rel": rel})

    def soundbite(self, start_s: float, duration_s: float, title: str | None) -> None:
        self.add("soundbite", title, {"startTime": f"{start_s:g}", "duration": f"{duration_s:g}"})

    def alternate_enclosure(self, url: str, mime: str, length: int, sha256: str, *,
                            default: bool = False, title: str | None = None,
                            bitrate: int | None = None, codecs: str | None = None) -> None:
        """One rendition; the integrity hash lets apps check what they downloaded."""
        sri = "sha256-" + base64.b64encode(bytes.fromhex(sha256)).decode()
        node = self.add("alternateEnclosure",
                        attrs={"type": mime, "length": length, "bitrate": bitrate,
                               "default": "true" if default else None, "title": title,
                               "codecs": codecs})
        self.add("source", attrs={"uri": url}, parent=node)
        self.add("integrity", attrs={"type": "sri", "value": sri}, parent=node)
