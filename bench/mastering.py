"""Benchmark `publish master` against a bare LAME encode and ffmpeg-normalize, same settings.

    python bench/mastering.py [--minutes 60] [--only-publish]

Each run is a fresh subprocess; peak memory is that child's ru_maxrss (the largest process in
the run's tree, so for ffmpeg-normalize and us it is the biggest of Python and ffmpeg).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
from scipy.signal import lfilter

REPO = Path(__file__).resolve().parent.parent

RATE = 44100


def speech_like(path: Path, minutes: float, seed: int = 1) -> None:
    """Noise through a voice-band filter, gated at syllable rate, with pauses and two speakers;
    written one minute at a time so generating 3 hours needs little memory."""
    rng = np.random.default_rng(seed)
    state = np.zeros(2)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        for minute in range(int(minutes)):
            t = minute * 60 + np.arange(60 * RATE) / RATE
            voice, state = lfilter([1.0], [1.0, -1.6, 0.7], rng.standard_normal(len(t)), zi=state)
            envelope = np.clip(np.sin(2 * np.pi * 4.3 * t), 0, None) ** 2
            envelope *= np.sin(2 * np.pi * 0.13 * t) > -0.7  # pauses
            envelope *= np.where((t // 20) % 2 == 0, 1.0, 0.35)  # loud and quiet speaker
            x = 0.05 * voice * envelope
            frames = np.stack([x, 0.9 * x], axis=1)
            w.writeframes((np.clip(frames, -1, 1) * 32767).astype("<i2").tobytes())


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system, all processes) and peak RSS (MB) of cmd, run
    through a fresh Python that reports rusage. CPU time barely moves when other work shares
    the cores, so it keeps the comparison honest when the walls are inflated."""
    probe = ("import resource,subprocess,sys,time;t=time.perf_counter();"
             "subprocess.run(sys.argv[1:],check=True,stdout=subprocess.DEVNULL);"
             "r=resource.getrusage(resource.RUSAGE_CHILDREN);"
             "print(time.perf_counter()-t,r.ru_utime+r.ru_stime,r.ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1]), float(out[2]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--only-publish", action="store_true", help="skip the two comparisons")
    args = ap.parse_args()
    import imageio_ffmpeg

    exe = os.environ.get("PUBLISH_FFMPEG") or imageio_ffmpeg.get_ffmpeg_exe()
    env = {**os.environ, "FFMPEG_PATH": exe}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.wav"
        speech_like(src, args.minutes)
        lame = ["-c:a", "libmp3lame", "-b:a", "128k"]
        runs = {
            "bare ffmpeg encode": [exe, "-y", "-v", "error", "-i", str(src), *lame,
                                   str(Path(tmp) / "bare.mp3")],
            "ffmpeg-normalize": [str(Path(sys.executable).with_name("ffmpeg-normalize")),
                                 str(src), "-t", "-16", "-tp", "-1", *lame, "-f", "-q",
                                 "-o", str(Path(tmp) / "norm.mp3")],
            "publish master": [sys.executable, str(REPO / "cli.py"), "master",
                               str(src), "-o", str(Path(tmp) / "ours.mp3"), "--json"],
        }
        if args.only_publish:
            runs = {"publish master": runs["publish master"]}
        results = {name: timed(cmd, env) for name, cmd in runs.items()}
    base = results.get("bare ffmpeg encode")
    print(f"{args.minutes:g} min stereo 44.1 kHz speech-like WAV, {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.1f}")
    print(f"| {'run':<20} | wall (s) | CPU (s) | peak RSS (MB) | wall vs bare | CPU vs bare |")
    print(f"|{'-' * 22}|---------:|--------:|--------------:|-------------:|------------:|")
    for name, (wall, cpu, rss) in results.items():
        ratios = (f"{wall / base[0]:.2f}x", f"{cpu / base[1]:.2f}x") if base else ("-", "-")
        print(f"| {name:<20} | {wall:8.1f} | {cpu:7.1f} | {rss:13.0f} | {ratios[0]:>12} "
              f"| {ratios[1]:>11} |")
    if "ffmpeg-normalize" in results:
        speedup = results["ffmpeg-normalize"][0] / results["publish master"][0]
        print(f"publish master is {speedup:.1f}x faster than ffmpeg-normalize")


if __name__ == "__main__":
    main()
