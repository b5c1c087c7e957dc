"""What renditions cost: adding Opus 48 mono and AAC 96 to a published episode, against the
episode's mastering and against a bare ffmpeg transcode of the same MP3 (no loudness check).

    python bench/renditions.py [--minutes 10]

Loudness is read with ffmpeg's ebur128 (a mono file as dual mono), durations from the
decoded samples, both against the MP3.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mastering import REPO, speech_like, timed

sys.path.insert(0, str(REPO / "tests"))
from independent_meter import ebur128, ffmpeg_exe  # noqa: E402

PUBLISH = [sys.executable, str(REPO / "cli.py")]
RENDITIONS = ('\n[[renditions]]\nformat = "opus"\nbitrate = 48\nchannels = 1\n'
              '\n[[renditions]]\nformat = "aac"\nbitrate = 96\n')


def decoded_s(path: Path) -> float:
    pcm = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1",
                          "-ar", "48000", "-"], capture_output=True, check=True).stdout
    return len(pcm) / 4 / 48000


def row(name: str, path: Path, mp3: Path, cost: tuple[float, float, float] | None) -> str:
    mono = "opus" in path.suffix and "mono" in name
    loud, ref = ebur128(path, dualmono=mono), ebur128(mp3)
    wall, cpu, rss = (f"{v:.1f}" for v in cost) if cost else ("-", "-", "-")
    return (f"| {name} | {path.stat().st_size / 1e6:.2f} | {loud.integrated - ref.integrated:+.1f}"
            f" | {loud.true_peak:.1f} | {(decoded_s(path) - decoded_s(mp3)) * 1000:+.0f} | {wall}"
            f" | {cpu} | {rss} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-renditions-") as tmp:
        project = Path(tmp) / "show"
        for sub in ("feeds", "episodes"):
            shutil.copytree(REPO / sub, project / sub)
        folder = project / "episodes/001-welcome"
        speech_like(folder / "long.wav", args.minutes)
        toml = folder / "episode.toml"
        text = toml.read_text().replace('audio = "recording.opus"', 'audio = "long.wav"')
        toml.write_text(text.split("[[chapters]]")[0].replace('transcript = "transcript.vtt"\n',
                                                              ""))
        run = [*PUBLISH, "-C", str(project), "episode", "1"]
        master = timed(run)
        feed = project / "feeds/women-in-surgery.toml"
        feed.write_text(feed.read_text() + RENDITIONS)
        added = timed(run)
        manifest = json.loads((project / "public/manifest.json").read_text())
        ep = manifest["episodes"]["welcome"]
        mp3 = project / "public" / ep["audio"]["key"]
        opus, aac = (project / "public" / r["key"] for r in ep["renditions"])
        bare_opus, bare_aac = Path(tmp) / "bare.opus", Path(tmp) / "bare.m4a"
        bare = [timed([ffmpeg_exe(), "-v", "error", "-i", str(mp3), "-map", "0:a", "-ac", "1",
                       "-c:a", "libopus", "-b:a", "48k", str(bare_opus)]),
                timed([ffmpeg_exe(), "-v", "error", "-i", str(mp3), "-map", "0:a",
                       "-c:a", "aac", "-b:a", "96k", str(bare_aac)])]
        print(f"{args.minutes:g} min generated speech; wall/CPU in s, RSS in MB; ΔI and Δt "
              "against the MP3")
        print("| file | MB | ΔI (LU) | TP (dBTP) | Δt (ms) | wall | CPU | RSS |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        print(row("MP3 128k (mastering + encode)", mp3, mp3, master))
        print(row("publish: Opus 48 mono + AAC 96 added", opus, mp3, added))
        print(row("  its AAC 96 stereo", aac, mp3, None))
        print(row("bare ffmpeg Opus 48 mono", bare_opus, mp3, bare[0]))
        print(row("bare ffmpeg AAC 96", bare_aac, mp3, bare[1]))


if __name__ == "__main__":
    main()
