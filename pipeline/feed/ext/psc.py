"""Podlove Simple Chapters (podlove.org/simple-chapters), read by apps that skip JSON chapters."""

from __future__ import annotations

from ...texts.timecode import format_ms, to_ms
from . import ItemNamespace, NamespaceExtension

PSC_NS = "http://podlove.org/simple-chapters"
PSC_VERSION = "1.2"


class PscFeed(NamespaceExtension):
    """Declares the namespace on the channel; chapters themselves belong to items."""

    prefix, uri = "psc", PSC_NS


class PscItem(ItemNamespace):
    uri = PSC_NS

    def chapters(self, marks: list[tuple[float, str, str | None, str | None]]) -> None:
        """(start_s, title, href, image) per chapter, in order."""
        node = self.add("chapters", attrs={"version": PSC_VERSION})
        for start, title, href, image in marks:
            self.add("chapter", attrs={"start": format_ms(to_ms(start)), "title": title,
                                       "href": href, "image": image}, parent=node)
