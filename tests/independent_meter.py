"""An independent meter for leveler results: ffmpeg's ebur128 filter, not our own meter.

Per speaker and per turn loudness are BS.1770 integrated values (absolute gate -70 LUFS,
relative gate -10 LU) over the 400 ms momentary blocks that ebur128 logs every 100 ms and
that lie wholly inside the turns; pause levels are plain RMS (dBFS, both channels) of the
decoded file over each pause less 100 ms at either end (speech tails, MP3 pre-echo).
"""

from __future__ import annotations

import math
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from conversation import Turn

BLOCK_S = 0.4
PAUSE_TRIM_S = 0.1
MS_HOP_S = 0.01

_FRAME = re.compile(r"\bt:\s*([0-9.]+)\s+TARGET:.*?\bM:\s*(-?[0-9.]+|-?inf|nan)\s+"
                    r"S:\s*(-?[0-9.]+|-?inf|nan)")


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass
class Ebur128:
    t: np.ndarray  # end of each 100 ms frame, s
    momentary: np.ndarray  # LUFS of the 400 ms block ending at t
    short_term: np.ndarray  # LUFS of the 3 s window ending at t
    integrated: float
    lra: float
    true_peak: float  # dBTP


def ebur128(path: Path | str, exe: str | None = None, dualmono: bool = False) -> Ebur128:
    """Run ebur128 with per-frame logging and parse it; `dualmono` measures a mono file as
    played on two speakers (+3 LU), to compare it with a stereo one.

    ffmpeg 7+ logs the per-frame lines at the level `framelog` names, and only if the global
    log level lets them through: `framelog=verbose` needs `-v verbose` too (without it only
    the summary prints). Each line's `t:` is the end of its 100 ms frame minus one sample.
    """
    meter = f"ebur128=peak=true:framelog=verbose:dualmono={str(dualmono).lower()}"
    cmd = [exe or ffmpeg_exe(), "-nostats", "-hide_banner", "-v", "verbose", "-i", str(path),
           "-map", "0:a:0", "-af", meter, "-f", "null", "-"]
    err = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
    rows = [(float(m[1]), float(m[2]), float(m[3])) for m in _FRAME.finditer(err)]
    summary = err[err.rindex("Summary:"):]
    a = np.array(rows, dtype=float).reshape(-1, 3)

    def field(label: str) -> float:
        return float(re.search(label + r":\s*(-?[0-9.]+|-?inf)", summary)[1])

    return Ebur128(t=np.round(a[:, 0], 1), momentary=a[:, 1], short_term=a[:, 2],
                   integrated=field("I"), lra=field("LRA"), true_peak=field("Peak"))


def gated_lufs(block_lufs: np.ndarray) -> float:
    """BS.1770 integrated loudness of a set of 400 ms blocks (-inf when all are gated)."""
    b = block_lufs[np.isfinite(block_lufs) & (block_lufs > -70.0)]
    if not b.size:
        return -math.inf
    e = 10 ** ((b + 0.691) / 10)
    rel = -0.691 + 10 * math.log10(e.mean()) - 10.0
    e = e[b > rel]
    return float(-0.691 + 10 * math.log10(e.mean()))


def _blocks_in(r: Ebur128, spans: Sequence[tuple[float, float]]) -> np.ndarray:
    keep = np.zeros(len(r.t), dtype=bool)
    for a, b in spans:
        keep |= (r.t - BLOCK_S >= a - 0.05) & (r.t <= b + 0.05)
    return r.momentary[keep]


def rms_series(path: Path | str, exe: str | None = None, rate: int = 44100) -> np.ndarray:
    """Mean square (averaged over channels) every 10 ms of the decoded file, streamed."""
    hop = round(MS_HOP_S * rate)
    cmd = [exe or ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "2",
           "-ar", str(rate), "-f", "f32le", "-"]
    out: list[np.ndarray] = []
    left = np.zeros(0, dtype=np.float64)
    with subprocess.Popen(cmd, stdout=subprocess.PIPE) as proc:
        while data := proc.stdout.read(1 << 20):
            x = np.frombuffer(data[:len(data) // 8 * 8], dtype="<f4").reshape(-1, 2)
            sq = np.concatenate([left, (x.astype(np.float64) ** 2).mean(axis=1)])
            whole = len(sq) // hop * hop
            out.append(sq[:whole].reshape(-1, hop).mean(axis=1))
            left = sq[whole:]
    return np.concatenate(out) if out else np.zeros(0)


@dataclass
class Report:
    speaker_lufs: dict[str, float]
    speaker_spread: float  # max - min of speaker_lufs
    turn_std: float
    turns_within: float  # share of turns within +-2 LU of the target
    pause_median_dbfs: float
    integrated: float
    lra: float
    true_peak: float
    turn_lufs: np.ndarray

    def row(self) -> dict[str, float]:
        return {"I": self.integrated, "TP": self.true_peak, "LRA": self.lra,
                "spk_diff": self.speaker_spread, "turn_std": self.turn_std,
                "in_2LU": 100 * self.turns_within, "pause": self.pause_median_dbfs,
                **{f"{k}": v for k, v in self.speaker_lufs.items()}}


def measure(path: Path | str, turns: Sequence[Turn], pauses: Sequence[tuple[float, float]],
            target: float = -16.0, exe: str | None = None) -> Report:
    r = ebur128(path, exe)
    speakers = sorted({t.speaker for t in turns})
    per_speaker = {s: gated_lufs(_blocks_in(r, [(t.start, t.end) for t in turns
                                                if t.speaker == s])) for s in speakers}
    per_turn = np.array([gated_lufs(_blocks_in(r, [(t.start, t.end)])) for t in turns])
    ms = rms_series(path, exe)
    levels = []
    for a, b in pauses:
        i, j = math.ceil((a + PAUSE_TRIM_S) / MS_HOP_S), math.floor((b - PAUSE_TRIM_S) / MS_HOP_S)
        if j > i and j <= len(ms):
            levels.append(10 * math.log10(ms[i:j].mean() + 1e-20))
    finite = per_turn[np.isfinite(per_turn)]
    values = list(per_speaker.values())
    return Report(
        speaker_lufs=per_speaker, speaker_spread=max(values) - min(values),
        turn_std=float(finite.std()), turns_within=float(np.mean(np.abs(per_turn - target) <= 2.0)),
        pause_median_dbfs=float(np.median(levels)) if levels else math.nan,
        integrated=r.integrated, lra=r.lra, true_peak=r.true_peak, turn_lufs=per_turn)
