"""The namespaces podcast apps read, written as lxml elements, never strings: feedgen
extensions on the channel, and writers that put an item's tags straight into its element."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from feedgen.ext.base import BaseExtension
from lxml import etree


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
    return Element(tag, text, _attrs(attrs), children)


def _attrs(attrs: dict[str, object] | None) -> dict[str, str]:
    if not attrs:
        return {}
    return {k: v if v.__class__ is str else _str(v) for k, v in attrs.items() if v is not None}


def _str(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def sub(parent: etree._Element, name: str, text: str | None = None,
        attrs: dict[str, str] | None = None) -> etree._Element:
    """A child element (`name` in Clark notation, {uri}local, for a namespace) with its text."""
    node = etree.SubElement(parent, name, attrs) if attrs else etree.SubElement(parent, name)
    if text is not None:
        node.text = text
    return node


class NamespaceExtension(BaseExtension):
    """Collects a channel's elements of one namespace and writes them in the order they were
    added, when feedgen builds the channel."""

    prefix = ""
    uri = ""

    def __init__(self) -> None:
        self.elements: list[Element] = []

    def add(self, tag: str, text: str | None = None, attrs: dict[str, object] | None = None,
            children: tuple[Element, ...] = ()) -> None:
        self.elements.append(el(tag, text, attrs, children))

    def extend_ns(self) -> dict[str, str]:
        return {self.prefix: self.uri}

    def _write(self, parent: etree._Element, element: Element) -> None:
        node = sub(parent, f"{{{self.uri}}}{element.tag}", element.text, element.attrs)
        for child in element.children:
            self._write(node, child)

    def extend_rss(self, rss_feed):
        target = rss_feed[0] if rss_feed.tag == "rss" else rss_feed
        for element in self.elements:
            self._write(target, element)
        return rss_feed

    def extend_atom(self, atom_feed):
        return atom_feed


class ItemNamespace:
    """Writes an <item>'s elements of one namespace straight into it, in the order they are
    added: a 3,000-episode feed's per-item extension objects and element records cost more
    than its XML (bench/feed.py)."""

    uri = ""

    def __init__(self, item: etree._Element) -> None:
        self.element = item

    def add(self, tag: str, text: str | None = None, attrs: dict[str, object] | None = None,
            parent: etree._Element | None = None) -> etree._Element:
        """The element, under `parent` (one this writer added) or else the item itself."""
        return sub(self.element if parent is None else parent, f"{{{self.uri}}}{tag}", text,
                   _attrs(attrs))


class ItemsExtension(BaseExtension):
    """Hands feedgen's channel, once its own tags are written, to `write` (set before
    rendering), which adds the items: registered last, so they follow every channel tag."""

    def __init__(self) -> None:
        self.write: Callable[[etree._Element], None] = lambda channel: None

    def extend_rss(self, rss_feed):
        self.write(rss_feed[0])
        return rss_feed
