"""The website as the publishing commands write it: beside the feed, in the same ordered
commit, from storage alone, each object with the Content-Type and Cache-Control it needs."""

from __future__ import annotations

import re
import shutil

import boto3
from conftest import new_bucket
from helpers import run_json, set_key, tree

from pipeline.project.config import CacheSettings

BASE = "https://media.example.org/women-in-surgery"


def _position(actions: list[str], pattern: str) -> list[int]:
    return [i for i, a in enumerate(actions) if re.match(pattern, a)]


def test_publish_episode_writes_the_site_beside_the_feed_after_the_media(project):
    r = run_json(project, "episode", "1")
    public = project / "public"
    for key in ("index.html", "episodes/welcome.html", "embed/welcome.html", "404.html",
                "sitemap.xml", "robots.txt"):
        assert (public / key).is_file(), key
    assert r["site"] == {"url": f"{BASE}/index.html",
                         "location": (public / "index.html").as_uri(), "pages_written": 6,
                         "pages_deleted": []}
    page = (public / "episodes/welcome.html").read_text(encoding="utf-8")
    assert r["audio"]["url"] in page and "Mentorship in residency" in page
    # One commit, one order: media, manifest, assets, pages, feed.
    actions = r["actions"]
    media = _position(actions, r"upload ")
    manifest = _position(actions, r"write manifest\.json")
    assets = _position(actions, r"write assets/")
    pages = _position(actions, r"write (?!assets/|manifest\.json|women-in-surgery\.xml)")
    feed = _position(actions, r"write women-in-surgery\.xml")
    assert max(media) < min(manifest) and max(manifest) < min(assets)
    assert max(assets) < min(pages) and max(pages) < min(feed)


def test_an_unchanged_rebuild_writes_no_page(project):
    run_json(project, "episode", "1")
    before = tree(project / "public")
    r = run_json(project, "feed")
    assert r["site"]["pages_written"] == 0 and r["uploaded_bytes"] == 0
    assert tree(project / "public") == before


def test_scheduled_episode_reaches_site_and_feed_at_one_rebuild_from_storage_alone(
        project, episode_toml):
    set_key(episode_toml, "published", "2030-01-07T09:00:00-05:00")
    r = run_json(project, "episode", "1")
    public = project / "public"
    assert not (public / "episodes/welcome.html").exists()
    assert "welcome" not in (public / "index.html").read_text(encoding="utf-8")
    shutil.rmtree(project / "episodes")  # as in CI: the manifest and storage, no audio
    before = run_json(project, "feed", "--as-of", "2030-01-07T08:59:00-05:00")
    assert before["site"]["pages_written"] == 0
    after = run_json(project, "feed", "--as-of", "2030-01-07T09:00:00-05:00")
    assert after["feeds"][0]["changed"] and after["site"]["pages_written"] > 0
    page = (public / "episodes/welcome.html").read_text(encoding="utf-8")
    assert "Find your people early." in page  # the transcript, read back from storage
    assert r["audio"]["url"] in page
    assert b"<title>Welcome to Women in Surgery</title>" in (
        public / "women-in-surgery.xml").read_bytes()


def test_a_dry_run_lists_the_pages_and_writes_none(project):
    r = run_json(project, "feed", "--dry-run")
    assert "write index.html" in " ".join(r["actions"])
    assert tree(project / "public") == {}


def test_the_site_can_be_turned_off(project):
    feed = project / "feeds/women-in-surgery.toml"
    feed.write_text(feed.read_text(encoding="utf-8") + "\n[site]\nenabled = false\n",
                    encoding="utf-8")
    r = run_json(project, "feed")
    assert r["site"] is None and not (project / "public/index.html").exists()


def test_assets_are_cached_as_immutable_and_pages_briefly_on_s3(project, s3_server, aws_env):
    aws_env(s3_server.endpoint)
    bucket = new_bucket(s3_server.endpoint)
    run_json(project, "feed", "--storage", f"s3://{bucket}/show")
    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint)
    head = lambda key: s3.head_object(Bucket=bucket, Key=f"show/{key}")
    listed = [o["Key"].removeprefix("show/")
              for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    cache = CacheSettings()
    types = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
    assets = [k for k in listed if k.startswith("assets/")]
    assert sorted(k.rsplit(".", 1)[1] for k in assets) == ["css", "js", "svg"]
    for key in assets:
        assert head(key)["CacheControl"] == f"public, max-age={cache.media_s}, immutable"
        assert head(key)["ContentType"] == types["." + key.rsplit(".", 1)[1]]
    for key, kind in (("index.html", "text/html"), ("404.html", "text/html"),
                      ("sitemap.xml", "application/xml"),
                      ("robots.txt", "text/plain; charset=utf-8")):
        assert (head(key)["ContentType"], head(key)["CacheControl"]) == (
            kind, f"public, max-age={cache.feed_s}"), key
