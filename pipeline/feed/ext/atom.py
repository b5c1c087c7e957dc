"""Atom links in the RSS channel that feedgen does not write: WebSub's `rel="hub"`."""

from __future__ import annotations

from . import NamespaceExtension

ATOM_NS = "http://www.w3.org/2005/Atom"


class AtomFeed(NamespaceExtension):
    prefix, uri = "atom", ATOM_NS

    def hub(self, href: str) -> None:
        """A WebSub hub apps may subscribe to; it hears from us when the feed changes."""
        self.add("link", attrs={"rel": "hub", "href": href})
