"""`publish episode --shard I/N`: a stable partition of the chosen episodes into N shares, and
the catalogue workflow that runs one share per runner, then rebuilds the feeds."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from catalogue import make_catalogue
from helpers import PUBLISH, REPO, copy_project, run, run_json

from pipeline.project.shard import Shard, ShardError

WORKFLOW = REPO / ".github/workflows/publish-catalogue.yml"


class _Ep:
    def __init__(self, number: int):
        self.number = number


def test_every_episode_is_in_exactly_one_share():
    eps = [_Ep(n) for n in range(1, 12)]
    shares = [Shard(i, 3).select(eps) for i in (1, 2, 3)]
    numbers = [sorted(ep.number for ep in share) for share in shares]
    assert numbers == [[1, 4, 7, 10], [2, 5, 8, 11], [3, 6, 9]]


def test_adding_episodes_moves_none_to_another_share():
    before = {n: i for i in (1, 2, 3) for n in (e.number for e in
                                                Shard(i, 3).select([_Ep(k) for k in range(1, 8)]))}
    after = {n: i for i in (1, 2, 3) for n in (e.number for e in
                                               Shard(i, 3).select([_Ep(k) for k in range(1, 20)]))}
    assert all(after[n] == share for n, share in before.items())


@pytest.mark.parametrize("text", ["0/3", "4/3", "x", "1/0", "2", "-1/3", "1/3/5", ""])
def test_a_bad_shard_is_refused(text):
    with pytest.raises(ShardError):
        Shard.parse(text)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("shards") / "show")
    make_catalogue(project, 7)
    return project


@pytest.mark.parametrize("text", ["0/3", "4/3", "x"])
@pytest.mark.e2e
def test_a_bad_shard_is_one_line_and_exit_2(small, text):
    proc = run(small, "episode", "--all", "--shard", text, check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and f"--shard {text!r}" in proc.stderr, proc.stderr
    assert not (small / "public").exists()


@pytest.mark.e2e
def test_shard_of_a_range_in_dry_run_and_json(small):
    r = run_json(small, "episode", "2-7", "--shard", "2/3", "--dry-run")
    assert [e["episode"] for e in r["episodes"]] == ["part-2", "part-5"]
    assert r["shard"] == {"index": 2, "count": 3, "chosen": 6,
                          "episodes": ["part-2", "part-5"]}
    human = run(small, "episode", "2-7", "--shard", "2/3", "--dry-run").stdout
    assert "Shard 2/3: 2 of the 6 episodes chosen (part-2, part-5)" in human
    assert not (small / "public").exists()


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_catalogue_workflow_is_manual_with_a_matrix_of_every_shard():
    wf = _workflow()
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(on) == {"workflow_dispatch"} and "episodes" in on["workflow_dispatch"]["inputs"]
    shard_job, feeds_job = wf["jobs"]["shard"], wf["jobs"]["feeds"]
    count = int(wf["env"]["SHARDS"])
    assert shard_job["strategy"]["matrix"]["shard"] == list(range(1, count + 1))
    assert feeds_job["needs"] in ("shard", ["shard"])
    for job in (shard_job, feeds_job):
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
            assert job["env"][name] == f"${{{{ secrets.{name} }}}}"
    feed_runs = "\n".join(step.get("run", "") for step in feeds_job["steps"])
    assert 'publish feed "$(basename "$toml" .toml)"' in feed_runs


@pytest.mark.e2e
def test_the_workflows_shard_commands_cover_every_episode_once(small):
    """Each matrix job's command, expanded by bash as on the runner, with `publish` the
    working tree's command in a dry run on a 7-episode catalogue."""
    wf = _workflow()
    job = wf["jobs"]["shard"]
    assert job["env"]["EPISODES"] == "${{ inputs.episodes }}"
    [step] = [s for s in job["steps"] if "publish episode" in s.get("run", "")]
    default = wf.get("on", wf.get(True))["workflow_dispatch"]["inputs"]["episodes"]["default"]
    shares = []
    for shard in job["strategy"]["matrix"]["shard"]:
        script = step["run"].replace("${{ matrix.shard }}", str(shard))
        assert "${{" not in script
        publish = " ".join(shlex.quote(a) for a in [*PUBLISH, "-C", str(small)])
        proc = subprocess.run(
            ["bash", "-ec", f'publish() {{ {publish} "$@" --dry-run --json; }}\n{script}'],
            capture_output=True, text=True, check=True,
            env={"PATH": "/usr/bin:/bin", "SHARDS": str(wf["env"]["SHARDS"]),
                 "EPISODES": default})
        r = json.loads(proc.stdout)
        assert r["shard"]["index"] == shard
        shares.append([e["episode"] for e in r["episodes"]])
    published = [slug for share in shares for slug in share]
    assert sorted(published) == sorted(f"part-{n}" for n in range(1, 8))
    assert len(published) == len(set(published))
