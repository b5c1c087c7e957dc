"""Pages the site no longer has leave storage: an unpublished (removed_guids) or rescheduled
episode's pages and the pages of a shorter episode list, on the local folder and on S3 servers,
after the new pages and the feed are in; media and every other object stay."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

import boto3
import imageio_ffmpeg
import pytest
from helpers import PUBLISH, copy_project, run, run_json, set_key
from sitecase import NOW, episode, site, transcript_file

from pipeline.serve import make_server
from pipeline.session import Session
from pipeline.site.stale import PAGE_FOLDERS, is_page, stale_pages
from pipeline.storage import open_storage
from pipeline.storage.local import LocalStorage
from pipeline.storage.s3 import S3Storage

FEED = "feeds/women-in-surgery.toml"
WELCOME_PAGES = ["embed/welcome.html", "episodes/welcome.html"]
# Objects a producer keeps beside the site, in its folders and out of them: never the site's.
UNRELATED = {"page/about.html": b"<p>about</p>", "embed/player.js": b"//",
             "episodes/welcome/notes.html": b"<p>notes</p>", "extra/episodes.html": b"x"}
SECOND = """\
title = "A second episode"
number = 2
season = 1
published = 2026-11-21T09:00:00-05:00
audio = "recording.wav"
"""


def test_only_the_sites_own_pages_are_ever_stale():
    stored = ["episodes/gone.html", "episodes/gone/transcript.html", "embed/gone.html",
              "page/3.html", "episodes/kept.html", "index.html", "404.html", "manifest.json",
              "women-in-surgery.xml", "assets/site-0123456789ab.css",
              "episodes/gone/gone-0123456789ab.mp3", "episodes/gone/gone-0123456789ab.json",
              *UNRELATED]
    assert stale_pages(stored, {"episodes/kept.html", "index.html", "404.html"}) == [
        "embed/gone.html", "episodes/gone.html", "episodes/gone/transcript.html", "page/3.html"]


def test_every_page_the_site_writes_in_the_page_folders_is_known_as_a_page():
    """The pattern and the renderer cannot drift apart: a page it missed would never go."""
    tr = transcript_file("one")
    long_talk = b'{"version": "1.0.0", "segments": [' + b",".join(
        b'{"startTime": %d, "endTime": %d, "body": "%s"}' % (n * 5, n * 5 + 4, b"word " * 40)
        for n in range(600)) + b"]}"
    s = site(episode("one", 1, NOW), episode("two", 2, NOW, transcripts=[tr]),
             episode("three", 3, NOW), episodes_per_page=1,
             transcripts={tr["key"]: long_talk})
    in_folders = [k for k in s.pages if k.split("/")[0] in PAGE_FOLDERS]
    assert "episodes/two/transcript.html" in in_folders and "page/3.html" in in_folders
    assert all(is_page(k) for k in in_folders)
    assert not any(is_page(k) for k in [*s.pages.keys() - set(in_folders), *s.assets])


@pytest.fixture(params=["local", pytest.param("moto", marks=pytest.mark.s3),
                        pytest.param("rclone", marks=pytest.mark.s3)])
def storage(request, tmp_path, aws_env):
    if request.param == "local":
        return LocalStorage(tmp_path / "public")
    server = request.getfixturevalue("s3_server" if request.param == "moto" else "rclone_server")
    aws_env(server.endpoint)
    from conftest import new_bucket

    return S3Storage.from_uri(f"s3://{new_bucket(server.endpoint)}/show")


def test_storage_lists_a_folder_at_any_depth_and_deletes(storage):
    for key in ("episodes/a.html", "episodes/a/a-0123.mp3", "embed/a.html", "index.html"):
        storage.put_bytes(key, key.encode(), content_type="text/html", cache_control="no-store")
    assert sorted(storage.keys("episodes")) == ["episodes/a.html", "episodes/a/a-0123.mp3"]
    assert list(storage.keys("page")) == []
    storage.delete("episodes/a.html")
    storage.delete("episodes/never.html")  # already gone: no error
    assert storage.get_bytes("episodes/a.html") is None
    assert sorted(storage.keys("episodes")) == ["episodes/a/a-0123.mp3"]
    assert storage.get_bytes("index.html") == b"index.html"


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """The demo show with a second, 4-second episode, one episode to a page of the list."""
    project = copy_project(tmp_path_factory.mktemp("stale") / "show")
    folder = project / "episodes" / "002-second"
    folder.mkdir()
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "sine=frequency=220:sample_rate=44100:duration=4", "-ac", "2",
                    str(folder / "recording.wav")], check=True)
    (folder / "episode.toml").write_text(SECOND, encoding="utf-8")
    _append(project, "\n[site]\nepisodes_per_page = 1\n")
    run_json(project, "episode", "--all")
    for key, data in UNRELATED.items():
        (project / "public" / key).parent.mkdir(parents=True, exist_ok=True)
        (project / "public" / key).write_bytes(data)
    return project


@pytest.fixture
def show(published, tmp_path) -> Path:
    return Path(shutil.copytree(published, tmp_path / "show"))


def _append(project: Path, text: str) -> None:
    feed = project / FEED
    feed.write_text(feed.read_text(encoding="utf-8") + text, encoding="utf-8")


def _remove(project: Path, slug: str) -> str:
    """Unpublish an episode the documented way: its GUID in the feed's removed_guids."""
    manifest = json.loads((project / "public/manifest.json").read_text(encoding="utf-8"))
    guid = manifest["episodes"][slug]["guid"]
    set_key(project / FEED, "removed_guids", f'["{guid}"]')
    return guid


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")}


def _status(project: Path, path: str) -> int:
    server = make_server(Session.open(project, None, None, datetime.now(UTC)), "127.0.0.1", 0,
                         None)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        conn = http.client.HTTPConnection(*server.server_address[:2])
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
        return status
    finally:
        server.shutdown()
        server.server_close()


def test_removed_guid_takes_the_pages_out_of_storage_and_nothing_else(show):
    public = show / "public"
    before = _files(public)
    assert _status(show, "/episodes/welcome.html") == 200
    _remove(show, "welcome")
    r = run_json(show, "feed")
    assert r["site"]["pages_deleted"] == [*WELCOME_PAGES, "page/2.html"]
    after = _files(public)
    # One episode left: the list is one page again.
    assert set(before) - set(after) == {*WELCOME_PAGES, "page/2.html"}
    assert all(after[k] == v for k, v in before.items() if k.endswith((".mp3", ".json", ".vtt",
                                                                       ".srt", ".jpg", ".png")))
    assert all(after[k] == v for k, v in UNRELATED.items())
    assert b"welcome" not in after["index.html"] + after["sitemap.xml"]
    assert _status(show, "/episodes/welcome.html") == 404
    assert _status(show, "/embed/welcome.html") == 404
    assert _status(show, "/episodes/second.html") == 200


def test_an_episode_scheduled_again_for_later_loses_its_pages(show):
    set_key(show / "episodes/001-welcome/episode.toml", "published",
            "2030-01-07T09:00:00-05:00")
    r = run_json(show, "episode", "1")
    assert sorted(r["site"]["pages_deleted"]) == sorted([*WELCOME_PAGES, "page/2.html"])
    assert not any((show / "public" / k).exists() for k in WELCOME_PAGES)
    assert (show / "public/episodes/second.html").is_file()


def test_a_shorter_episode_list_loses_its_last_pages(show):
    assert (show / "public/page/2.html").is_file()
    set_key(show / FEED, "episodes_per_page", "20")  # the [site] table's key, last in the file
    r = run_json(show, "feed")
    assert r["site"]["pages_deleted"] == ["page/2.html"]
    assert not (show / "public/page/2.html").exists()
    assert (show / "public/episodes/welcome.html").is_file()
    assert (show / "public/page/about.html").read_bytes() == UNRELATED["page/about.html"]


def test_a_dry_run_names_the_pages_and_deletes_none(show):
    _remove(show, "welcome")
    before = _files(show / "public")
    r = run_json(show, "feed", "--dry-run")
    gone = [*WELCOME_PAGES, "page/2.html"]
    assert r["site"]["pages_deleted"] == gone
    assert [a for a in r["actions"] if a.startswith("delete ")] == [f"delete {k}" for k in gone]
    assert _files(show / "public") == before
    text = run(show, "feed", "--dry-run").stdout
    assert "would delete episodes/welcome.html" in text


def test_a_crash_before_the_deletion_leaves_a_stale_page_never_a_broken_link(show):
    guid = _remove(show, "welcome")
    proc = subprocess.run([*PUBLISH, "-C", str(show), "feed"], capture_output=True, text=True,
                          env={**os.environ, "PUBLISH_CRASH_AT": "before-delete:page"},
                          timeout=600, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    public = show / "public"
    # The feed, index and sitemap no longer name it; its page is still there, unlinked.
    assert guid.encode() not in (public / "women-in-surgery.xml").read_bytes()
    for key in ("index.html", "sitemap.xml", "episodes/second.html"):
        assert b"welcome.html" not in (public / key).read_bytes(), key
    assert (public / "episodes/welcome.html").is_file()
    r = run_json(show, "feed")
    assert r["site"]["pages_deleted"] == [*WELCOME_PAGES, "page/2.html"]
    assert not (public / "episodes/welcome.html").exists()


def _upload_tree(folder: Path, target: str) -> None:
    """A bucket holding what the local run published, each object as publish stores it."""
    storage = open_storage(target, folder)
    for key, data in _files(folder).items():
        storage.put_bytes(key, data, content_type="application/octet-stream",
                          cache_control="no-store")


def _bucket_keys(endpoint: str, bucket: str) -> dict[str, bytes]:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="show/")
    return {o["Key"].removeprefix("show/"): s3.get_object(Bucket=bucket, Key=o["Key"])[
        "Body"].read() for page in pages for o in page.get("Contents", [])}


@pytest.mark.s3
def test_removed_guid_deletes_the_pages_from_an_s3_bucket(show, any_server, any_bucket):
    target = f"s3://{any_bucket}/show"
    _upload_tree(show / "public", target)
    before = _bucket_keys(any_server.endpoint, any_bucket)
    _remove(show, "welcome")
    r = run_json(show, "feed", "--storage", target)
    assert r["site"]["pages_deleted"] == [*WELCOME_PAGES, "page/2.html"]
    after = _bucket_keys(any_server.endpoint, any_bucket)
    assert set(before) - set(after) == {*WELCOME_PAGES, "page/2.html"}
    assert all(after[k] == before[k] for k in before if k.startswith(("episodes/welcome/",
                                                                     "artwork/")))
    assert all(after[k] == v for k, v in UNRELATED.items())
    assert not any(k.startswith(".publish-locks/") for k in after)
