"""A run reports success only if its records are in the manifest and the feed written last.

The storage lock keeps runs apart; this guards what a lock cannot promise on every server:
another run that overwrote the manifest or the feed after ours is found by reading them back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from helpers import copy_project, run_json

from pipeline.errors import PublishError
from pipeline.manifest import MANIFEST_KEY, Manifest, parse_manifest
from pipeline.session import Session
from pipeline.storage.local import LocalStorage

pytestmark = pytest.mark.e2e  # a module fixture publishes the demo

NOW = datetime(2026, 12, 1, tzinfo=UTC)
FEED_KEY = "women-in-surgery.xml"


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> tuple[Path, Manifest]:
    """The demo project after one real publish, and its manifest."""
    project = copy_project(tmp_path_factory.mktemp("commit") / "show")
    run_json(project, "episode", "1")
    data = (project / "public" / MANIFEST_KEY).read_bytes()
    return project, parse_manifest(data, where="manifest.json")


class Overwritten(LocalStorage):
    """A storage where another run, which read the manifest before ours, writes right after
    each of our feed writes, `times` times: its manifest (without our episode) or only its feed."""

    def __init__(self, root: Path, rival: Manifest, what: str, times: int):
        super().__init__(root)
        self.rival, self.what, self.times = rival, what, times

    def put_bytes(self, key: str, data: bytes, **kw) -> None:
        super().put_bytes(key, data, **kw)
        if key == FEED_KEY and self.times > 0:
            self.times -= 1
            if self.what == "manifest and feed":
                super().put_bytes(MANIFEST_KEY, self.rival.to_bytes(), **kw)
            super().put_bytes(FEED_KEY, b"<rss version='2.0'><channel/></rss>", **kw)


def commit_with_rival(published, tmp_path: Path, what: str, times: int) -> Overwritten:
    project, manifest = published
    ours = manifest.episodes["welcome"]
    rival = ours.model_copy(update={"slug": "rival", "guid": "rival-guid", "title": "Rival"})
    before = manifest.model_copy(update={"episodes": {}})
    storage = Overwritten(tmp_path / "public", before.with_episode(rival), what, times)
    storage.put_bytes(MANIFEST_KEY, before.to_bytes(), content_type="application/json",
                      cache_control="no-cache")
    s = Session.open(project, None, str(storage.root), NOW)
    s.storage = storage
    s.commit(lambda fresh: fresh.with_episode(ours), [])
    return storage


@pytest.mark.parametrize("what", ["manifest and feed", "feed only"])
def test_a_run_overwritten_once_merges_again_and_lands(published, tmp_path, what):
    storage = commit_with_rival(published, tmp_path, what, times=1)
    final = parse_manifest(storage.get_bytes(MANIFEST_KEY), where="manifest.json")
    assert "welcome" in final.episodes
    if what == "manifest and feed":
        assert "rival" in final.episodes  # merged with what the other run wrote, not over it
    feed = feedparser.parse(storage.get_bytes(FEED_KEY))
    assert final.episodes["welcome"].guid in {entry.id for entry in feed.entries}


def test_a_run_overwritten_every_time_fails_in_one_line(published, tmp_path):
    with pytest.raises(PublishError) as err:
        commit_with_rival(published, tmp_path, "manifest and feed", times=100)
    text = str(err.value)
    assert "\n" not in text and "another run" in text
    assert text.startswith((tmp_path / "public" / MANIFEST_KEY).as_uri())
