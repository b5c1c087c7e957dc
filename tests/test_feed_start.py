"""`publish feed` loads only what rebuilding a feed needs: a 3,000-episode rebuild is mostly
process start (bench/feed.py), and the audio stack alone was half of that start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from helpers import REPO

# Modules `publish feed` never uses: the audio stack, S3, the checks, the importer, pings'
# HTTP client until a ping is sent, and Markdown until notes are converted.
NOT_NEEDED = ("numpy", "scipy", "mutagen", "matplotlib", "pydub", "boto3", "urllib3",
              "markdown", "pipeline.audio", "pipeline.checks", "pipeline.importer",
              "pipeline.publish", "pipeline.storage.s3")
# Runs the working tree's cli like helpers.PUBLISH, then lists the modules it loaded.
RUN_AND_LIST = """import sys, json
sys.path.insert(0, sys.argv.pop(1))
out = sys.argv.pop(1)
from cli import main
try:
    main(prog_name="publish")
except SystemExit as exc:
    json.dump({"exit": exc.code, "modules": sorted(sys.modules)}, open(out, "w"))
"""


def test_feed_command_loads_no_audio_stack(project: Path, tmp_path: Path):
    listing = tmp_path / "modules.json"
    proc = subprocess.run([sys.executable, "-c", RUN_AND_LIST, str(REPO), str(listing),
                           "-C", str(project), "feed", "--no-ping"],
                          capture_output=True, text=True, timeout=120, check=False)
    result = json.loads(listing.read_text())
    assert result["exit"] == 0, proc.stderr
    assert (project / "public" / "women-in-surgery.xml").is_file()  # the feed was rebuilt
    loaded = [name for name in result["modules"]
              if any(name == m or name.startswith(m + ".") for m in NOT_NEEDED)]
    assert loaded == []
