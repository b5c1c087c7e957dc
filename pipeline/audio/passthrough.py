"""Publish a finished MP3 as it is (`master = false`): a back catalogue moved from another host
keeps its audio bit for bit, spared a second lossy generation; it is only measured."""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path

from ..errors import ConfigError
from . import ffmpeg
from .meter import Measurement, Meter
from .timeline import Placement

# Same rate and channels for every file: what the manifest compares is LUFS, not samples.
MEASURE_RATE = 48000
MEASURE_CHANNELS = 2


def is_mp3(path: Path) -> bool:
    from mutagen import File, MutagenError
    from mutagen.mp3 import MP3

    try:
        return isinstance(File(path), MP3)
    except MutagenError:
        return False


def measure_file(exe: str, path: Path) -> Measurement:
    """The loudness of a file as listeners hear it (decoded, K-weighted, gated)."""
    meter = Meter(MEASURE_RATE, MEASURE_CHANNELS)
    args = ffmpeg.decode_args(exe, path, MEASURE_RATE, MEASURE_CHANNELS)
    with ffmpeg.pipe(args, "measuring", where=path) as proc:
        for x in ffmpeg.chunks(proc.stdout, MEASURE_CHANNELS):
            meter.add(x)
    return meter.result()


def publish_as_is(exe: str, src: Path, dst: Path, where: Path) -> dict:
    """Copy the MP3 to `dst` (tags are rewritten later) and return its loudness in the shape
    mastering reports it, with gain 0: the manifest reads the same either way."""
    if not is_mp3(src):
        raise ConfigError(f"master = false publishes the file as it is, and {src.name} is not "
                          "an MP3: set master = true to encode it", where=where, field="master")
    shutil.copyfile(src, dst)
    m = measure_file(exe, dst)
    loudness = {"integrated_lufs": round(m.integrated_lufs, 2) if m.audible else None,
                "lra": round(m.lra, 2), "true_peak_dbtp": round(m.true_peak_dbtp, 2)}
    # The recording is the MP3: chapters and cues map onto it as they are, on a re-tag too.
    return {"input": loudness, "output": loudness, "gain_db": 0.0, "limited_s": 0.0,
            "duration_s": round(m.duration_s, 3), "warnings": [], "as_published": True,
            "timeline": asdict(Placement(MEASURE_RATE))}
