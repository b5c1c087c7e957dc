"""Benchmark rendering the show's website of a large catalogue, beside rendering its feed.

    python bench/site.py [--episodes 1000] [--cues 400]

The catalogue is generated in memory (notes, eight chapters, four people, a soundbite and a
transcript of --cues lines per episode, about 30 minutes of talk at 400, 60 at 800, 3 hours
at 2400: longer ones get a transcript page of their own), then the site and
the feed are each rendered from it as `publish feed` would: a pure function of the manifest,
so no storage or audio is involved. The goal: the site of 1,000 episodes in under 5 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalogue import NOW, catalogue  # also puts the working tree on sys.path

from pipeline.feed.render import render_feed
from pipeline.site import theme
from pipeline.site.render import render_site


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--cues", type=int, default=400, help="transcript lines per episode")
    args = parser.parse_args()
    feed, manifest, transcripts = catalogue(args.episodes, args.cues)
    look, load_s, _ = timed(theme.load)
    site, site_s, site_cpu = timed(lambda: render_site([feed], manifest, NOW, look, transcripts))
    _, feed_s, feed_cpu = timed(lambda: render_feed(feed, manifest, NOW))
    page = site.pages["episodes/episode-0001.html"]
    css_js = sum(len(v) for k, v in site.assets.items() if k.endswith((".css", ".js")))
    size_mb = sum(map(len, site.pages.values())) / 1e6

    print(f"{args.episodes} episodes, {args.cues} transcript lines each; "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
          f"Python {platform.python_version()}")
    print()
    print("| render | wall (s) | CPU (s) | output |")
    print("|---|---:|---:|---|")
    print(f"| feed (`render_feed`) | {feed_s:.2f} | {feed_cpu:.2f} | one RSS file |")
    print(f"| site (`render_site`) | {site_s:.2f} | {site_cpu:.2f} | "
          f"{len(site.pages)} pages, {size_mb:.1f} MB |")
    print()
    goal = (f"; goal (1,000 episodes under 5 s): {'met' if site_s < 5 else 'missed'}"
            if args.episodes == 1000 else "")
    apart = site.pages.get("episodes/episode-0001/transcript.html")
    where = (f"its transcript on a page of its own, {len(apart) / 1000:.1f} KB" if apart
             else "its transcript inline")
    print(f"theme load {load_s * 1000:.0f} ms; one episode page with its CSS and JS: "
          f"{(len(page) + css_js) / 1000:.1f} KB ({where}; budget 60 KB){goal}")


if __name__ == "__main__":
    main()
