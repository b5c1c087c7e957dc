"""`publish episode` into an S3 bucket on a real (loopback) S3 server, read back with boto3."""

from __future__ import annotations

import hashlib
import io

import boto3
import feedparser
import podcastparser
from conftest import new_bucket
from faultproxy import FaultProxy
from helpers import run, run_json, set_key

from pipeline.project.config import CacheSettings

PREFIX = "women-in-surgery"
FEED_KEY = f"{PREFIX}/women-in-surgery.xml"
MANIFEST_KEY = f"{PREFIX}/manifest.json"


def objects(endpoint: str, bucket: str) -> dict[str, dict]:
    """Every object of the bucket: its bytes and the headers a CDN would pass on."""
    s3 = boto3.client("s3", endpoint_url=endpoint)
    found = {}
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        obj = s3.get_object(Bucket=bucket, Key=item["Key"])
        found[item["Key"]] = {"body": obj["Body"].read(), "type": obj["ContentType"],
                              "cache": obj["CacheControl"], "meta": obj["Metadata"]}
    return found


def test_episode_published_to_s3_reads_back_in_podcast_parsers(project, s3_server, aws_env):
    aws_env(s3_server.endpoint)
    bucket = new_bucket(s3_server.endpoint)
    r = run_json(project, "episode", "1", "--storage", f"s3://{bucket}/{PREFIX}")
    stored = objects(s3_server.endpoint, bucket)

    mp3_key = r["audio"]["location"].removeprefix(f"s3://{bucket}/")
    mp3 = stored[mp3_key]
    assert r["audio"]["location"].startswith(f"s3://{bucket}/{PREFIX}/episodes/")
    assert hashlib.sha256(mp3["body"]).hexdigest() == r["audio"]["sha256"]
    assert len(mp3["body"]) == r["audio"]["bytes"]
    assert mp3["body"][:3] == b"ID3"
    assert (mp3["type"], mp3["cache"]) == (
        "audio/mpeg", f"public, max-age={CacheSettings().media_s}, immutable")
    feed, manifest = stored[FEED_KEY], stored[MANIFEST_KEY]
    assert (feed["type"], feed["cache"]) == (
        "application/rss+xml", f"public, max-age={CacheSettings().feed_s}")
    assert manifest["type"] == "application/json"
    for key, obj in stored.items():
        assert obj["meta"]["sha256"] == hashlib.sha256(obj["body"]).hexdigest(), key
    assert r["uploaded_bytes"] == sum(len(o["body"]) for o in stored.values())

    parsed = feedparser.parse(feed["body"])
    assert not parsed.bozo
    [entry] = parsed.entries
    assert entry.enclosures[0].href == r["audio"]["url"]
    assert int(entry.enclosures[0].length) == r["audio"]["bytes"]
    show = podcastparser.parse(r["feeds"][0]["url"], io.BytesIO(feed["body"]))
    [episode] = show["episodes"]
    assert episode["guid"] == r["guid"]
    assert episode["enclosures"][0]["url"] == r["audio"]["url"]
    assert episode["enclosures"][0]["mime_type"] == "audio/mpeg"

    again = run_json(project, "episode", "1", "--storage", f"s3://{bucket}/{PREFIX}")
    assert again["uploaded_bytes"] == 0
    assert objects(s3_server.endpoint, bucket) == stored


def test_endpoint_lost_mid_upload_keeps_the_old_feed_and_a_rerun_finishes(
        project, episode_toml, s3_server, aws_env):
    with FaultProxy(s3_server.port) as proxy:
        aws_env(proxy.endpoint)
        bucket = new_bucket(s3_server.endpoint)
        target = f"s3://{bucket}/{PREFIX}"
        run_json(project, "episode", "1", "--storage", target)
        before = objects(s3_server.endpoint, bucket)

        # A new title means a re-tagged MP3 under a new key: the endpoint vanishes as it uploads.
        set_key(episode_toml, "title", '"Welcome back, surgeons"')
        proxy.cut_when = lambda head: head.split(b"\r\n")[0].startswith(b"PUT ") and \
            b".mp3" in head.split(b"\r\n")[0]
        failed = run(project, "episode", "1", "--storage", target, check=False,
                     env={"AWS_MAX_ATTEMPTS": "2"})
        assert failed.returncode != 0
        assert failed.stderr.startswith(f"publish: error: {target}/episodes/")
        assert len(failed.stderr.strip().splitlines()) == 1
        assert proxy.faults["drop"] > 0
        after_failure = objects(s3_server.endpoint, bucket)
        assert after_failure[FEED_KEY] == before[FEED_KEY]
        assert after_failure[MANIFEST_KEY] == before[MANIFEST_KEY]

        proxy.cut_when, proxy.cut = None, False
        rerun = run_json(project, "episode", "1", "--storage", target)
    assert rerun["retagged"] is True
    feed = objects(s3_server.endpoint, bucket)[FEED_KEY]["body"]
    assert feedparser.parse(feed).entries[0].title == "Welcome back, surgeons"
    assert feed != before[FEED_KEY]["body"]


def test_validate_reads_no_audio_unless_deep(project, s3_server, aws_env):
    """CI runs `publish validate` on every push: it must not download the catalogue. The
    durations come from the manifest and HEAD answers for size and sha256; `--deep` still
    downloads and measures every MP3."""
    aws_env(s3_server.endpoint)
    bucket = new_bucket(s3_server.endpoint)
    target = f"s3://{bucket}/{PREFIX}"
    mp3 = run_json(project, "episode", "1", "--storage", target)["audio"]
    mp3_path = mp3["location"].removeprefix(f"s3://{bucket}")

    def mp3_gets(proxy: FaultProxy) -> list[bytes]:
        return [h for h in proxy.requests("GET") if mp3_path.encode() in h.split(b"\r\n")[0]]

    for flags, wanted in (((), 0), (("--deep",), 1)):
        with FaultProxy(s3_server.port) as proxy:
            aws_env(proxy.endpoint)
            report = run_json(project, "validate", "--storage", target, *flags)
        assert report["errors"] == [], report
        assert len(mp3_gets(proxy)) == wanted, flags


def test_validate_finds_a_damaged_mp3_without_downloading_it(project, s3_server, aws_env):
    aws_env(s3_server.endpoint)
    bucket = new_bucket(s3_server.endpoint)
    target = f"s3://{bucket}/{PREFIX}"
    mp3 = run_json(project, "episode", "1", "--storage", target)["audio"]
    key = mp3["location"].removeprefix(f"s3://{bucket}/")
    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint)
    s3.put_object(Bucket=bucket, Key=key, Body=b"\0" * mp3["bytes"],
                  Metadata={"sha256": hashlib.sha256(b"\0" * mp3["bytes"]).hexdigest()})
    proc = run(project, "validate", "--storage", target, check=False)
    assert proc.returncode == 1
    assert "sha256" in proc.stdout and "publish episode" in proc.stdout


def test_damaged_or_missing_mp3_is_mastered_again_from_the_recording(project, episode_toml,
                                                                      s3_server, aws_env):
    """The audio fingerprint still matches, but the stored MP3 is gone or its bytes differ:
    a re-run must not fail forever, nor re-tag damaged bytes; it masters the recording again."""
    aws_env(s3_server.endpoint)
    bucket = new_bucket(s3_server.endpoint)
    target = f"s3://{bucket}/{PREFIX}"
    first = run_json(project, "episode", "1", "--storage", target)["audio"]
    key = first["location"].removeprefix(f"s3://{bucket}/")
    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint)

    s3.delete_object(Bucket=bucket, Key=key)
    set_key(episode_toml, "title", '"A new title"')  # metadata change: a re-tag was planned
    again = run_json(project, "episode", "1", "--storage", target)
    assert again["encoded"] is True
    body = s3.get_object(Bucket=bucket, Key=again["audio"]["location"].removeprefix(
        f"s3://{bucket}/"))["Body"].read()
    assert hashlib.sha256(body).hexdigest() == again["audio"]["sha256"]

    key = again["audio"]["location"].removeprefix(f"s3://{bucket}/")
    damaged = b"\0" * again["audio"]["bytes"]
    # The metadata still claims the right sha256: only the bytes tell.
    s3.put_object(Bucket=bucket, Key=key, Body=damaged,
                  Metadata={"sha256": again["audio"]["sha256"]})
    set_key(episode_toml, "title", '"Another title"')
    third = run_json(project, "episode", "1", "--storage", target)
    assert third["encoded"] is True
    body = s3.get_object(Bucket=bucket, Key=third["audio"]["location"].removeprefix(
        f"s3://{bucket}/"))["Body"].read()
    assert body != damaged and hashlib.sha256(body).hexdigest() == third["audio"]["sha256"]
