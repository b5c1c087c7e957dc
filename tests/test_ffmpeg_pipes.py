"""The pipe plumbing of the mastering chain: a reader that fails must not fail silently."""

from __future__ import annotations

import io

import pytest

from pipeline.audio.ffmpeg import Drain


def _drain(sinks: list) -> Drain:
    d = Drain(io.BytesIO(b"x" * 200_000), sinks, size=65536)
    d.join()
    return d


def test_a_reader_that_raises_value_error_is_reported_not_dropped():
    """A numpy error in the verifying meter is a ValueError: losing it would publish an MP3
    whose verification never happened."""
    def meter(block: bytes) -> None:
        raise ValueError("operands could not be broadcast together")

    d = _drain([meter])
    with pytest.raises(ValueError, match="broadcast"):
        d.raise_error()


def test_a_closed_or_broken_pipe_is_dropped_and_the_rest_still_drained():
    closed = io.BytesIO()
    closed.close()
    got = bytearray()

    def broken(block: bytes) -> None:
        raise BrokenPipeError

    d = _drain([closed.write, broken, got.extend])
    d.raise_error()  # neither the closed stream nor the broken pipe is an error
    assert len(got) == 200_000  # the healthy reader got everything
