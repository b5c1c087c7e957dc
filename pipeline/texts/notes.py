"""Show notes: Markdown to a safe subset of HTML for content:encoded, and plain text."""

from __future__ import annotations

import html
import re

import nh3

# What podcast apps render well and Apple accepts in content:encoded; nothing that runs.
ALLOWED_TAGS = {"p", "br", "a", "ul", "ol", "li", "em", "strong", "b", "i", "blockquote",
                "code", "h3", "h4"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}
# Control characters XML 1.0 cannot carry at all (a feed with one parses nowhere), and DEL,
# which it discourages; one definition for the config (which refuses them) and the notes.
XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def strip_control(text: str) -> str:
    """Notes may come from word processors: drop what XML cannot carry rather than refuse."""
    return XML_UNSAFE.sub("", text)


def to_html(notes_md: str) -> str:
    import markdown  # here: the config loads this module, and only publishing reads notes

    return clean(markdown.markdown(strip_control(notes_md), extensions=["sane_lists"]))


def clean(notes_html: str) -> str:
    """Only the allowed subset of HTML: what the feed and the website ever show of notes."""
    return nh3.clean(notes_html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=URL_SCHEMES, link_rel="noopener").strip()


def to_text(notes_html: str) -> str:
    """Plain text for <description> and ID3: paragraphs kept, list items as lines."""
    text = re.sub(r"</li>\s*", "\n", notes_html)
    text = re.sub(r"</(p|h3|h4|blockquote|ul|ol)>\s*", "\n\n", text)
    text = re.sub(r"<li>", "- ", text)
    text = re.sub(r"<br\s*/?>", "\n", text)
    text = nh3.clean(text, tags=set())
    text = html.unescape(text)
    lines = [ln.strip() for ln in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# Apple and PSP-1 cap <description> at 4000 bytes; content:encoded keeps the notes whole.
DESCRIPTION_MAX_BYTES = 4000
ELLIPSIS = "\u2026"


def to_description(notes_html: str) -> str:
    """Plain text for <description> and ID3, cut at a word to fit DESCRIPTION_MAX_BYTES."""
    text = to_text(notes_html)
    data = text.encode("utf-8")
    if len(data) <= DESCRIPTION_MAX_BYTES:
        return text
    room = DESCRIPTION_MAX_BYTES - len(ELLIPSIS.encode("utf-8"))
    cut = data[:room].decode("utf-8", "ignore")
    head = cut.rsplit(None, 1)[0] if cut.split() else cut
    return head.rstrip() + ELLIPSIS
