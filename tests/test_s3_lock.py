"""The S3 publish lock against two real S3 servers: moto, which honours conditional writes,
and rclone's S3 gateway, which accepts `If-None-Match: *` and overwrites anyway."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import feedparser
import pytest
from botocore.exceptions import ClientError
from conftest import new_bucket
from faultproxy import FaultProxy
from helpers import PUBLISH, REPO, copy_project
from signals import speech_like, write_wav

from pipeline.errors import PublishError
from pipeline.storage.s3 import S3Storage

PREFIX = "show"
FEED_KEY = f"{PREFIX}/women-in-surgery.xml"
MANIFEST_KEY = f"{PREFIX}/manifest.json"
RUNS = 4


def honours_conditional_create(endpoint: str, bucket: str) -> bool:
    """Whether a second `If-None-Match: *` PUT of one key is refused, as S3 promises."""
    s3 = boto3.client("s3", endpoint_url=endpoint)
    s3.put_object(Bucket=bucket, Key="probe", Body=b"first", IfNoneMatch="*")
    try:
        s3.put_object(Bucket=bucket, Key="probe", Body=b"second", IfNoneMatch="*")
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    finally:
        s3.delete_object(Bucket=bucket, Key="probe")
    return False


def test_a_held_lock_keeps_a_second_run_out(any_server, any_bucket):
    # The premise of the parametrization: only moto refuses the second conditional create.
    assert honours_conditional_create(any_server.endpoint, any_bucket) is \
        (any_server.name == "moto")
    first, second = (S3Storage.from_uri(f"s3://{any_bucket}/{PREFIX}") for _ in range(2))
    with (first.lock(wait_s=5), pytest.raises(PublishError, match="another publish") as err,
          second.lock(wait_s=1)):
        pass
    assert "\n" not in str(err.value)
    with second.lock(wait_s=5):  # released: the next run goes straight in
        pass


def test_a_listing_that_misses_our_own_claim_stops_the_run(s3_server, aws_env):
    """A server whose listings lag behind its writes cannot keep runs apart: say so."""
    def hide_claims(head: bytes) -> bytes:
        return head.replace(b"prefix=show%2F.publish-locks", b"prefix=elsewhere")

    with FaultProxy(s3_server.port, rewrite=hide_claims) as proxy:
        aws_env(proxy.endpoint)
        bucket = new_bucket(proxy.endpoint)
        with (pytest.raises(PublishError, match="listing does not show the lock claim") as err,
              S3Storage.from_uri(f"s3://{bucket}/{PREFIX}").lock(wait_s=5)):
            pass
    assert "\n" not in str(err.value)
    assert str(err.value).startswith(f"s3://{bucket}/{PREFIX}/.publish-locks/")
    leftover = boto3.client("s3", endpoint_url=s3_server.endpoint).list_objects_v2(Bucket=bucket)
    assert "Contents" not in leftover  # the claim was withdrawn


HOLDER = """
import sys, time
from pipeline.storage.s3 import S3Storage
with S3Storage.from_uri(sys.argv[1]).lock(wait_s=30):
    print("holding", flush=True)
    time.sleep(600)
"""


def die_holding_the_lock(uri: str) -> None:
    """A run on this machine that takes the lock and is killed: its lock is stale at once."""
    child = subprocess.Popen([sys.executable, "-c", HOLDER, uri], stdout=subprocess.PIPE,
                             text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert child.stdout.readline().strip() == "holding"
    finally:
        child.kill()
        child.wait()


@pytest.mark.slow
def test_a_stale_lock_is_taken_over_by_one_waiter_at_a_time(any_server, aws_env):
    """Two waiters find a dead run's lock; the first DELETE requests are slowed down, so a
    waiter that deletes what it judged stale would remove the lock the other one just took."""
    delays, gate = iter([0.6, 1.2]), threading.Lock()

    def slow_first_deletes(head: bytes) -> bytes:
        if head.startswith(b"DELETE "):
            with gate:
                delay = next(delays, 0)
            time.sleep(delay)
        return head

    events: list[tuple[str, str]] = []
    failures: list[PublishError] = []
    with FaultProxy(any_server.port, rewrite=slow_first_deletes) as proxy:
        aws_env(proxy.endpoint)
        uri = f"s3://{new_bucket(proxy.endpoint)}/{PREFIX}"
        die_holding_the_lock(uri)
        start = threading.Barrier(2)

        def waiter(name: str) -> None:
            storage = S3Storage.from_uri(uri)
            start.wait()
            try:
                with storage.lock(wait_s=60):
                    events.append((name, "in"))
                    time.sleep(2)
                    events.append((name, "out"))
            except PublishError as exc:
                failures.append(exc)

        threads = [threading.Thread(target=waiter, args=(name,)) for name in "ab"]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not failures
    first, second = events[0][0], events[2][0]
    assert events == [(first, "in"), (first, "out"), (second, "in"), (second, "out")]


def make_episodes(project: Path, count: int) -> list[str]:
    """Short episodes with generated recordings in place of the demo one; their folders."""
    shutil.rmtree(project / "episodes")
    folders = []
    for n in range(1, count + 1):
        folder = project / "episodes" / f"{n:03d}-take-{n}"
        folder.mkdir(parents=True)
        write_wav(folder / "recording.wav", speech_like(4, seed=n), 44100)
        (folder / "episode.toml").write_text(
            f'title = "Take {n}"\nnumber = {n}\npublished = 2026-11-20T09:00:00-05:00\n'
            f'audio = "recording.wav"\nnotes = "Take number {n}."\n', encoding="utf-8")
        folders.append(folder.name)
    return folders


@pytest.mark.slow
@pytest.mark.e2e
def test_concurrent_publishes_of_different_episodes_all_land(any_server, any_bucket, tmp_path):
    project = copy_project(tmp_path / "show")
    folders = make_episodes(project, RUNS)
    target = f"s3://{any_bucket}/{PREFIX}"
    procs = [subprocess.Popen([*PUBLISH, "-C", str(project), "episode", folder, "--storage",
                               target, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for folder in folders]
    outs = [p.communicate(timeout=600) for p in procs]

    s3 = boto3.client("s3", endpoint_url=any_server.endpoint)
    manifest = json.loads(s3.get_object(Bucket=any_bucket, Key=MANIFEST_KEY)["Body"].read())
    feed = feedparser.parse(s3.get_object(Bucket=any_bucket, Key=FEED_KEY)["Body"].read())
    in_feed = {entry.id for entry in feed.entries}
    published = []
    for proc, (stdout, stderr) in zip(procs, outs):
        if proc.returncode == 0:
            result = json.loads(stdout)
            assert result["episode"] in manifest["episodes"], f"reported but lost: {result}"
            assert result["guid"] in in_feed, f"reported but not in the feed: {result}"
            published.append(result["episode"])
        else:
            assert stderr.startswith("publish: error: ") and stderr.count("\n") == 1, stderr
    assert len(published) == RUNS, outs
