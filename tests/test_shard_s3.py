"""Three `publish episode --all --shard i/3` processes at once against a real S3 server: each
commits its share under the storage lock, and none loses another's episodes."""

from __future__ import annotations

import hashlib
import json
import subprocess
from urllib.parse import urlsplit

import boto3
import feedparser
import pytest
from catalogue import make_catalogue
from helpers import PUBLISH, copy_project

PREFIX = "show"
SHARDS = 3
EPISODES = 8  # shares of 3, 3 and 2


@pytest.mark.slow
@pytest.mark.s3
@pytest.mark.e2e
def test_concurrent_shards_all_land_in_the_manifest_and_the_feed(any_server, any_bucket,
                                                                 tmp_path):
    project = copy_project(tmp_path / "show")
    slugs = make_catalogue(project, EPISODES)
    target = f"s3://{any_bucket}/{PREFIX}"
    procs = [subprocess.Popen([*PUBLISH, "-C", str(project), "episode", "--all", "--shard",
                               f"{i}/{SHARDS}", "--jobs", "2", "--storage", target, "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(1, SHARDS + 1)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0] * SHARDS, [err for _, err in outs]
    reported = [e for out, _ in outs for e in json.loads(out)["episodes"]]
    assert sorted(e["episode"] for e in reported) == sorted(slugs)

    s3 = boto3.client("s3", endpoint_url=any_server.endpoint)

    def get(key: str) -> bytes:
        return s3.get_object(Bucket=any_bucket, Key=f"{PREFIX}/{key}")["Body"].read()

    manifest = json.loads(get("manifest.json"))
    assert sorted(manifest["episodes"]) == sorted(slugs)
    feed = feedparser.parse(get("women-in-surgery.xml"))
    assert not feed.bozo
    assert {entry.id for entry in feed.entries} == {e["guid"] for e in reported}
    base = urlsplit(feed.entries[0].enclosures[0].href)
    prefix = base.path.split("/episodes/")[0] + "/"
    for entry in feed.entries:
        [enclosure] = entry.enclosures
        body = get(urlsplit(enclosure.href).path.removeprefix(prefix))
        assert len(body) == int(enclosure.length) > 0
        record = next(r for r in manifest["episodes"].values() if r["guid"] == entry.id)
        assert hashlib.sha256(body).hexdigest() == record["audio"]["sha256"]
