"""Time stamps as people write them (chapters, cues) and as feeds and files want them."""

from __future__ import annotations

import math
import re

# Digits only: float() would also take "nan", "inf", "-30" and "1e3" inside a time.
_NUMBER = re.compile(r"\d+(\.\d+)?")


def parse_timestamp(v: str | float) -> float:
    """Seconds from 93.5, "01:33.5" or "00:01:33.500": finite, never negative, and below 60 in
    every part but the first."""
    if isinstance(v, (int, float)):
        if not math.isfinite(v):
            raise ValueError(f"{v!r} is not a time: it must be a finite number of seconds")
        if v < 0:
            raise ValueError("must not be negative")
        return float(v)
    parts = v.strip().split(":")
    if not 1 <= len(parts) <= 3 or not all(_NUMBER.fullmatch(p) for p in parts) \
            or any(float(p) >= 60 for p in parts[1:]):
        raise ValueError(f"{v!r} is not a time (HH:MM:SS, MM:SS or seconds)")
    seconds = 0.0
    for p in parts:
        seconds = seconds * 60 + float(p)
    if not math.isfinite(seconds):  # 400 digits are digits, and float() makes them inf
        raise ValueError(f"{v!r} is not a time: it must be a finite number of seconds")
    return seconds


def format_ms(ms: int, sep: str = ".") -> str:
    """"HH:MM:SS.mmm" (WebVTT, Podlove) or with sep="," (SubRip)."""
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_ms(seconds: float) -> int:
    return round(seconds * 1000)
