"""Podlove Simple Chapters (podlove.org/simple-chapters), read by apps that skip JSON chapters."""

from __future__ import annotations

from ..timecode import format_ms, to_ms
from . import NamespaceEntryExtension, NamespaceExtension, el

PSC_NS = "http://podlove.org/simple-chapters"
PSC_VERSION = "1.2"


class PscFeed(NamespaceExtension):
    """Declares the namespace on the channel; chapters themselves belong to items."""

    prefix, uri = "psc", PSC_NS


class PscEntry(NamespaceEntryExtension):
    prefix, uri = "psc", PSC_NS

    def chapters(self, marks: list[tuple[float, str, str | None, str | None]]) -> None:
        """(start_s, title, href, image) per chapter, in order."""
        self.add("chapters", attrs={"version": PSC_VERSION},
                 children=tuple(el("chapter", attrs={"start": format_ms(to_ms(start)),
                                                     "title": title, "href": href,
                                                     "image": image})
                                for start, title, href, image in marks))
