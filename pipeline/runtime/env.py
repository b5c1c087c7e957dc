"""Settings from environment variables, read where they are used (never at import time), so a
bad value is one line naming the variable instead of a traceback in every command."""

from __future__ import annotations

import math
import os

from ..errors import PublishError


def env_float(name: str, default: float, minimum: float = 0.0) -> float:
    """A number of seconds (or the like) from the environment, or the default when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < minimum:
        raise PublishError(f"must be a number, at least {minimum:g}; it is {raw!r}", where=name)
    return value
