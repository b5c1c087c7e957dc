"""max_items: the feed keeps the newest N episodes, the website keeps them all."""

from __future__ import annotations

import shutil
from datetime import timedelta

import feedparser
import pytest
import sitecase
from helpers import REPO, set_key
from test_feed_render import NOW, episode, feed_config, render

from pipeline.checks.rules import check_feed_config
from pipeline.errors import ConfigError
from pipeline.project.config import load_feed

WEEK = timedelta(days=7)
# Five weekly episodes, the first a trailer: numbered in publishing order, 5 the newest.
CATALOGUE = [episode(f"ep{n}", n, NOW - (6 - n) * WEEK, type="trailer" if n == 1 else "full")
             for n in range(1, 6)]


def test_the_feed_lists_the_newest_n():
    parsed = feedparser.parse(render(feed_config(max_items=3), *CATALOGUE))
    assert [e.id for e in parsed.entries] == ["guid-ep5", "guid-ep4", "guid-ep3"]


def test_without_max_items_the_feed_lists_all():
    parsed = feedparser.parse(render(feed_config(), *CATALOGUE))
    assert len(parsed.entries) == 5


def test_a_scheduled_episode_does_not_take_a_place():
    later = episode("ep6", 6, NOW + WEEK)
    parsed = feedparser.parse(render(feed_config(max_items=2), *CATALOGUE, later))
    assert [e.id for e in parsed.entries] == ["guid-ep5", "guid-ep4"]


def test_the_trailer_stays_on_the_channel_past_the_window():
    xml = render(feed_config(max_items=2), *CATALOGUE).decode()
    assert "guid-ep1" not in xml  # its item is out
    assert '<podcast:trailer url="https://cdn.example.com/show/episodes/ep1/ep1.mp3"' in xml


def test_the_website_lists_every_episode():
    site = sitecase.site(*CATALOGUE, feeds=[feed_config(max_items=2)])
    index = site.pages["index.html"].decode()
    for n in range(1, 6):
        assert f"episodes/ep{n}.html" in index
        assert f"episodes/ep{n}.html" in site.pages


@pytest.mark.parametrize("value", ["0", "-3", '"3"', "2.5"])
def test_max_items_must_be_a_positive_whole_number(tmp_path, value):
    feeds = shutil.copytree(REPO / "feeds", tmp_path / "feeds")
    toml = feeds / "women-in-surgery.toml"
    set_key(toml, "max_items", value)
    with pytest.raises(ConfigError) as err:
        load_feed(toml)
    assert str(err.value).startswith(f"{toml}: max_items: ")


def test_a_serial_show_with_max_items_is_warned():
    feed = feed_config(type="serial", max_items=10)
    art = (REPO / "feeds/artwork/women-in-surgery.jpg").read_bytes()
    (warning,) = [p for p in check_feed_config(feed, art) if p.where.endswith("max_items")]
    assert warning.level == "warning" and "serial show" in warning.message
    assert not [p for p in check_feed_config(feed_config(max_items=10), art)
                if p.where.endswith("max_items")]
