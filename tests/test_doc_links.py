"""Every relative link in the README and the docs leads somewhere: the file exists and, when
the link names a section, a heading of that file makes that anchor (as GitHub makes them).
The README points newcomers into docs/ for the reference; a moved section must not strand them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "bench" / "RESULTS.md"]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"(?ms)^```.*?^```", "", path.read_text())
    return {_anchor(h) for h in re.findall(r"(?m)^#{1,6} (.+)$", text)}


def _links(path: Path) -> list[str]:
    text = re.sub(r"(?ms)^```.*?^```", "", path.read_text())
    return [u for u in LINK.findall(text) if not re.match(r"[a-z]+:", u)]


def test_anchor_is_made_as_github_makes_it():
    assert _anchor("The show's website") == "the-shows-website"
    assert _anchor("Levelling and speed, 2026-11-26 (leveler on by default)") == \
        "levelling-and-speed-2026-11-26-leveler-on-by-default"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(doc):
    broken = []
    for link in _links(doc):
        target, _, anchor = link.partition("#")
        path = (doc.parent / target).resolve() if target else doc
        if not path.exists():
            broken.append(f"{link}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{link}: no such section")
    assert broken == []
