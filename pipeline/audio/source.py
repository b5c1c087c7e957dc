"""Refuse a source file that is visibly cut short, before hours of audio are mastered from it.

ffmpeg decodes what is there and says little; a WAV's header, though, announces how many
bytes of audio follow, so a copy that stopped part-way is caught exactly.
"""

from __future__ import annotations

import struct
from pathlib import Path

from ..errors import PublishError

UNKNOWN_SIZES = {0, 0xFFFFFFFF}  # streamed WAVs leave the size open


def wav_shortfall(header: bytes, file_size: int) -> tuple[int, int] | None:
    """(announced, present) audio bytes of a RIFF/WAVE file missing some; else None."""
    if len(header) < 12 or header[:4] not in (b"RIFF", b"RF64") or header[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(header):
        chunk, size = header[pos:pos + 4], struct.unpack_from("<I", header, pos + 4)[0]
        if chunk == b"data":
            present = file_size - (pos + 8)
            if size in UNKNOWN_SIZES or header[:4] == b"RF64":
                return None
            return (size, present) if present < size else None
        pos += 8 + size + (size & 1)
    return None


def check_complete(src: Path) -> None:
    src = Path(src)
    try:
        with open(src, "rb") as f:
            header = f.read(1 << 16)
        size = src.stat().st_size
    except OSError as exc:
        raise PublishError(f"cannot read: {exc.strerror}", where=src) from None
    if size == 0:
        raise PublishError("the file is empty (0 bytes)", where=src)
    missing = wav_shortfall(header, size)
    if missing:
        announced, present = missing
        raise PublishError(f"truncated: the WAV header announces {announced} bytes of audio, "
                           f"the file holds {max(present, 0)} (an interrupted copy?)", where=src)
