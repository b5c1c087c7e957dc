"""No credential ever leaves the process; storage faults are retried or fail cleanly."""

from __future__ import annotations

import json

import boto3
import feedparser
import pytest
from conftest import new_bucket
from faultproxy import FaultProxy
from helpers import run, run_json
from s3server import FAKE_CREDENTIALS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PREFIX = "show"


def _everything_produced(project, endpoint, bucket, outputs: list[str]) -> bytes:
    """stdout, stderr, every local file the run wrote, and every object in the bucket."""
    blob = "\n".join(outputs).encode()
    for path in project.rglob("*"):
        if path.is_file():
            blob += path.read_bytes()
    s3 = boto3.client("s3", endpoint_url=endpoint)
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        obj = s3.get_object(Bucket=bucket, Key=item["Key"])
        blob += obj["Body"].read() + repr(obj["Metadata"]).encode()
    return blob


def test_no_credential_in_any_output(project, s3_server, bucket):
    target = f"s3://{bucket}/{PREFIX}"
    outputs = []
    for args in (["episode", "1", "--json"], ["episode", "1"], ["feed", "--json"],
                 ["status"], ["episode", "1", "--dry-run"]):
        proc = run(project, *args, "--storage", target)
        outputs += [proc.stdout, proc.stderr]
    # A failing run too: errors are where secrets usually leak.
    failing = run(project, "episode", "1", "--storage", "s3://no-such-bucket-here/x", check=False)
    assert failing.returncode != 0
    outputs += [failing.stdout, failing.stderr]
    blob = _everything_produced(project, s3_server.endpoint, bucket, outputs)
    assert b"NoSuchBucket" in blob  # the failure really was reported
    for name, secret in FAKE_CREDENTIALS.items():
        assert secret.encode() not in blob, f"{name} leaked"


def test_publish_through_a_faulty_network_succeeds_identically(project, published, s3_server,
                                                               aws_env):
    """Requests of every kind fail: 503 SlowDown, dropped connections, answers that come late,
    and answers that never come (read timeout). botocore retries them all, and the result is
    the demo as published with no fault (`published`: the same MP3 bytes and enclosure)."""
    aws_env(s3_server.endpoint)
    kinds = ("503", "drop", "slow", "stall")
    plan = {"PUT": ["503", None, "drop", None, "slow", None, "stall", None, None],
            "HEAD": [None, "drop", None, None, "503"], "GET": ["stall", None, None]}
    with FaultProxy(s3_server.port, plan=plan) as proxy:
        aws_env(proxy.endpoint)
        bucket = new_bucket(s3_server.endpoint)
        r = run_json(project, "episode", "1", "--storage", f"s3://{bucket}/{PREFIX}",
                     env={"AWS_MAX_ATTEMPTS": "10", "PUBLISH_S3_READ_TIMEOUT_S": "1"})
    assert all(proxy.faults[k] > 0 for k in kinds), proxy.faults
    aws_env(s3_server.endpoint)
    ref = json.loads((published / "public/manifest.json").read_bytes())
    assert r["audio"]["sha256"] == ref["episodes"]["welcome"]["audio"]["sha256"]
    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint)
    got = s3.get_object(Bucket=bucket, Key=f"{PREFIX}/women-in-surgery.xml")["Body"].read()
    want = (published / "public/women-in-surgery.xml").read_bytes()
    assert feedparser.parse(got).entries[0].enclosures == \
        feedparser.parse(want).entries[0].enclosures


def test_retry_budget_exhausted_fails_cleanly_and_leaves_the_feed(project, s3_server, aws_env):
    aws_env(s3_server.endpoint)
    bucket = new_bucket(s3_server.endpoint)
    target = f"s3://{bucket}/{PREFIX}"
    run_json(project, "episode", "1", "--storage", target)
    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint)
    feed_key = f"{PREFIX}/women-in-surgery.xml"
    before = s3.get_object(Bucket=bucket, Key=feed_key)["Body"].read()
    (project / "episodes/001-welcome/notes.md").write_text("Changed notes.\n")
    with FaultProxy(s3_server.port, plan={"*": ["503", "drop"]}) as proxy:
        aws_env(proxy.endpoint)
        proc = run(project, "episode", "1", "--storage", target, check=False,
                   env={"AWS_MAX_ATTEMPTS": "2"})
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert s3.get_object(Bucket=bucket, Key=feed_key)["Body"].read() == before
