"""Numbers taken from environment variables: read where used, a bad one is one line.

`PUBLISH_LOCK_WAIT_S` and `PUBLISH_FFMPEG_STALL_S` are covered in test_config_errors.py."""

from __future__ import annotations

import pytest
from helpers import run

from pipeline.errors import PublishError
from pipeline.runtime.env import env_float


@pytest.mark.parametrize("value, expected", [
    (None, 300.0),
    ("", 300.0),
    ("2.5", 2.5),
    (" 10 ", 10.0),
    ("1", 1.0),
])
def test_env_float_reads_numbers_and_defaults(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("PUBLISH_TEST_S", raising=False)
    else:
        monkeypatch.setenv("PUBLISH_TEST_S", value)
    assert env_float("PUBLISH_TEST_S", 300, minimum=1) == expected


@pytest.mark.parametrize("value", ["abc", "0.5", "-3", "nan", "inf", "1e999"])
def test_env_float_refuses_what_is_not_a_usable_number(monkeypatch, value):
    monkeypatch.setenv("PUBLISH_TEST_S", value)
    with pytest.raises(PublishError) as err:
        env_float("PUBLISH_TEST_S", 300, minimum=1)
    assert str(err.value) == f"PUBLISH_TEST_S: must be a number, at least 1; it is {value!r}"


@pytest.mark.parametrize("name", ["PUBLISH_LOCK_TTL_S", "PUBLISH_S3_READ_TIMEOUT_S"])
def test_bad_number_in_environment_is_one_line_not_a_traceback(name, project, bucket):
    env = {name: "abc"}
    assert run(project, "--help", env=env).returncode == 0
    proc = run(project, "feed", "--storage", f"s3://{bucket}/show", env=env, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"publish: error: {name}: ")
    assert proc.stderr.count("\n") == 1 and "'abc'" in proc.stderr
