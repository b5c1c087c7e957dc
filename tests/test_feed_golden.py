"""Golden feeds: a fixture (feed keys and a manifest) in, the expected feed out.

Like podcastparser's tests, each case is a folder in tests/golden/: `feed.toml` and
`manifest.json` are the input, `feed.xml` the feed we expect, compared structurally (element
order, attributes, text; not white space or the order of attributes). A change to the feed's
output shows here as a readable difference. To accept a change on purpose, regenerate the
expected files and review their diff before committing:

    PUBLISH_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_feed_golden.py
"""

from __future__ import annotations

import os
import tomllib
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest

from pipeline.feed.render import render_feed
from pipeline.manifest import parse_manifest
from pipeline.project.config import FeedConfig

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "feed.toml").is_file())
# The scheduled episode of the catalogue (2027) stays out of the feed at this moment.
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5)))


def _render(case: Path) -> bytes:
    keys = tomllib.loads((case / "feed.toml").read_text(encoding="utf-8"))
    feed = FeedConfig.model_validate({**keys, "name": case.name, "path": case / "feed.toml"})
    manifest = parse_manifest((case / "manifest.json").read_bytes(), where=str(case))
    return render_feed(feed, manifest, NOW)


def _canonical(xml: bytes) -> list[str]:
    """One line per element: its path, sorted attributes and text; the generator's version and
    build date are left out, so a release does not change every golden file."""
    lines: list[str] = []

    def walk(el: ET.Element, path: str) -> None:
        here = f"{path}/{el.tag}"
        if el.tag in ("generator",):
            return
        attrs = " ".join(f"{k}={v!r}" for k, v in sorted(el.attrib.items()))
        text = (el.text or "").strip()
        lines.append(f"{here} [{attrs}] {text!r}" if attrs else f"{here} {text!r}")
        for child in el:
            walk(child, here)

    walk(ET.fromstring(xml), "")
    return lines


@pytest.mark.parametrize("name", CASES)
def test_feed_matches_golden_file(name: str) -> None:
    case = GOLDEN / name
    xml = _render(case)
    expected = case / "feed.xml"
    if os.environ.get("PUBLISH_UPDATE_GOLDEN"):
        expected.write_bytes(xml)
    assert _canonical(xml) == _canonical(expected.read_bytes())


@pytest.mark.parametrize("name", CASES)
def test_golden_files_are_feeds_apps_read(name: str) -> None:
    """The expected files themselves are checked by a podcast client's parser, so a wrong
    golden file cannot slip in by regeneration alone."""
    parsed = feedparser.parse((GOLDEN / name / "feed.xml").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    manifest = parse_manifest((GOLDEN / name / "manifest.json").read_bytes(), where=name)
    keys = tomllib.loads((GOLDEN / name / "feed.toml").read_text(encoding="utf-8"))
    wanted_types = keys.get("filter", {}).get("types")
    listed = {e.guid for e in manifest.episodes.values()
              if e.published <= NOW and (not wanted_types or e.type in wanted_types)}
    assert {e.id for e in parsed.entries} == listed
    for entry in parsed.entries:
        record = next(e for e in manifest.episodes.values() if e.guid == entry.id)
        (enclosure,) = entry.enclosures
        assert int(enclosure.length) == record.audio.bytes
        assert enclosure.href.endswith(record.audio.key)
