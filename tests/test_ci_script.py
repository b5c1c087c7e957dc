"""CI runs the suite on every supported Python: a machine without 3.13 is a failure, not a
silent half run."""

from __future__ import annotations

import shutil
import subprocess

from helpers import REPO


def test_ci_fails_before_any_suite_when_python_3_13_is_missing(tmp_path):
    clone = tmp_path / "clone"
    (clone / ".ci").mkdir(parents=True)
    shutil.copy2(REPO / ".ci/run", clone / ".ci/run")
    home = tmp_path / "home"  # no ~/.pyenv, and a PATH without python3.13
    home.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "PYENV_ROOT": str(home / "pyenv")}
    assert shutil.which("python3.13", path=env["PATH"]) is None
    proc = subprocess.run(["bash", str(clone / ".ci/run")], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode != 0
    assert "python3.13" in proc.stderr.strip().splitlines()[-1]
    assert not (clone / ".venv").exists()  # it stopped before running the 3.11 suite
