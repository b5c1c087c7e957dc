"""S3-compatible object storage (AWS S3, Cloudflare R2, MinIO) with checksummed, verified uploads."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import boto3
import botocore.session
from boto3.s3.transfer import TransferConfig, create_transfer_manager
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from s3transfer.exceptions import RetriesExceededError
from s3transfer.subscribers import BaseSubscriber

from ..errors import PublishError
from ..faults import crashpoint
from ..project.config import S3Settings
from ..runtime.env import env_float
from . import ObjectInfo, Progress, Storage, key_parts, wait_for

MIB = 1 << 20
MULTIPART_THRESHOLD = 8 * MIB
PART_SIZE = 8 * MIB
PARALLEL_PARTS = 4
CONNECT_TIMEOUT_S = 10
READ_TIMEOUT_S = 60  # default of $PUBLISH_S3_READ_TIMEOUT_S
# Uploads of long episodes deserve more patience than botocore's default of 3 tries.
MAX_ATTEMPTS = 6
# User metadata key holding the whole file's sha256: S3 has no whole-object SHA-256 for
# multipart uploads, and ETags are MD5s (or not even that) depending on how the object was sent.
SHA256_META = "sha256"
MISSING = {"404", "NoSuchKey", "NotFound"}
LOCK_FOLDER = ".publish-locks"
LOCK_POLL_S = 0.5
# Default of $PUBLISH_LOCK_TTL_S: a run that died on another machine frees the lock after this.
LOCK_TTL_S = 3600

_DENIED = "access denied: these credentials may not do this here (see the IAM policy in docs/s3.md)"
_REGION = "the bucket is in another region: set region under [s3] or AWS_REGION"
_SLOW = "the server kept answering SlowDown / 503 until the retries ran out"
_CORRUPT = "the server received different bytes than were sent (checksum mismatch)"

# What a server's error code means for the user. HEAD answers carry no body, only the status.
CLIENT_ERRORS = {
    "NoSuchBucket": "the bucket does not exist (check the name, the endpoint and the region)",
    "AccessDenied": _DENIED,
    "403": "access denied (a HEAD answer gives no reason: check the credentials, and that they "
           "may s3:GetObject and s3:ListBucket)",
    "AllAccessDisabled": "all access to this bucket has been disabled",
    "InvalidAccessKeyId": "the access key ID is not known to this server "
                          "(wrong profile, account or endpoint?)",
    "SignatureDoesNotMatch": "the secret access key does not belong to the access key ID",
    "ExpiredToken": "the session credentials have expired: renew them (e.g. aws sso login)",
    "InvalidToken": "the session token is not valid",
    "InvalidBucketName": "the bucket name is not valid",
    "PermanentRedirect": _REGION,
    "301": _REGION,
    "AuthorizationHeaderMalformed": _REGION,
    "AccessControlListNotSupported": "the bucket does not accept ACLs: "
                                     "set public_read_acl = false under [s3]",
    "BadDigest": _CORRUPT,
    "XAmzContentSHA256Mismatch": _CORRUPT,
    "InvalidDigest": _CORRUPT,
    "SlowDown": _SLOW,
    "503": _SLOW,
}

# Client-side failures, most specific first (ConnectTimeoutError is an EndpointConnectionError).
BOTOCORE_ERRORS: list[tuple[type[BotoCoreError], str]] = [
    (NoCredentialsError, ("no AWS credentials found: set AWS_ACCESS_KEY_ID and "
                          "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE")),
    (PartialCredentialsError, "incomplete AWS credentials: a key ID without its secret"),
    (ProfileNotFound, "the AWS profile named by AWS_PROFILE does not exist"),
    (ConnectTimeoutError, "timed out connecting to the S3 endpoint {endpoint}"),
    (EndpointConnectionError, "cannot connect to the S3 endpoint {endpoint}"),
    (ReadTimeoutError, "the S3 endpoint {endpoint} stopped answering (read timeout)"),
    (ConnectionClosedError, "the S3 endpoint {endpoint} closed the connection"),
]


class S3Storage(Storage):
    """Objects under `s3://bucket/prefix/`; credentials and region from the standard AWS chain."""

    def __init__(self, bucket: str, prefix: str = "", settings: S3Settings | None = None):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.settings = settings or S3Settings()
        self.uri = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        read_timeout_s = env_float("PUBLISH_S3_READ_TIMEOUT_S", READ_TIMEOUT_S, minimum=0.1)
        with self._s3_errors(None):
            core = botocore.session.get_session()
            self._session = boto3.session.Session(botocore_session=core,
                                                  region_name=self.settings.region)
            attempts = (self.settings.max_attempts or core.get_config_variable("max_attempts")
                        or MAX_ATTEMPTS)
            self._client = self._session.client(
                "s3", endpoint_url=self.settings.endpoint_url,
                config=_client_config(self.settings.addressing, attempts, read_timeout_s))
        self._transfer = TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=PART_SIZE,
            max_concurrency=PARALLEL_PARTS, preferred_transfer_client="classic")

    @classmethod
    def from_uri(cls, target: str, settings: S3Settings | None = None) -> S3Storage:
        bucket, _, prefix = target.removeprefix("s3://").partition("/")
        if not bucket:
            raise PublishError("no bucket named: expected s3://bucket/prefix", where=target)
        return cls(bucket, prefix, settings)

    def _key(self, key: str) -> str:
        return "/".join((self.prefix, *key_parts(key)) if self.prefix else key_parts(key))

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def head(self, key: str) -> ObjectInfo | None:
        resp = self._fetch(key, self._client.head_object)
        if resp is None:
            return None
        # botocore keeps the case the server sent; servers differ.
        meta = {k.lower(): v for k, v in resp.get("Metadata", {}).items()}
        return ObjectInfo(key=key, size=resp["ContentLength"], sha256=meta.get(SHA256_META))

    def put_file(self, key: str, path: Path, *, sha256: str, content_type: str,
                 cache_control: str, progress: Progress | None = None) -> None:
        try:
            size = Path(path).stat().st_size
        except OSError as exc:
            raise PublishError(f"cannot read: {exc.strerror}", where=path) from None
        # A file name, not an open file: s3transfer then reads the parts in parallel.
        self._upload(key, str(path), size, sha256=sha256, content_type=content_type,
                     cache_control=cache_control, progress=progress)

    def put_bytes(self, key: str, data: bytes, *, content_type: str, cache_control: str) -> None:
        self._upload(key, io.BytesIO(data), len(data), sha256=hashlib.sha256(data).hexdigest(),
                     content_type=content_type, cache_control=cache_control)

    def get_bytes(self, key: str) -> bytes | None:
        resp = self._fetch(key, self._client.get_object)
        if resp is None:
            return None
        with self._s3_errors(key):
            return resp["Body"].read()

    def _copy_to(self, key: str, dest: Path) -> None:
        with self._s3_errors(key), create_transfer_manager(self._client, self._transfer) as tm:
            tm.download(self.bucket, self._key(key), str(dest)).result()

    @contextmanager
    def lock(self, wait_s: float) -> Iterator[None]:
        """One claim object per run under `.publish-locks/`: a run holds the lock when a listing
        made after its claim was stored shows no other live claim.

        No conditional write is relied on: some S3-compatible servers accept `If-None-Match`
        and `If-Match` and ignore them (rclone's gateway overwrites and deletes regardless).
        What is relied on is read-after-write consistent PUT, LIST and DELETE (AWS S3, R2 and
        MinIO promise it), and each run checks that its listing shows its own claim. Of two
        runs, the one that lists second sees the other's claim, stored before the first listing
        and kept until that run ends, so the two never both hold. Claims are named by start
        time and a run that sees an older live claim withdraws its own, so the oldest waiter
        goes next. A claim whose run died (its process gone from this machine, or past its
        expiry) is deleted by whoever sees it: it is the dead run's own key, so taking over
        never removes the claim of a live run.
        """
        ttl_s = env_float("PUBLISH_LOCK_TTL_S", LOCK_TTL_S, minimum=1)
        claim = f"{LOCK_FOLDER}/{time.time_ns():020d}-{uuid.uuid4().hex}.json"
        try:
            wait_for(lambda: self._try_lock(claim, ttl_s), wait_s, self.location(LOCK_FOLDER),
                     LOCK_POLL_S)
            yield
        except BaseException:
            # Best effort: the endpoint may be what failed. A claim left behind goes stale.
            with suppress(PublishError):
                self.delete(claim)
            raise
        self.delete(claim)

    def _try_lock(self, claim: str, ttl_s: float) -> bool:
        """One round: store our claim, list every claim, hold if no other one is live."""
        body = json.dumps({"host": socket.gethostname(), "pid": os.getpid(),
                           "expires": time.time() + ttl_s}).encode()
        with self._s3_errors(claim):
            self._client.put_object(Bucket=self.bucket, Key=self._key(claim), Body=body,
                                    ContentType="application/json", CacheControl="no-store")
        claims = self._claims()
        if claim not in claims:
            raise PublishError("the server's listing does not show the lock claim just stored, so "
                               "runs cannot be kept apart here; publish from one place at a time",
                               where=self.location(claim))
        rivals = [other for other, modified in claims.items()
                  if other != claim and self._live(other, modified, ttl_s)]
        if not rivals:
            return True
        if min(rivals) < claim:
            self.delete(claim)  # an older claim goes first: ours would only hold it up
        return False

    def _claims(self) -> dict[str, float]:
        """Every claim below the prefix, with the time the server last stored it."""
        return dict(self._listing(LOCK_FOLDER))

    def keys(self, folder: str) -> Iterator[str]:
        return (key for key, _ in self._listing(folder))

    def _listing(self, folder: str) -> Iterator[tuple[str, float]]:
        """Each object below a folder, by its key under the storage root, with the time the
        server last stored it (ListObjectsV2, a thousand to a request)."""
        prefix = self._key(folder) + "/"
        with self._s3_errors(folder):
            pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                           Prefix=prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    yield (folder + "/" + item["Key"].removeprefix(prefix),
                           item["LastModified"].timestamp())

    def _live(self, claim: str, modified: float, ttl_s: float) -> bool:
        """Whether another run's claim counts; the claim of a run that died is deleted."""
        data = self.get_bytes(claim)
        if data is None:
            return False  # released since the listing
        if _dead(_lock_holder(data), modified + ttl_s):
            self.delete(claim)
            return False
        return True

    def delete(self, key: str) -> None:
        """DeleteObject; S3 answers a missing key with 204, some servers with 404."""
        with self._s3_errors(key):
            try:
                self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
            except ClientError as exc:
                if _code(exc) not in MISSING:
                    raise

    def _fetch(self, key: str, operation: Callable[..., dict]) -> dict | None:
        """A HEAD or GET answer, or None when the object does not exist."""
        with self._s3_errors(key):
            try:
                return operation(Bucket=self.bucket, Key=self._key(key))
            except ClientError as exc:
                if _code(exc) in MISSING:
                    return None
                raise

    def _upload(self, key: str, body: str | BinaryIO, size: int, *, sha256: str, content_type: str,
                cache_control: str, progress: Progress | None = None) -> None:
        """One upload path for files and small content; every failure raises, so nothing after
        it (manifest, feed) runs on top of a missing or damaged object."""
        extra: dict = {"ContentType": content_type, "CacheControl": cache_control,
                       "Metadata": {SHA256_META: sha256}}
        if self.settings.public_read_acl:
            extra["ACL"] = "public-read"
        extra["ChecksumAlgorithm"] = "SHA256"
        if size < MULTIPART_THRESHOLD:
            # The hash the caller computed before the upload: the server refuses other bytes.
            extra["ChecksumSHA256"] = base64.b64encode(bytes.fromhex(sha256)).decode()
        # Multipart: botocore sends a SHA-256 per part; the whole-file hash is checked below.
        subscribers = [_ProgressSubscriber(progress)] if progress else None
        with self._s3_errors(key), create_transfer_manager(self._client, self._transfer) as tm:
            tm.upload(body, self.bucket, self._key(key), extra, subscribers).result()
        self._verify(key, size, sha256)

    def _verify(self, key: str, size: int, sha256: str) -> None:
        info = self.head(key)
        if info is None:
            raise PublishError("object missing right after upload", where=self.location(key))
        if info.size != size:
            raise PublishError(f"stored size {info.size} differs from the {size} bytes sent",
                               where=self.location(key))
        if info.sha256 != sha256:
            raise PublishError("stored sha256 metadata differs from the content sent",
                               where=self.location(key))

    @contextmanager
    def _s3_errors(self, key: str | None) -> Iterator[None]:
        """Every botocore failure becomes one PublishError line naming the s3:// location."""
        try:
            yield
        except (ClientError, BotoCoreError, RetriesExceededError) as exc:
            where = self.location(key) if key is not None else self.uri
            raise PublishError(self._explain(exc), where=where) from None

    def _explain(self, exc: Exception) -> str:
        if isinstance(exc, RetriesExceededError):
            exc = exc.last_exception
        if isinstance(exc, ClientError):
            code = _code(exc)
            if code in CLIENT_ERRORS:
                return f"S3 {code}: {CLIENT_ERRORS[code]}"
            meta = exc.response.get("ResponseMetadata", {})
            message = self._scrub(exc.response.get("Error", {}).get("Message", ""))
            return f"S3 {code} (HTTP {meta.get('HTTPStatusCode', '?')}): {message}".rstrip(": ")
        endpoint = self._endpoint()
        for cls, reason in BOTOCORE_ERRORS:
            if isinstance(exc, cls):
                return reason.format(endpoint=endpoint)
        # Other botocore messages may quote configuration values, so only the type is shown.
        return f"S3 client failure ({type(exc).__name__})"

    def _endpoint(self) -> str:
        client = getattr(self, "_client", None)
        if client is None:
            return "(not configured)"
        url = urlsplit(client.meta.endpoint_url)
        return f"{url.scheme}://{url.hostname}" + (f":{url.port}" if url.port else "")

    def _scrub(self, text: str) -> str:
        """A server message must never carry credentials into a terminal or a CI log."""
        creds = self._session.get_credentials()
        if creds is not None:
            frozen = creds.get_frozen_credentials()
            for secret in (frozen.secret_key, frozen.token, frozen.access_key):
                if secret:
                    text = text.replace(secret, "***")
        return text


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))


def _client_config(addressing: str, max_attempts: int, read_timeout_s: float) -> Config:
    """botocore's own retries (SlowDown, 5xx, dropped connections) with backoff and timeouts."""
    options: dict = {
        "retries": {"mode": "standard", "max_attempts": max_attempts},
        "connect_timeout": CONNECT_TIMEOUT_S,
        "read_timeout": read_timeout_s,
        "max_pool_connections": PARALLEL_PARTS * 2,
    }
    if addressing != "auto":  # "auto" leaves it to botocore and the profile's s3.addressing_style
        options["s3"] = {"addressing_style": addressing}
    return Config(**options)


class _ProgressSubscriber(BaseSubscriber):
    """Parts run in parallel threads; the caller's callback sees one call at a time."""

    def __init__(self, progress: Progress):
        self._progress = progress
        self._lock = threading.Lock()

    def on_progress(self, future, bytes_transferred: int, **kwargs) -> None:
        with self._lock:
            self._progress(bytes_transferred)
        crashpoint("mid-upload")


def _lock_holder(data: bytes) -> dict:
    try:
        holder = json.loads(data)
    except ValueError:
        return {}
    return holder if isinstance(holder, dict) else {}


def _dead(holder: dict, unreadable_expiry: float) -> bool:
    """A claim whose run has died: past its expiry, or its process is gone from this machine.

    A claim that cannot be read (still being written, or damaged) expires a TTL after it was
    stored."""
    expires = holder.get("expires")
    if not isinstance(expires, int | float):
        expires = unreadable_expiry
    if expires < time.time():
        return True
    if holder.get("host") != socket.gethostname():
        return False
    try:
        os.kill(int(holder.get("pid", 0)), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError, TypeError):
        return False
    return False
