"""Score the leveler's speech detector against generated conversations whose speech is known.

    python bench/speech_detection.py [--minutes 14]

Each case is a conversation like bench/leveling.py's (three voices, the host 12 dB under the
loudest guest), with speakers jumping in without a pause (quick), inhalations before
phrases (breaths) or a noisier room. The detector runs as in `publish master` (pass 1:
decode, high-pass, meter and voicing; then the leveler's analysis) and is scored per 5 ms
step by tests/speech_truth.py: recall, precision, and how much of the pauses and breaths it
takes for speech; the last column judges by level alone (no voicing), which is why the
voicing pass exists.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from conversation import conversation, write_wav  # noqa: E402
from speech_truth import detect, score  # noqa: E402

from pipeline.audio import ffmpeg  # noqa: E402

# name: (quick_share, breath_share, room noise dBFS)
CASES = {
    "plain, room at -60 dBFS": (0.0, 0.0, -60.0),
    "quick changes (half the turns)": (0.5, 0.0, -60.0),
    "breaths (60 % of long pauses)": (0.0, 0.6, -60.0),
    "quick + breaths, room at -50 dBFS": (0.5, 0.6, -50.0),
    "quick + breaths, room at -45 dBFS": (0.5, 0.6, -45.0),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=14)
    args = ap.parse_args()
    exe = ffmpeg.find_ffmpeg()
    print(f"{args.minutes:g} min conversations, {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.1f}")
    print("| case | recall | precision | pauses as speech | breaths as speech "
          "| breaths as speech, level only |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (quick, breath, noise) in CASES.items():
            rec = conversation(args.minutes * 60, seed=1, quick_share=quick,
                               breath_share=breath, noise_dbfs=noise)
            src = write_wav(Path(tmp) / "talk.wav", rec.audio, rec.rate)
            mask, step_s = detect(exe, src)
            got = score(mask, rec, step_s)
            level_only = score(detect(exe, src, voicing=False)[0], rec, step_s)
            print(f"| {name} | {_pc(got.recall)} | {_pc(got.precision)} | "
                  f"{_pc(got.pauses_as_speech)} | {_pc(got.breaths_as_speech)} | "
                  f"{_pc(level_only.breaths_as_speech)} |")


def _pc(share: float) -> str:
    return "-" if share != share else f"{100 * share:.1f} %"


if __name__ == "__main__":
    main()
