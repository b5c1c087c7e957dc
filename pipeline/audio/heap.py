"""Give large freed arrays back to the system at once.

glibc serves big allocations with mmap, but after the first big free it raises that
threshold (up to 32 MB), so the 17 MB per-step arrays of a 3-hour episode then come from the
heap and stay in it when freed: the process keeps the sum of the stages' arrays, not the
largest stage's. A fixed 1 MB threshold ends that; decoded chunks (512 KB) stay in the heap,
where reusing them costs no system time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_FROM_BYTES = 1 << 20


def return_large_frees() -> None:
    """Best effort: only glibc has this knob; elsewhere its own policy applies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_FROM_BYTES)
    except (OSError, AttributeError):
        pass
