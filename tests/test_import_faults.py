"""The old host misbehaves the way real hosts do: each fault injected by the local server,
and what the import does about it, counted in requests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from feedserver import Fault, FeedServer
from helpers import run
from importing import mp3, serve_fixture

from pipeline.importer.fetch import FetchError, Limits, download

FAST = Limits(timeout_s=5, attempts=3, backoff_s=0)
QUICK_RETRIES = {"PUBLISH_IMPORT_BACKOFF_S": "0", "PUBLISH_IMPORT_ATTEMPTS": "2"}


@pytest.fixture
def server():
    with FeedServer() as s:
        s.host.add("/a.mp3", mp3(3), "audio/mpeg")
        yield s


def _get(server: FeedServer, dest: Path, path: str = "/a.mp3", limits: Limits = FAST):
    return download(server.url(path), dest, limits, lambda n: None, audio=True)


def test_500_then_success_is_retried(server, tmp_path):
    server.host.fail("/a.mp3", Fault(status=500), Fault(status=503))
    got = _get(server, tmp_path / "a.mp3")
    assert (tmp_path / "a.mp3").read_bytes() == mp3(3) and got.bytes == len(mp3(3))
    assert server.host.requests["/a.mp3"] == 3


def test_404_is_not_retried(server, tmp_path):
    with pytest.raises(FetchError, match="HTTP 404"):
        _get(server, tmp_path / "b.mp3", "/missing.mp3")
    assert server.host.requests["/missing.mp3"] == 1


def test_slow_answer_times_out_and_is_tried_again(server, tmp_path):
    server.host.fail("/a.mp3", Fault(delay_s=2))
    _get(server, tmp_path / "a.mp3", limits=Limits(timeout_s=0.5, attempts=3, backoff_s=0))
    assert (tmp_path / "a.mp3").read_bytes() == mp3(3)
    assert server.host.requests["/a.mp3"] == 2


def test_truncated_body_resumes_with_a_range_request(server, tmp_path):
    server.host.fail("/a.mp3", Fault(cut_at=5000))
    got = _get(server, tmp_path / "a.mp3")
    assert (tmp_path / "a.mp3").read_bytes() == mp3(3)
    assert server.host.ranges == [("/a.mp3", "bytes=5000-")]
    assert got.sha256 and not (tmp_path / "a.mp3.part").exists()


def test_redirect_is_followed_and_keeps_the_range(server, tmp_path):
    server.host.fail("/old.mp3", Fault(location="/a.mp3"), Fault(location="/a.mp3"))
    server.host.fail("/a.mp3", Fault(cut_at=100))
    _get(server, tmp_path / "a.mp3", "/old.mp3")
    assert (tmp_path / "a.mp3").read_bytes() == mp3(3)
    assert server.host.ranges == [("/old.mp3", "bytes=100-"), ("/a.mp3", "bytes=100-")]


def test_a_web_page_instead_of_audio_is_refused(server, tmp_path):
    server.host.add("/page.mp3", b"<html>parked domain</html>", "text/html")
    with pytest.raises(FetchError, match="not audio"):
        _get(server, tmp_path / "p.mp3", "/page.mp3")
    assert not (tmp_path / "p.mp3").exists()


def test_retries_spent_is_one_error_naming_the_url(server, tmp_path):
    server.host.fail("/a.mp3", *[Fault(status=502)] * 3)
    with pytest.raises(FetchError, match=r"/a.mp3: gave up after 3 tries: HTTP 502"):
        _get(server, tmp_path / "a.mp3")


@pytest.mark.e2e
def test_missing_enclosure_is_reported_and_the_rest_imported(tmp_path):
    with FeedServer() as server:
        url = serve_fixture(server, "libsyn.xml")
        proc = run(tmp_path, "import", url, env=QUICK_RETRIES)
    assert "Long one: " in proc.stdout and "HTTP 404" in proc.stdout
    assert sorted(p.name for p in (tmp_path / "episodes").iterdir()) == ["001-entropie-cafe"]
    assert not (tmp_path / ".import").exists() or not any((tmp_path / ".import").rglob("*.toml"))


@pytest.mark.e2e
def test_interrupted_import_resumes_without_downloading_finished_files_again(tmp_path):
    with FeedServer() as server:
        url = serve_fixture(server, "full.xml")
        # The first run loses its connection twice in episode 2 and gives it up...
        server.host.fail("/audio/ep2.mp3", Fault(cut_at=3000), Fault(cut_at=0))
        first = run(tmp_path, "import", url, env=QUICK_RETRIES)
        assert "gave up after 2 tries" in first.stdout
        assert not (tmp_path / "episodes" / "002-mailbag").exists()  # never half-written
        assert (tmp_path / "episodes" / "001-pilot-hello-welcome" / "audio.mp3").exists()
        # ...the second finishes it from byte 3000 and asks for nothing it already has.
        run(tmp_path, "import", url, env=QUICK_RETRIES)
        requests, ranges = dict(server.host.requests), list(server.host.ranges)
    assert requests["/audio/ep1.mp3"] == 1 and requests["/audio/ep3.mp3"] == 1
    assert ranges[-1] == ("/audio/ep2.mp3", "bytes=3000-")
    assert (tmp_path / "episodes" / "002-mailbag" / "audio.mp3").read_bytes() == mp3(4)
    assert not (tmp_path / ".import").exists()


@pytest.mark.e2e
def test_no_audio_writes_folders_and_a_later_run_adds_the_audio_keeping_feed_edits(tmp_path):
    with FeedServer() as server:
        url = serve_fixture(server, "anchor.xml")
        proc = run(tmp_path, "import", url, "--no-audio", "--name", "garden")
        assert "no audio downloaded" in proc.stdout
        assert server.host.requests["/audio/ep1.mp3"] == 0
        assert (tmp_path / "episodes" / "002-compost" / "episode.toml").exists()
        feed = tmp_path / "feeds" / "garden.toml"
        feed.write_text(feed.read_text().replace("media.example.com", "cdn.garden.example"))
        run(tmp_path, "import", url, "--name", "garden")
        assert server.host.requests["/audio/ep1.mp3"] == 1
    assert (tmp_path / "episodes" / "002-compost" / "audio.mp3").read_bytes() == mp3(4.2)
    assert "cdn.garden.example" in feed.read_text()  # the producer's edit survives a re-run


@pytest.mark.e2e
def test_bad_source_is_one_line_and_no_traceback(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<html><p>Moved</html>")
    for source in (str(page), str(tmp_path / "nothing.xml")):
        proc = run(tmp_path, "import", source, check=False)
        assert proc.returncode == 1
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.e2e
def test_a_side_file_our_checks_refuse_is_dropped_with_a_note_not_the_episode(tmp_path):
    with FeedServer() as server:
        url = serve_fixture(server, "full.xml")
        server.host.add("/tx/ep2.srt", b"1\n00:00:02,000 --> 00:00:01,000\nBackwards.\n",
                        "application/srt")
        server.host.fail("/ch/ep2.json", Fault(status=404))
        proc = run(tmp_path, "import", url, "--json")
    row = next(r for r in json.loads(proc.stdout)["episodes"] if r["folder"] == "002-mailbag")
    kept = [n.split(":")[0] for n in row["notes"] if "not kept" in n]
    assert kept == ["chapters_file not kept", "transcript not kept"]
    toml = (tmp_path / "episodes" / "002-mailbag" / "episode.toml").read_text()
    assert "transcript" not in toml and "chapters_file" not in toml
    assert not (tmp_path / "episodes" / "002-mailbag" / "transcript.srt").exists()


@pytest.mark.e2e
def test_a_rerun_after_the_old_feed_changed_keeps_folders_by_guid(tmp_path):
    with FeedServer() as server:
        url = serve_fixture(server, "anchor.xml")
        run(tmp_path, "import", url, "--no-audio")
        # The old host retitles an episode and publishes a new one with a clashing title.
        feed = server.host.files["/feed.xml"][0].replace(b"<![CDATA[Tomatoes]]>",
                                                         b"Tomatoes, revisited")
        feed = feed.replace(b"<title>Announcement</title>", b"<title>Compost</title>")
        feed = feed.replace(b"<description>No audio this week.</description>",
                            b'<enclosure url="/audio/ep1.mp3" length="0" type="audio/mpeg"/>')
        server.host.add("/feed.xml", feed, "application/rss+xml")
        run(tmp_path, "import", url, "--no-audio")
    assert sorted(p.name for p in (tmp_path / "episodes").iterdir()) == [
        "001-tomatoes", "002-compost", "003-compost-2"]
