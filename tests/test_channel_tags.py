"""Channel tags apps use: podcast:updateFrequency, podcast:podroll, podcast:previousUrl and
itunes:new-feed-url, read back from rendered feeds as the Podcasting 2.0 namespace spells them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import feedparser
import pytest
from helpers import run
from test_feed_render import NOW, NS, episode, feed_config, render

FRIEND_GUID = "917393e3-1b1e-5cef-ace4-edaa54e1f810"


def channel(**keys) -> ET.Element:
    return ET.fromstring(render(feed_config(**keys), episode("one", 1, NOW))).find("channel")


def test_update_frequency_carries_text_rrule_start_and_completion():
    ch = channel(update_frequency={"text": "Every other Tuesday",
                                   "rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
                                   "dtstart": "2026-01-06T09:00:00-05:00"})
    (freq,) = ch.findall("podcast:updateFrequency", NS)
    assert freq.text == "Every other Tuesday"
    assert freq.attrib == {"rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
                           "dtstart": "2026-01-06T09:00:00-05:00"}
    done = channel(update_frequency={"text": "Finished", "complete": True})
    assert done.find("podcast:updateFrequency", NS).attrib == {"complete": "true"}


@pytest.mark.parametrize("rrule", ["WEEKLY", "INTERVAL=2", "FREQ=WEEKLY;;", "FREQ WEEKLY"])
def test_update_frequency_refuses_a_rule_without_freq(rrule):
    with pytest.raises(ValueError, match="FREQ|RRULE"):
        feed_config(update_frequency={"text": "Weekly", "rrule": rrule})


def test_podroll_lists_each_show_as_a_remote_item():
    ch = channel(podroll=[{"feed_guid": FRIEND_GUID, "title": "A friend's show"},
                          {"feed_url": "https://feeds.example.net/other.xml"},
                          {"feed_guid": FRIEND_GUID, "feed_url": "https://f.example/x.xml"}])
    (roll,) = ch.findall("podcast:podroll", NS)
    assert [item.attrib for item in roll.findall("podcast:remoteItem", NS)] == [
        {"feedGuid": FRIEND_GUID},
        {"feedUrl": "https://feeds.example.net/other.xml"},
        {"feedGuid": FRIEND_GUID, "feedUrl": "https://f.example/x.xml"}]
    assert channel().find("podcast:podroll", NS) is None


def test_podroll_item_needs_a_guid_or_a_url():
    with pytest.raises(ValueError, match="feed_guid or feed_url"):
        feed_config(podroll=[{"title": "Nameless"}])
    with pytest.raises(ValueError, match="feed_guid"):
        feed_config(podroll=[{"feed_guid": "not-a-guid"}])


def test_previous_urls_and_new_feed_url_after_moves():
    old = ["https://old-host.example/feed.xml", "https://older.example/rss"]
    ch = channel(previous_urls=old, new_feed_url="https://new.example/feed.xml")
    assert [p.text for p in ch.findall("podcast:previousUrl", NS)] == old
    assert ch.find("itunes:new-feed-url", NS).text == "https://new.example/feed.xml"
    parsed = feedparser.parse(render(feed_config(previous_urls=old), episode("one", 1, NOW)))
    assert not parsed.bozo


def test_no_new_tags_without_their_keys():
    ch = channel()
    for tag in ("updateFrequency", "podroll", "previousUrl"):
        assert ch.find(f"podcast:{tag}", NS) is None
    assert ch.find("{http://www.w3.org/2005/Atom}link[@rel='hub']") is None


def test_bad_rrule_in_feed_file_is_one_line_naming_file_and_field(project):
    toml = project / "feeds/women-in-surgery.toml"
    toml.write_text(toml.read_text() + '\n[update_frequency]\ntext = "Weekly"\n'
                    'rrule = "BYDAY=TU"\n')
    proc = run(project, "feed", check=False)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert "women-in-surgery.toml" in line and "update_frequency.rrule" in line
    assert "FREQ" in line
