"""Shared fixtures: a scratch copy of the demo project; a real S3 server process on loopback
and an AWS environment aimed at it."""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from helpers import copy_project, run_json
from markers import needed_marker
from s3server import FOREIGN_AWS_VARS, MotoServer, RcloneServer, isolated_aws_env


# Fixtures that start the publish command or an S3 server, and the marker each implies.
_FIXTURE_MARKERS = {"project": "e2e", "published": "e2e", "s3_server": "s3", "rclone_server": "s3"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers from what a test uses, so `-m "not s3"` or `-m "not e2e"` need no bookkeeping;
    modules whose own fixtures start them say so with `pytestmark`."""
    for item in items:
        for name in getattr(item, "fixturenames", ()):
            if name in _FIXTURE_MARKERS:
                item.add_marker(_FIXTURE_MARKERS[name])


class UnmarkedChild(RuntimeError):
    """A test started the publish command or an S3 server without saying so in a marker."""


_running: list[pytest.Item] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    _running.append(item)
    yield
    _running.pop()


def _check_child(event: str, args: tuple) -> None:
    """Fail the test whose marker would let a fast subset start a slow child."""
    if event != "subprocess.Popen" or not _running:
        return
    marker = needed_marker(args[1])
    item = _running[-1]
    if marker and item.get_closest_marker(marker) is None:
        raise UnmarkedChild(f"{item.nodeid} starts {' '.join(map(str, args[1]))[:80]}... "
                            f"without the {marker!r} marker: add `pytestmark = "
                            f"pytest.mark.{marker}` to its module")


sys.addaudithook(_check_child)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "show")


@pytest.fixture(scope="session")
def published(tmp_path_factory) -> Path:
    """The demo, published once per run; each test changes its own copy (`show`)."""
    project = copy_project(tmp_path_factory.mktemp("published") / "show")
    run_json(project, "episode", "1")
    return project


@pytest.fixture
def show(published: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(published, tmp_path / "show"))


@pytest.fixture
def episode_toml(project: Path) -> Path:
    return project / "episodes" / "001-welcome" / "episode.toml"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture(scope="session")
def rclone_server() -> Iterator[RcloneServer]:
    with RcloneServer() as server:
        yield server


@pytest.fixture(params=["moto", "rclone"])
def any_server(request, s3_server) -> MotoServer | RcloneServer:
    """Each S3 server the tests start: moto honours conditional writes, rclone ignores them."""
    return s3_server if request.param == "moto" else request.getfixturevalue("rclone_server")


@pytest.fixture
def any_bucket(any_server, aws_env) -> str:
    aws_env(any_server.endpoint)
    return new_bucket(any_server.endpoint)


@pytest.fixture
def aws_env(monkeypatch, tmp_path) -> Callable[[str], None]:
    """Point boto3 (in this process and in children) at an endpoint, with fake credentials."""
    def use(endpoint: str) -> None:
        for name in FOREIGN_AWS_VARS:
            monkeypatch.delenv(name, raising=False)
        for name, value in isolated_aws_env(endpoint, tmp_path).items():
            monkeypatch.setenv(name, value)
    return use


def new_bucket(endpoint: str) -> str:
    name = f"test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def bucket(s3_server, aws_env) -> str:
    """A fresh, empty bucket on the session's server; AWS_ENDPOINT_URL points at the server."""
    aws_env(s3_server.endpoint)
    return new_bucket(s3_server.endpoint)
