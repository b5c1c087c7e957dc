"""Feed identity: a GUID a feed listed stays listed under the same GUID, unless the producer
removed it on purpose; a changed enclosure URL is worth a warning.

Pure cases first (history and check as functions of config, manifest and time), then the
`publish validate` command on a published demo whose manifest or config is tampered with.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import run, run_json, set_key
from test_feed_render import BASE, NOW, episode, feed_config, render, stored

from pipeline.checks.identity import check_identity
from pipeline.feed.history import with_listed
from pipeline.manifest import EpisodeRecord, Manifest, parse_manifest

DAY = timedelta(days=1)
WHERE = "file:///store/manifest.json"


def catalogue(*episodes: EpisodeRecord) -> Manifest:
    return Manifest(episodes={e.slug: e for e in episodes})


def problems(feed, before: Manifest, after: Manifest, now=NOW,
             published_by=None) -> list[str]:
    """What validate says about `after` once `before` was published by `published_by`
    (default: the same feed config)."""
    history = with_listed(before, [published_by or feed], now - DAY).history
    state = after.model_copy(update={"history": history})
    return [f"{p.level}: {p.where}: {p.message}"
            for p in check_identity(feed, state, now, WHERE, {})]


A = episode("a", 1, NOW - 10 * DAY)
B = episode("b", 2, NOW - 5 * DAY)


# --- the history ---------------------------------------------------------------------------

def test_history_lists_what_the_feed_lists_and_keeps_it():
    feed = feed_config()
    first = with_listed(catalogue(A, B), [feed], NOW - DAY)
    item = first.history["show"]["guid-a"]
    assert (item.slug, item.title, item.first_listed) == ("a", "Episode 1", NOW - DAY)
    assert item.enclosures == [f"{BASE}/episodes/a/a.mp3"]
    # Later commits keep the first moment, add new URLs, and never drop what left the feed.
    remastered = A.model_copy(update={"audio": A.audio.model_copy(
        update={"key": "episodes/a/a-new.mp3"})})
    later = with_listed(first.model_copy(update={"episodes": {"a": remastered}}), [feed], NOW)
    assert later.history["show"]["guid-a"].first_listed == NOW - DAY
    assert later.history["show"]["guid-a"].enclosures == [
        f"{BASE}/episodes/a/a.mp3", f"{BASE}/episodes/a/a-new.mp3"]
    assert "guid-b" in later.history["show"]
    assert with_listed(later, [feed], NOW) == later  # idempotent: a commit may re-apply it


def test_history_skips_what_the_feed_does_not_list():
    scheduled = episode("c", 3, NOW + DAY)
    state = with_listed(catalogue(A, B, scheduled), [feed_config(max_items=1)], NOW)
    assert list(state.history["show"]) == ["guid-b"]


def test_a_manifest_from_before_the_history_loads_and_starts_one():
    old = json.loads(catalogue(A).to_bytes())
    del old["history"]
    loaded = parse_manifest(json.dumps(old).encode(), WHERE)
    assert loaded.history == {}
    assert check_identity(feed_config(), loaded, NOW, WHERE, {}) == []
    assert list(with_listed(loaded, [feed_config()], NOW).history["show"]) == ["guid-a"]


# --- the check -------------------------------------------------------------------------------

def test_unchanged_feed_passes():
    assert problems(feed_config(), catalogue(A, B), catalogue(A, B)) == []


def test_a_missing_guid_is_an_error_naming_it_and_how_to_acknowledge():
    feed = feed_config()
    (msg,) = problems(feed, catalogue(A, B), catalogue(B))
    assert msg.startswith(f"error: {feed.path}: removed_guids: GUID guid-a ('Episode 1', "
                          "slug 'a') was in this feed and is gone from the manifest")
    assert 'add "guid-a" to removed_guids' in msg


def test_a_changed_guid_is_an_error():
    (msg,) = problems(feed_config(), catalogue(A), catalogue(A.model_copy(
        update={"guid": "guid-x"})))
    assert msg.startswith(f"error: {WHERE}: episodes.a.guid: 'Episode 1' (slug 'a') was GUID "
                          "guid-a in this feed and is now guid-x")


def test_a_guid_removed_on_purpose_passes_and_leaves_the_feed():
    feed = feed_config(removed_guids=["guid-a"])
    assert problems(feed, catalogue(A, B), catalogue(B)) == []
    assert problems(feed, catalogue(A, B), catalogue(A, B)) == []
    xml = render(feed, A, B).decode()
    assert "guid-b" in xml and "guid-a" not in xml


def test_a_renamed_folder_keeps_its_guid_and_passes():
    renamed = A.model_copy(update={"slug": "a-better-name"})
    assert problems(feed_config(), catalogue(A, B), catalogue(renamed, B)) == []


def test_episodes_past_max_items_are_not_missing():
    newest_two = feed_config(max_items=2)
    assert problems(newest_two, catalogue(A, B),
                    catalogue(A, B, episode("c", 3, NOW - DAY))) == []
    assert problems(feed_config(max_items=1), catalogue(A, B), catalogue(A, B),
                    published_by=feed_config()) == []


def test_episodes_a_new_filter_leaves_out_are_not_missing():
    second = B.model_copy(update={"season": 2})
    assert problems(feed_config(filter={"seasons": [1]}), catalogue(A, second),
                    catalogue(A, second), published_by=feed_config()) == []


def test_an_episode_scheduled_again_is_a_warning():
    later = B.model_copy(update={"published": NOW + DAY})
    (msg,) = problems(feed_config(), catalogue(A, B), catalogue(A, later))
    assert msg.startswith("warning: ") and "'Episode 2' (GUID guid-b) was in the feed and " \
        "is now scheduled for later" in msg


def test_a_new_base_url_is_a_warning_saying_so():
    (_, msg) = problems(feed_config(base_url="https://new.example.net"), catalogue(A, B),
                        catalogue(A, B), published_by=feed_config())
    assert msg.startswith("warning: ")
    assert (f"the enclosure URL changes from {BASE}/episodes/a/a.mp3 to "
            "https://new.example.net/episodes/a/a.mp3; some apps download the episode again "
            "(base_url changed") in msg


def test_a_remastered_episode_is_a_warning_saying_it_is_expected():
    remastered = A.model_copy(update={"audio": A.audio.model_copy(
        update={"key": "episodes/a/a-new.mp3"})})
    (msg,) = problems(feed_config(), catalogue(A), catalogue(remastered))
    assert "changes from" in msg and "expected after a re-master" in msg


# --- publish validate, end to end --------------------------------------------------------------

def _edit_manifest(show: Path, change) -> dict:
    path = show / "public/manifest.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return data


def _guid(show: Path) -> str:
    return json.loads((show / "public/manifest.json").read_text())["episodes"]["welcome"]["guid"]


@pytest.mark.e2e
def test_validate_passes_on_the_published_demo(show):
    assert run_json(show, "validate") == {"feed": "women-in-surgery", "errors": [],
                                          "warnings": []}


@pytest.mark.e2e
def test_validate_fails_when_a_published_record_is_dropped(show):
    guid = _guid(show)
    _edit_manifest(show, lambda m: m["episodes"].clear())
    run(show, "feed")  # the rebuilt feed no longer lists it; the history still does
    proc = run(show, "validate", check=False)
    assert proc.returncode == 1
    assert (f"women-in-surgery.toml: removed_guids: GUID {guid} ('Welcome to Women in "
            "Surgery', slug 'welcome') was in this feed and is gone") in proc.stdout
    # Acknowledged as a deliberate removal, it passes.
    set_key(show / "feeds/women-in-surgery.toml", "removed_guids", f'["{guid}"]')
    assert run_json(show, "validate")["errors"] == []


@pytest.mark.e2e
def test_validate_fails_when_a_guid_changes(show):
    guid = _guid(show)
    _edit_manifest(show, lambda m: m["episodes"]["welcome"].update(guid="another-guid"))
    proc = run(show, "validate", "--json", check=False)
    assert proc.returncode == 1
    (err,) = json.loads(proc.stdout)["errors"]
    assert err["where"].endswith("manifest.json: episodes.welcome.guid")
    assert f"was GUID {guid} in this feed and is now another-guid" in err["message"]


@pytest.mark.e2e
def test_validate_warns_when_base_url_moves(show):
    set_key(show / "feeds/women-in-surgery.toml", "base_url", '"https://cdn.example.net/wis"')
    r = run_json(show, "validate")
    assert r["errors"] == []
    (warn,) = r["warnings"]
    assert warn["where"].endswith("001-welcome/episode.toml")
    assert "https://cdn.example.net/wis/episodes/welcome/welcome-" in warn["message"]
    assert "(base_url changed" in warn["message"]


@pytest.mark.e2e
def test_removed_guid_leaves_feed_and_site(show):
    guid = _guid(show)
    set_key(show / "feeds/women-in-surgery.toml", "removed_guids", f'["{guid}"]')
    run(show, "feed")
    assert guid not in (show / "public/women-in-surgery.xml").read_text()
    assert "welcome.html" not in (show / "public/index.html").read_text()
    assert run_json(show, "validate")["errors"] == []
