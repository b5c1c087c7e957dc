"""The cyclic garbage collector paused while a large catalogue's objects are built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Parsing a 3,000-episode manifest or building its feed makes hundreds of thousands of
    objects without cycles (reference counting frees them); meanwhile every full collection
    walks all of them again, which cost a third of the feed's rebuild (bench/feed.py). Cyclic
    garbage made meanwhile is still collected, by the next full collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # What was made meanwhile goes to the oldest generation unwalked (freeze and unfreeze
        # move whole lists): re-enabled as it was, the first allocation would walk all of it,
        # a 3,000-episode manifest's objects that reference counting frees anyway (0.05 s).
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()
