"""A show moved here looks the same to its subscribers: import a feed from a local "old host",
publish every episode, and read both feeds with the parsers podcast apps use."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from feedserver import FeedServer
from helpers import run
from importing import episodes_as_apps_read, mp3, serve_fixture

pytestmark = pytest.mark.e2e


def _audio_frames(data: bytes) -> bytes:
    """The MP3 without its ID3v2 tag: what listeners hear, bit for bit."""
    assert data[:3] == b"ID3"
    size = 10 + sum(b << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
    return data[size:]


@pytest.fixture
def imported(tmp_path: Path):
    with FeedServer() as server:
        url = serve_fixture(server, "full.xml")
        project = tmp_path / "show"
        project.mkdir()
        run(project, "import", url)
        yield project, server, url


def test_publishing_an_imported_show_keeps_guids_titles_dates_and_durations(imported):
    project, server, url = imported
    for folder in sorted((project / "episodes").iterdir()):
        run(project, "episode", folder.name)
    source = episodes_as_apps_read(server.host.files["/feed.xml"][0], url)
    ours = episodes_as_apps_read((project / "public" / "night-shift-stories.xml").read_bytes(), url)
    assert sorted(ours) == sorted(source)
    for guid, (title, published, duration) in source.items():
        assert ours[guid][:2] == (title, published)
        assert abs(ours[guid][2] - duration) <= 1
    feed = feedparser.parse((project / "public" / "night-shift-stories.xml").read_bytes()).feed
    assert feed.podcast_guid == "917393e3-1b1e-5cef-ace4-edaa54e1f810"


def test_imported_audio_is_published_bit_for_bit_only_retagged(imported):
    project, _, _ = imported
    run(project, "episode", "001-pilot-hello-welcome")
    published = next((project / "public" / "episodes" / "pilot-hello-welcome").glob("*.mp3"))
    assert _audio_frames(published.read_bytes()) == _audio_frames(mp3(3))


def test_validate_passes_after_publishing_and_names_a_guid_that_would_change(imported):
    project, _, _ = imported
    toml = project / "episodes" / "002-mailbag" / "episode.toml"
    toml.write_text(toml.read_text().replace('guid = "Buzzsprout-1002"\n', ""))
    run(project, "episode", "001-pilot-hello-welcome")
    run(project, "episode", "002-mailbag")
    proc = run(project, "validate", check=False)
    assert proc.returncode == 1
    assert "'Mailbag' was GUID 'Buzzsprout-1002' in the imported feed" in proc.stdout
    assert "'Mailbag' (GUID 'Buzzsprout-1003') of the imported feed is not in this feed" \
        in proc.stdout


def test_validate_is_clean_once_every_imported_episode_is_published(imported):
    project, _, _ = imported
    for folder in sorted((project / "episodes").iterdir()):
        run(project, "episode", folder.name)
    proc = run(project, "validate")
    assert "imported feed" not in proc.stdout
