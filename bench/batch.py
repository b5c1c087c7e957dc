"""Benchmark publishing a catalogue in one batch against publishing it one episode at a time.

    python bench/batch.py [--episodes 20] [--jobs 2] [--min-s 30] [--max-s 60]

Two scratch copies of the demo project get the same generated episodes (speech-like WAV of
--min-s to --max-s seconds, mastered as usual); one is published with one
`publish episode --all --jobs N`, the other with one `publish episode K` per episode, each
into its own local folder. Feed writes are counted twice: from each run's `--json` actions,
and in storage, by the feed file's inode (local storage writes by atomic rename, so every
write is a new inode; sampled after each command, so it can confirm at most one per command).
The goal (issue 13): the batch at least 1.7x faster, with one feed write.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the test suite's signal generator

from signals import speech_like, write_wav  # noqa: E402

FEED = "women-in-surgery"
# The working tree's `publish`, as the tests run it, not an installed copy.
PUBLISH = [sys.executable, "-c",
           "import sys; sys.path.insert(0, sys.argv.pop(1)); from cli import main; "
           "main(prog_name='publish')", str(REPO)]


def make_project(dest: Path, count: int, min_s: float, max_s: float) -> Path:
    """The demo feed with `count` generated episodes (durations spread over min..max)."""
    shutil.copytree(REPO / "feeds", dest / "feeds")
    for n in range(1, count + 1):
        folder = dest / "episodes" / f"{n:03d}-talk-{n}"
        folder.mkdir(parents=True)
        seconds = min_s + (max_s - min_s) * (n - 1) / max(count - 1, 1)
        write_wav(folder / "recording.wav", speech_like(seconds, seed=n), 44100)
        (folder / "episode.toml").write_text(
            f'title = "Talk {n}"\nnumber = {n}\npublished = 2026-11-20T09:00:00-05:00\n'
            f'audio = "recording.wav"\nnotes = "Talk number {n}."\n', encoding="utf-8")
    return dest


def publish(project: Path, *args: str) -> dict:
    proc = subprocess.run([*PUBLISH, "-C", str(project), "episode", *args, "--json"],
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.exit(f"publish episode {' '.join(args)} failed: {proc.stderr}")
    return json.loads(proc.stdout)


def feed_inode(project: Path) -> int | None:
    path = project / "public" / f"{FEED}.xml"
    return path.stat().st_ino if path.exists() else None


def timed(project: Path, commands: list[list[str]]) -> dict:
    """Run the commands in order; wall and children's CPU time, feed writes both ways."""
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    said, seen, inode = 0, 0, feed_inode(project)
    for args in commands:
        result = publish(project, *args)
        said += [a.split()[1] for a in result["actions"]].count(f"{FEED}.xml")
        now = feed_inode(project)
        seen += now != inode
        inode = now
    wall = time.perf_counter() - start
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    manifest = json.loads((project / "public" / "manifest.json").read_text())
    return {"wall_s": wall, "cpu_s": cpu, "feed_writes": said, "feed_inodes": seen,
            "published": len(manifest["episodes"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--min-s", type=float, default=30.0)
    ap.add_argument("--max-s", type=float, default=60.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        one = make_project(Path(tmp) / "one-by-one", args.episodes, args.min_s, args.max_s)
        batch = Path(shutil.copytree(one, Path(tmp) / "batch"))
        load_before = os.getloadavg()
        singles = timed(one, [[str(n)] for n in range(1, args.episodes + 1)])
        batched = timed(batch, [["--all", "--jobs", str(args.jobs)]])
        load_after = os.getloadavg()
    print(f"{args.episodes} episodes of {args.min_s:g}-{args.max_s:g} s speech-like WAV, "
          f"mastered; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}; load average "
          f"(1/5/15 min) before {'/'.join(f'{x:.1f}' for x in load_before)}, after "
          f"{'/'.join(f'{x:.1f}' for x in load_after)}")
    print()
    print("| run | wall (s) | CPU (s) | feed writes (actions) | feed writes (storage) "
          "| episodes published |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in ((f"{args.episodes} x `publish episode K`", singles),
                    (f"`publish episode --all --jobs {args.jobs}`", batched)):
        print(f"| {name} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['feed_writes']} "
              f"| {r['feed_inodes']} | {r['published']} |")
    print()
    speedup = singles["wall_s"] / batched["wall_s"]
    goal = speedup >= 1.7 and batched["feed_writes"] == 1
    print(f"batch speed-up {speedup:.2f}x wall, {singles['cpu_s'] / batched['cpu_s']:.2f}x CPU; "
          f"goal (>= 1.7x, one feed write): {'met' if goal else 'missed'}")


if __name__ == "__main__":
    main()
