"""Which marker a child process needs: a test that starts the `publish` command is `e2e`, one
that starts an S3 server is `s3`, so `-m "not e2e and not s3"` really is the fast subset."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from helpers import PUBLISH

# The `-c` program that runs the checkout's cli.py: present in every way a test starts it
# (an argv, `sh -c ... "$@"`, or one shell string).
_PUBLISH_PROGRAM = PUBLISH[2]


def needed_marker(argv: str | bytes | Sequence) -> str | None:
    """The marker a test must carry to start this command, or None for any other child."""
    args = [argv] if isinstance(argv, (str, bytes)) else list(argv)
    text = [a.decode(errors="replace") if isinstance(a, bytes) else str(a) for a in args]
    if any(_PUBLISH_PROGRAM in a or _PUBLISH_PROGRAM.replace("'", "'\"'\"'") in a
           for a in text):
        return "e2e"
    if "moto.server" in text or (text and Path(text[0]).name == "rclone" and "s3" in text):
        return "s3"
    return None
