"""Named crash points, so tests can kill a real run at an exact step (like fail-rs failpoints).

Set PUBLISH_CRASH_AT=<name> and the process SIGKILLs itself when it reaches that point:
no cleanup runs, exactly as after a power cut or an OOM kill. Unset, a point costs one lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "PUBLISH_CRASH_AT"


def crashpoint(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
