"""Time stamps as people write them (chapters, cues) and as feeds and files want them."""

from __future__ import annotations


def parse_timestamp(v: str | float) -> float:
    """Seconds from 93.5, "01:33.5" or "00:01:33.500"."""
    if isinstance(v, (int, float)):
        if v < 0:
            raise ValueError("must not be negative")
        return float(v)
    parts = v.strip().split(":")
    try:
        if not 1 <= len(parts) <= 3:
            raise ValueError
        seconds = 0.0
        for p in parts:
            seconds = seconds * 60 + float(p)
    except ValueError:
        raise ValueError(f"{v!r} is not a time (HH:MM:SS, MM:SS or seconds)") from None
    if seconds < 0:
        raise ValueError("must not be negative")
    return seconds


def format_ms(ms: int, sep: str = ".") -> str:
    """"HH:MM:SS.mmm" (WebVTT, Podlove) or with sep="," (SubRip)."""
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_ms(seconds: float) -> int:
    return round(seconds * 1000)
