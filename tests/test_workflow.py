"""The CI workflow rebuilds every feed on a schedule and on pushes, with secrets, no audio."""

from __future__ import annotations

import yaml
from helpers import REPO

WORKFLOW = REPO / ".github/workflows/publish-feed.yml"


def test_workflow_triggers_and_credentials():
    wf = yaml.safe_load(WORKFLOW.read_text())
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    assert on["schedule"][0]["cron"].split()[1:] == ["*", "*", "*", "*"]  # every hour
    # site/ is the website's theme: an edit to it must reach the published pages too.
    assert set(on["push"]["paths"]) == {"episodes/**", "feeds/**", "site/**"}
    (job,) = wf["jobs"].values()
    # PODPING_TOKEN: the scheduled rebuild that releases an episode pings Podping with it.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL",
                 "PODPING_TOKEN"):
        assert job["env"][name] == f"${{{{ secrets.{name} }}}}"
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert "pip install .\n" in runs + "\n"
    assert 'for toml in feeds/*.toml' in runs and 'publish feed "$(basename "$toml" .toml)"' in runs
    assert "publish episode" not in runs  # CI never encodes: the manifest is enough
