"""Benchmark the speech leveler on a generated conversation against the normalizers people use.

    python bench/leveling.py [--minutes 14] [--host-db -12]

One run masters the same conversation (a host recorded well under the loudest guest, quick
turns of 3-15 s, pauses, room noise) with `publish master`, `publish master --no-level`,
`publish master --denoise` (RNNoise first: its row's CPU less the first row's is what noise
reduction costs), ffmpeg-normalize (if installed: pip install '.[bench]'), ffmpeg's
speechnorm + loudnorm and dynaudnorm + loudnorm, all to MP3 128k at -16 LUFS / -1 dBTP,
and judges every output with ffmpeg's ebur128 (not our meter): loudness difference between
speakers, per-turn spread, share of turns within 2 LU of the target, median pause level,
integrated loudness, true peak, wall and CPU time and peak memory.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO / "bench")]

from conversation import conversation, default_voices, write_wav  # noqa: E402
from independent_meter import measure  # noqa: E402
from mastering import timed  # noqa: E402

TARGET, PEAK = -16.0, -1.0
LAME = ["-c:a", "libmp3lame", "-b:a", "128k"]


def runs(exe: str, src: Path, out: Path) -> dict[str, list[str]]:
    ff = [exe, "-y", "-v", "error", "-i", str(src)]
    loudnorm = f"loudnorm=I={TARGET}:TP={PEAK}:LRA=11"
    found = {
        "publish master": [sys.executable, str(REPO / "cli.py"), "master", str(src), "-o",
                           str(out / "ours.mp3")],
        "publish master --no-level": [sys.executable, str(REPO / "cli.py"), "master", str(src),
                                      "-o", str(out / "linear.mp3"), "--no-level"],
        "publish master --denoise": [sys.executable, str(REPO / "cli.py"), "master", str(src),
                                     "-o", str(out / "denoised.mp3"), "--denoise"],
        "speechnorm + loudnorm": [*ff, "-af", f"speechnorm=e=12.5:r=0.0001:l=1,{loudnorm}",
                                  "-ar", "44100", *LAME, str(out / "speechnorm.mp3")],
        "dynaudnorm + loudnorm": [*ff, "-af", f"dynaudnorm,{loudnorm}", "-ar", "44100", *LAME,
                                  str(out / "dynaudnorm.mp3")],
        "bare ffmpeg encode": [*ff, *LAME, str(out / "bare.mp3")],
    }
    norm = shutil.which("ffmpeg-normalize") or str(Path(sys.executable).with_name(
        "ffmpeg-normalize"))
    if Path(norm).exists():
        found["ffmpeg-normalize"] = [norm, str(src), "-t", str(TARGET), "-tp", str(PEAK), *LAME,
                                     "-ar", "44100", "-f", "-q", "-o", str(out / "norm.mp3")]
    return found


OUTPUTS = {"publish master": "ours.mp3", "publish master --no-level": "linear.mp3",
           "publish master --denoise": "denoised.mp3",
           "speechnorm + loudnorm": "speechnorm.mp3", "dynaudnorm + loudnorm": "dynaudnorm.mp3",
           "ffmpeg-normalize": "norm.mp3", "bare ffmpeg encode": "bare.mp3"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=14)
    ap.add_argument("--host-db", type=float, default=-12.0,
                    help="the host's level under the loudest guest")
    args = ap.parse_args()
    import imageio_ffmpeg

    exe = os.environ.get("PUBLISH_FFMPEG") or imageio_ffmpeg.get_ffmpeg_exe()
    env = {**os.environ, "FFMPEG_PATH": exe}
    rec = conversation(args.minutes * 60, seed=1,
                       voices=default_voices(host_offset_db=args.host_db))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        src = write_wav(out / "talk.wav", rec.audio, rec.rate)
        rows = {"source": (measure(src, rec.turns, rec.pauses, TARGET), None)}
        for name, cmd in runs(exe, src, out).items():
            cost = timed(cmd, env)
            rows[name] = (measure(out / OUTPUTS[name], rec.turns, rec.pauses, TARGET), cost)
    print(f"{args.minutes:g} min conversation, host {args.host_db:+g} dB, {os.cpu_count()} "
          f"cores, {time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.1f}")
    print("| master | speaker diff (LU) | turn std (LU) | turns in ±2 LU | pause median (dBFS)"
          " | I (LUFS) | TP (dBTP) | wall (s) | CPU (s) | RSS (MB) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, (r, cost) in rows.items():
        wall, cpu, rss = (f"{v:.1f}" for v in cost) if cost else ("-", "-", "-")
        print(f"| {name} | {r.speaker_spread:.1f} | {r.turn_std:.1f} | "
              f"{100 * r.turns_within:.0f} % | {r.pause_median_dbfs:.1f} | {r.integrated:.1f} | "
              f"{r.true_peak:.1f} | {wall} | {cpu} | {rss} |")


if __name__ == "__main__":
    main()
