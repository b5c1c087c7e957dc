"""The cyclic garbage collector paused while a large catalogue's objects are built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Parsing a 3,000-episode manifest or building its feed makes hundreds of thousands of
    objects without cycles (reference counting frees them); meanwhile every full collection
    walks all of them again, which cost a third of the feed's rebuild (bench/feed.py)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
