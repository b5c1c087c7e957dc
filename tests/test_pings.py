"""Update pings: WebSub hubs and Podping hear about a changed feed, against a local server
that records every request; a ping never fails or blocks a publish."""

from __future__ import annotations

import json
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from feedserver import Fault, FeedServer
from helpers import run, run_json

from pipeline.project.config import FeedConfig, PingSettings
from pipeline.publishing import ping

FEED_URL = "https://media.example.org/women-in-surgery/women-in-surgery.xml"
TOKEN = "test-podping-token"


@pytest.fixture
def services():
    with FeedServer() as server:
        server.host.add("/podping/", b"Success!", "text/plain")
        yield server


def configure(project: Path, hubs: list[str], podping: str | None = None) -> None:
    lines = ["", "[ping]", f"websub_hubs = {json.dumps(hubs)}", "backoff_s = 0.01",
             "timeout_s = 2"]
    if podping:
        lines.append(f'podping_url = "{podping}"')
    toml = project / "feeds/women-in-surgery.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n".join(lines) + "\n",
                    encoding="utf-8")


def free_port() -> int:
    """A port nothing listens on: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_feed_change_pings_hub_and_podping_with_the_feed_url(project, services):
    hub, podping = services.url("/hub"), services.url("/podping/")
    configure(project, [hub], podping)
    proc = run(project, "feed", "--json", env={"PODPING_TOKEN": TOKEN})
    result = json.loads(proc.stdout)
    assert TOKEN not in proc.stdout + proc.stderr  # a secret: sent, never shown

    posts = [r for r in services.host.received if r.path == "/hub"]
    assert len(posts) == 1 and posts[0].method == "POST"
    assert posts[0].headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert posts[0].form == {"hub.mode": ["publish"], "hub.url": [FEED_URL]}
    gets = [r for r in services.host.received if r.path == "/podping/"]
    assert len(gets) == 1 and gets[0].method == "GET"
    assert gets[0].query == {"url": [FEED_URL], "reason": ["update"], "medium": ["podcast"]}
    assert gets[0].headers["Authorization"] == TOKEN
    assert gets[0].headers["User-Agent"].startswith("publish/")
    assert {(p["service"], p["ok"], p["tries"]) for p in result["pings"]} == {
        ("websub", True, 1), ("podping", True, 1)}

    # The feed declares the hub, beside its rel="self" link, for apps to subscribe to.
    xml = ET.parse(project / "public/women-in-surgery.xml")
    links = {(a.get("rel"), a.get("href"))
             for a in xml.iterfind(".//{http://www.w3.org/2005/Atom}link")}
    assert ("hub", hub) in links and ("self", FEED_URL) in links


def test_unchanged_rerun_sends_nothing(project, services):
    configure(project, [services.url("/hub")], services.url("/podping/"))
    run(project, "feed", env={"PODPING_TOKEN": TOKEN})
    before = len(services.host.received)
    assert before == 2
    assert run_json(project, "feed", env={"PODPING_TOKEN": TOKEN})["pings"] == []
    assert len(services.host.received) == before


@pytest.mark.parametrize("flag", ["--no-ping", "--dry-run"])
def test_no_ping_and_dry_run_send_nothing(project, services, flag):
    configure(project, [services.url("/hub")], services.url("/podping/"))
    result = run_json(project, "feed", flag, env={"PODPING_TOKEN": TOKEN})
    assert result["feeds"][0]["changed"] and result["pings"] == []
    assert services.host.received == []


def test_server_failing_twice_is_retried_until_it_answers(project, services):
    services.host.fail("/hub", Fault(status=500), Fault(status=500))
    configure(project, [services.url("/hub")])
    result = run_json(project, "feed")
    assert [r.method for r in services.host.received] == ["POST"] * 3
    assert all(r.form["hub.url"] == [FEED_URL] for r in services.host.received)
    assert result["pings"] == [{"feed": "women-in-surgery", "service": "websub",
                                "endpoint": services.url("/hub"), "ok": True, "status": 204,
                                "tries": 3, "error": None}]


def test_unreachable_service_does_not_fail_the_publish(project, services):
    dead = f"http://127.0.0.1:{free_port()}/hub"
    configure(project, [dead, services.url("/hub")])
    proc = run(project, "feed", "--json")
    assert proc.returncode == 0
    result = json.loads(proc.stdout)
    assert result["feeds"][0]["changed"]
    outcome = {p["endpoint"]: p for p in result["pings"]}
    assert outcome[dead]["ok"] is False and outcome[dead]["tries"] == 3
    assert outcome[dead]["error"]
    assert outcome[services.url("/hub")]["ok"] is True
    warnings = [line for line in proc.stderr.splitlines() if dead in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: websub ping")
    assert (project / "public/women-in-surgery.xml").is_file()


def test_podping_without_token_is_a_warning_and_sends_nothing(project, services, monkeypatch):
    monkeypatch.delenv("PODPING_TOKEN", raising=False)
    configure(project, [], services.url("/podping/"))
    proc = run(project, "feed", "--json")
    assert json.loads(proc.stdout)["pings"][0]["error"] == "$PODPING_TOKEN is not set"
    assert "PODPING_TOKEN" in proc.stderr and services.host.received == []


@pytest.mark.slow  # masters the demo episode: about 20 s on a busy machine
def test_publish_episode_pings_once_for_the_changed_feed(project, services):
    configure(project, [services.url("/hub")])
    result = run_json(project, "episode", "1")
    assert [p["ok"] for p in result["pings"]] == [True]
    assert [r.form["hub.url"] for r in services.host.received] == [[FEED_URL]]


def _feed(base_url: str, **ping_keys) -> FeedConfig:
    from test_feed_render import feed_config
    return feed_config(base_url=base_url, ping=ping_keys)


def test_private_feed_urls_are_not_pinged():
    assert ping.is_public("https://media.example.org/show.xml")
    for url in ("http://localhost:8000/show.xml", "http://127.0.0.1/show.xml",
                "http://192.168.1.20/show.xml", "http://studio.local/show.xml"):
        assert not ping.is_public(url), url
    logged: list[str] = []
    feed = _feed("http://192.168.1.20/show", websub_hubs=["http://127.0.0.1:9/hub"])
    assert ping.notify([feed], [{"name": feed.name, "changed": True}], skip=False,
                       log=logged.append) == []
    assert "not public" in logged[0]


def test_ping_settings_refuse_a_hub_that_is_not_a_url():
    with pytest.raises(ValueError, match="not an http"):
        PingSettings(websub_hubs=["pubsubhubbub.appspot.com"])
