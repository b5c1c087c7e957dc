"""Mastering: bring a recording to the feed's loudness target and encode the MP3."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import ffmpeg
from .config import AudioSettings
from .errors import PublishError

# Bump when a change to mastering changes the output, so published episodes are re-encoded.
ENGINE_VERSION = "1"


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    lra: float
    true_peak_dbtp: float


@dataclass
class MasterReport:
    """What mastering did, for the manifest, `--json` and the loudness report."""

    input: Loudness
    output: Loudness
    gain_db: float
    limited_s: float
    duration_s: float
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


_SUMMARY = {
    "integrated_lufs": re.compile(r"I:\s+(-?[\d.]+|-inf) LUFS"),
    "lra": re.compile(r"LRA:\s+(-?[\d.]+) LU"),
    "true_peak_dbtp": re.compile(r"Peak:\s+(-?[\d.]+|-inf) dBFS"),
}


def measure(exe: str, path: Path) -> Loudness:
    """Integrated loudness, LRA and true peak with ffmpeg's ebur128 filter."""
    err = ffmpeg.run([*ffmpeg.base_args(exe), "-loglevel", "info", "-i", str(path), "-vn",
                      "-af", "ebur128=peak=true:framelog=quiet", "-f", "null", "-"],
                     what="measuring loudness", where=path)
    summary = err[err.rfind("Summary:"):]
    values = {}
    for name, pattern in _SUMMARY.items():
        m = pattern.search(summary)
        if not m:
            raise PublishError("could not measure loudness (no audio decoded?)", where=path)
        values[name] = float(m.group(1))
    return Loudness(**values)


def master_to_mp3(exe: str, src: Path, dst: Path, audio: AudioSettings,
                  progress: ffmpeg.ProgressFn | None = None) -> MasterReport:
    """One linear gain to the target, peaks held under the ceiling, encoded to MP3."""
    before = measure(exe, src)
    if before.integrated_lufs < -70:
        raise PublishError("no audible audio (integrated loudness is undefined)", where=src)
    gain = audio.target_lufs - before.integrated_lufs
    ceiling = 10 ** (audio.true_peak_dbtp / 20)
    chain = f"volume={gain:.2f}dB,alimiter=limit={ceiling:.4f}:level=false:attack=5:release=50"
    ffmpeg.run([*ffmpeg.base_args(exe), "-y", "-i", str(src), "-vn", "-map_metadata", "-1",
                "-af", chain, "-ar", str(audio.sample_rate), "-ac", str(audio.channels),
                "-c:a", "libmp3lame", "-b:a", f"{audio.bitrate}k", "-id3v2_version", "0",
                "-write_xing", "1", str(dst)], what="encoding the MP3", where=src)
    after = measure(exe, dst)
    return MasterReport(input=before, output=after, gain_db=round(gain, 2), limited_s=0.0,
                        duration_s=ffmpeg.probe_duration(exe, dst) or 0.0)
