"""feedgen extensions for the namespaces podcast apps read, written as elements, never strings."""

from __future__ import annotations

from dataclasses import dataclass, field

import feedgen.feed  # noqa: F401  (imports lxml.etree, which feedgen.util uses unimported)
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import xml_elem


@dataclass(frozen=True)
class Element:
    """One element to write: tag (local name), text, attributes and child elements."""

    tag: str
    text: str | None = None
    attrs: dict[str, str] = field(default_factory=dict)
    children: tuple[Element, ...] = ()


def el(tag: str, text: str | None = None, attrs: dict[str, object] | None = None,
       children: tuple[Element, ...] = ()) -> Element:
    """An element; attributes whose value is None are left out, others become strings."""
    kept = {k: _str(v) for k, v in (attrs or {}).items() if v is not None}
    return Element(tag, text, kept, children)


def _str(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class NamespaceExtension(BaseExtension):
    """Collects elements of one namespace and writes them in the order they were added."""

    prefix = ""
    uri = ""

    def __init__(self) -> None:
        self.elements: list[Element] = []

    def add(self, tag: str, text: str | None = None, attrs: dict[str, object] | None = None,
            children: tuple[Element, ...] = ()) -> None:
        self.elements.append(el(tag, text, attrs, children))

    def extend_ns(self) -> dict[str, str]:
        return {self.prefix: self.uri}

    def _write(self, parent, element: Element) -> None:
        node = xml_elem(f"{{{self.uri}}}{element.tag}", parent, attrib=element.attrs)
        if element.text is not None:
            node.text = element.text
        for child in element.children:
            self._write(node, child)

    def extend_rss(self, rss_feed):
        target = rss_feed[0] if rss_feed.tag == "rss" else rss_feed
        for element in self.elements:
            self._write(target, element)
        return rss_feed

    def extend_atom(self, atom_feed):
        return atom_feed


class NamespaceEntryExtension(NamespaceExtension, BaseEntryExtension):
    """The same for an <item>."""
