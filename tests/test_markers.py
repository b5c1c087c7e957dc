"""The conftest guard knows a publish run or an S3 server in every shape a test starts one."""

from __future__ import annotations

import shlex
import sys

import pytest
from helpers import PUBLISH
from markers import needed_marker
from s3server import MotoServer, RcloneServer


@pytest.mark.parametrize("argv, marker", [
    ([*PUBLISH, "-C", "show", "episode", "1"], "e2e"),
    (["sh", "-c", 'ulimit -f 200 && exec "$0" "$@"', *PUBLISH, "episode", "1"], "e2e"),
    (" ".join(shlex.quote(a) for a in [*PUBLISH, "-C", "show"]) + " episode 1", "e2e"),
    ([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "5000"], "s3"),
    (["/venv/bin/rclone", "serve", "s3", "--addr", "127.0.0.1:5000"], "s3"),
    (["ffmpeg", "-i", "in.wav", "out.mp3"], None),
    ([sys.executable, "-c", "import cli"], None),
])
def test_children_that_need_a_marker_are_known(argv, marker):
    assert needed_marker(argv) == marker


def test_the_servers_the_tests_start_are_s3():
    assert needed_marker(MotoServer().command()) == "s3"
    rclone = RcloneServer()  # not started: only its command is read
    try:
        assert needed_marker(rclone.command()) == "s3"
    finally:
        rclone.stop()
