"""The S3 backend against a real S3 server process (moto) on loopback: never AWS."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from pathlib import Path

import boto3
import pytest
from conftest import new_bucket
from faultproxy import FaultProxy, header
from s3server import FAKE_CREDENTIALS, MotoServer

from pipeline.errors import PublishError
from pipeline.project.config import S3Settings
from pipeline.storage import content_type_for, open_storage, sha256_file
from pipeline.storage.s3 import PART_SIZE, S3Storage

MEDIA_CACHE = "public, max-age=31536000, immutable"
FEED_CACHE = "public, max-age=300"
MULTIPART_SIZE = 20 * 1024 * 1024 + 12345  # three parts, the last one short


def b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def put(storage: S3Storage, key: str, path: Path, progress=None) -> None:
    storage.put_file(key, path, sha256=sha256_file(path), content_type=content_type_for(key),
                     cache_control=MEDIA_CACHE, progress=progress)


def assert_one_line_without_secrets(exc: PublishError) -> str:
    text = str(exc)
    assert "\n" not in text
    for secret in FAKE_CREDENTIALS.values():
        assert secret not in text
    return text


def test_objects_round_trip_through_put_head_get_and_download(bucket, tmp_path):
    storage = S3Storage.from_uri(f"s3://{bucket}/shows/wis")
    data = os.urandom(100_000)
    put(storage, "episodes/one/one.mp3", write(tmp_path / "one.mp3", data))
    storage.put_bytes("manifest.json", b'{"v": 1}', content_type="application/json",
                      cache_control=FEED_CACHE)

    info = storage.head("episodes/one/one.mp3")
    assert (info.size, info.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert storage.get_bytes("manifest.json") == b'{"v": 1}'
    storage.download("episodes/one/one.mp3", tmp_path / "back.mp3")
    assert (tmp_path / "back.mp3").read_bytes() == data
    assert storage.location("manifest.json") == f"s3://{bucket}/shows/wis/manifest.json"
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(o["Key"] for o in listed) == ["shows/wis/episodes/one/one.mp3",
                                                "shows/wis/manifest.json"]


def test_missing_objects_read_as_none(bucket, tmp_path):
    storage = S3Storage.from_uri(f"s3://{bucket}")
    assert storage.head("nope.mp3") is None
    assert storage.get_bytes("nope.json") is None
    with pytest.raises(PublishError, match="missing"):
        storage.download("nope.mp3", tmp_path / "x")


def test_objects_carry_content_type_cache_control_and_sha256(bucket, tmp_path):
    storage = S3Storage.from_uri(f"s3://{bucket}/p")
    audio = os.urandom(5000)
    put(storage, "a.mp3", write(tmp_path / "a.mp3", audio))
    feed = b"<rss/>"
    storage.put_bytes("show.xml", feed, content_type=content_type_for("show.xml"),
                      cache_control=FEED_CACHE)

    s3 = boto3.client("s3")
    mp3 = s3.head_object(Bucket=bucket, Key="p/a.mp3", ChecksumMode="ENABLED")
    assert (mp3["ContentType"], mp3["CacheControl"]) == ("audio/mpeg", MEDIA_CACHE)
    assert mp3["Metadata"]["sha256"] == hashlib.sha256(audio).hexdigest()
    assert mp3["ChecksumSHA256"] == b64_sha256(audio)
    xml = s3.get_object(Bucket=bucket, Key="p/show.xml")
    assert (xml["ContentType"], xml["CacheControl"]) == ("application/rss+xml", FEED_CACHE)
    assert xml["Body"].read() == feed
    grants = s3.get_object_acl(Bucket=bucket, Key="p/a.mp3")["Grants"]
    assert not [g for g in grants if g["Grantee"].get("URI", "").endswith("/AllUsers")]


def test_public_read_acl_only_when_asked(bucket, tmp_path):
    storage = S3Storage.from_uri(f"s3://{bucket}", S3Settings(public_read_acl=True))
    put(storage, "a.mp3", write(tmp_path / "a.mp3", b"abc"))
    grants = boto3.client("s3").get_object_acl(Bucket=bucket, Key="a.mp3")["Grants"]
    assert [g["Permission"] for g in grants
            if g["Grantee"].get("URI", "").endswith("/AllUsers")] == ["READ"]


def test_multipart_upload_is_byte_exact_with_progress_summing_to_size(bucket, tmp_path):
    data = os.urandom(MULTIPART_SIZE)
    path = write(tmp_path / "long.mp3", data)
    seen: list[int] = []
    storage = S3Storage.from_uri(f"s3://{bucket}/p")
    put(storage, "long.mp3", path, progress=seen.append)

    assert sum(seen) == len(data)
    assert len(seen) > 3
    s3 = boto3.client("s3")
    head = s3.head_object(Bucket=bucket, Key="p/long.mp3")
    assert head["ETag"].strip('"').endswith("-3")  # really three parts
    assert s3.get_object(Bucket=bucket, Key="p/long.mp3")["Body"].read() == data
    assert storage.head("long.mp3").sha256 == hashlib.sha256(data).hexdigest()


def test_every_upload_sends_a_sha256_checksum(s3_server, aws_env, tmp_path):
    with FaultProxy(s3_server.port) as proxy:
        aws_env(proxy.endpoint)
        bucket = new_bucket(proxy.endpoint)
        storage = S3Storage.from_uri(f"s3://{bucket}")
        small = os.urandom(1000)
        put(storage, "small.mp3", write(tmp_path / "small.mp3", small))
        big = os.urandom(MULTIPART_SIZE)
        put(storage, "big.mp3", write(tmp_path / "big.mp3", big))

    sent = {header(h, "x-amz-checksum-sha256") for h in proxy.requests("PUT")}
    parts = {b64_sha256(big[i:i + PART_SIZE]) for i in range(0, len(big), PART_SIZE)}
    assert b64_sha256(small) in sent
    assert parts <= sent


def test_identical_content_is_recognised_by_head(bucket, tmp_path):
    storage = S3Storage.from_uri(f"s3://{bucket}")
    path = write(tmp_path / "a.mp3", os.urandom(3000))
    put(storage, "a.mp3", path)
    other = write(tmp_path / "b.mp3", os.urandom(3000))

    info = storage.head("a.mp3")
    assert (info.size, info.sha256) == (path.stat().st_size, sha256_file(path))
    assert info.sha256 != sha256_file(other)


def test_sha256_metadata_is_read_whatever_its_case(bucket):
    data = b"uploaded by another tool"
    boto3.client("s3").put_object(Bucket=bucket, Key="x.json", Body=data,
                                  Metadata={"SHA256": hashlib.sha256(data).hexdigest()})
    assert S3Storage.from_uri(f"s3://{bucket}").head("x.json").sha256 == \
        hashlib.sha256(data).hexdigest()


def test_upload_whose_stored_metadata_differs_is_refused(s3_server, aws_env, tmp_path):
    def tamper(head: bytes) -> bytes:
        value = header(head, "x-amz-meta-sha256")
        return head.replace(value.encode(), b"0" * len(value)) if value else head

    with FaultProxy(s3_server.port, rewrite=tamper) as proxy:
        aws_env(proxy.endpoint)
        bucket = new_bucket(proxy.endpoint)
        storage = S3Storage.from_uri(f"s3://{bucket}")
        with pytest.raises(PublishError, match="sha256 metadata differs") as err:
            put(storage, "a.mp3", write(tmp_path / "a.mp3", b"abc"))
    assert f"s3://{bucket}/a.mp3" in str(err.value)


def test_missing_bucket_is_one_line_naming_it(s3_server, aws_env, tmp_path):
    aws_env(s3_server.endpoint)
    storage = S3Storage.from_uri("s3://no-such-bucket-here/show")
    with pytest.raises(PublishError) as err:
        put(storage, "a.mp3", write(tmp_path / "a.mp3", b"abc"))
    text = assert_one_line_without_secrets(err.value)
    assert text.startswith("s3://no-such-bucket-here/show/a.mp3: ")
    assert "NoSuchBucket" in text


def test_missing_credentials_are_named_not_guessed(bucket, monkeypatch):
    for name in FAKE_CREDENTIALS:
        monkeypatch.delenv(name)
    with pytest.raises(PublishError, match="no AWS credentials found") as err:
        S3Storage.from_uri(f"s3://{bucket}").get_bytes("x.json")
    assert str(err.value).startswith(f"s3://{bucket}/x.json: ")


def test_unreachable_endpoint_is_one_line(aws_env, tmp_path):
    aws_env(MotoServer().endpoint)  # a free port where nothing listens
    storage = S3Storage.from_uri("s3://some-bucket", S3Settings(max_attempts=1))
    with pytest.raises(PublishError, match="cannot connect to the S3 endpoint http://127.0.0.1"):
        storage.head("a.mp3")


def test_feed_settings_choose_endpoint_and_path_style(s3_server, aws_env, tmp_path):
    with FaultProxy(s3_server.port) as proxy:
        aws_env("http://127.0.0.1:9")  # the feed's endpoint_url wins over the environment
        bucket = new_bucket(proxy.endpoint)
        settings = S3Settings(endpoint_url=f"http://localhost:{proxy.port}", addressing="path")
        storage = open_storage(f"s3://{bucket}/p", tmp_path, settings)
        storage.put_bytes("f.xml", b"<rss/>", content_type="application/rss+xml",
                          cache_control=FEED_CACHE)
    assert proxy.requests("PUT")[-1].startswith(f"PUT /{bucket}/p/f.xml".encode())


def test_storage_target_without_bucket_is_refused():
    with pytest.raises(PublishError, match="no bucket"):
        S3Storage.from_uri("s3:///prefix")


# Access control: a second server that enforces IAM after the setup requests.
SETUP_REQUESTS = 4  # create bucket, create user, create access key, attach policy


@pytest.fixture(scope="module")
def iam_server():
    with MotoServer(env={"INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_REQUESTS)}) as server:
        yield server


@pytest.fixture(scope="module")
def reader(iam_server) -> tuple[str, dict[str, str]]:
    """A bucket and the keys of a user who may read it but not write to it."""
    kw = {"endpoint_url": iam_server.endpoint, "region_name": "us-east-1",
          "aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
    bucket = "guarded-bucket"
    boto3.client("s3", **kw).create_bucket(Bucket=bucket)
    iam = boto3.client("iam", **kw)
    iam.create_user(UserName="reader")
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                       "Resource": "*"}]}))
    return bucket, {"AWS_ACCESS_KEY_ID": key["AccessKeyId"],
                    "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


@pytest.mark.s3  # iam_server is this module's own moto
@pytest.mark.parametrize("case, expected", [
    ("read-only user", "S3 AccessDenied"),
    ("wrong secret", "S3 SignatureDoesNotMatch"),
    ("unknown key", "S3 InvalidAccessKeyId"),
])
def test_refused_credentials_give_one_line_without_secrets(iam_server, reader, aws_env,
                                                           monkeypatch, tmp_path, case, expected):
    bucket, keys = reader
    aws_env(iam_server.endpoint)
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    if case == "wrong secret":
        keys = {**keys, "AWS_SECRET_ACCESS_KEY": "wrongSecret/ShouldNotAppear0"}
    elif case == "unknown key":
        keys = {**keys, "AWS_ACCESS_KEY_ID": "AKIAUNKNOWNKEY000000"}
    for name, value in keys.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(PublishError) as err:
        put(S3Storage.from_uri(f"s3://{bucket}/show"), "a.mp3", write(tmp_path / "a", b"x"))
    text = assert_one_line_without_secrets(err.value)
    assert text.startswith(f"s3://{bucket}/show/a.mp3: {expected}:")
    for value in keys.values():
        assert value not in text


# Faults: a proxy that answers 503 SlowDown or drops connections, and a server that dies.
def test_uploads_survive_slowdowns_and_dropped_connections(s3_server, aws_env, tmp_path):
    data = os.urandom(MULTIPART_SIZE)
    path = write(tmp_path / "long.mp3", data)
    seen: list[int] = []
    plan = {"PUT": ["503", None, "drop", None, None], "GET": ["drop", None]}
    with FaultProxy(s3_server.port, plan=plan) as proxy:
        aws_env(proxy.endpoint)
        bucket = new_bucket(s3_server.endpoint)
        storage = S3Storage.from_uri(f"s3://{bucket}/p", S3Settings(max_attempts=10))
        put(storage, "long.mp3", path, progress=seen.append)
        storage.put_bytes("show.xml", b"<rss/>", content_type="application/rss+xml",
                          cache_control=FEED_CACHE)
        assert storage.get_bytes("show.xml") == b"<rss/>"

    assert proxy.faults["503"] > 0 and proxy.faults["drop"] > 0
    assert sum(seen) == len(data)
    direct = boto3.client("s3", endpoint_url=s3_server.endpoint)
    obj = direct.get_object(Bucket=bucket, Key="p/long.mp3")
    assert obj["Body"].read() == data
    assert obj["Metadata"]["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.s3
def test_server_dying_mid_upload_is_one_clean_error(aws_env, tmp_path):
    path = write(tmp_path / "long.mp3", os.urandom(MULTIPART_SIZE))
    with MotoServer() as server:
        aws_env(server.endpoint)
        bucket = new_bucket(server.endpoint)
        storage = S3Storage.from_uri(f"s3://{bucket}/p", S3Settings(max_attempts=2))
        threads_before = threading.active_count()

        def kill_server(n: int) -> None:
            server.stop()

        with pytest.raises(PublishError) as err:
            put(storage, "long.mp3", path, progress=kill_server)
    text = assert_one_line_without_secrets(err.value)
    assert text.startswith(f"s3://{bucket}/p/long.mp3: ")
    assert "S3 endpoint http://127.0.0.1" in text
    assert threading.active_count() == threads_before  # no transfer threads left behind
