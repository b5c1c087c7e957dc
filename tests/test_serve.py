"""publish serve: byte ranges and HEAD for real apps, and a preview feed pointing at the server."""

from __future__ import annotations

import http.client
import re
import threading
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import run_json

from pipeline.serve import make_server, parse_range
from pipeline.session import Session


@pytest.mark.parametrize("header, size, expected", [
    ("bytes=0-99", 1000, (0, 99)),
    ("bytes=100-", 1000, (100, 999)),
    ("bytes=-100", 1000, (900, 999)),
    ("bytes=900-5000", 1000, (900, 999)),
    ("bytes=1000-", 1000, False),
    ("bytes=50-10", 1000, False),
    ("bytes=0-1,5-9", 1000, None),  # several ranges: the whole object, as RFC 9110 allows
    (None, 1000, None),
    ("items=0-1", 1000, None),
])
def test_parse_range(header, size, expected):
    assert parse_range(header, size) == expected


@pytest.fixture
def served(project):
    r = run_json(project, "episode", "1")
    session = Session.open(project, None, None, datetime.now(UTC))
    server = make_server(session, "127.0.0.1", 0, None)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, r
    server.shutdown()
    server.server_close()


def _request(server, method: str, path: str, headers: dict | None = None):
    conn = http.client.HTTPConnection(*server.server_address[:2])
    conn.request(method, path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp, body


def test_range_request_returns_206_with_the_right_bytes(served):
    server, r = served
    mp3 = Path(r["audio"]["location"].removeprefix("file://"))
    path = "/" + r["audio"]["url"].split("/women-in-surgery/", 1)[1]
    resp, body = _request(server, "GET", path, {"Range": "bytes=1000-1999"})
    assert resp.status == 206
    assert resp.getheader("Content-Range") == f"bytes 1000-1999/{mp3.stat().st_size}"
    assert resp.getheader("Accept-Ranges") == "bytes"
    assert resp.getheader("Content-Type") == "audio/mpeg"
    assert body == mp3.read_bytes()[1000:2000]


def test_head_and_full_get(served):
    server, r = served
    path = "/" + r["audio"]["url"].split("/women-in-surgery/", 1)[1]
    resp, body = _request(server, "HEAD", path)
    assert resp.status == 200 and body == b""
    assert int(resp.getheader("Content-Length")) == r["audio"]["bytes"]
    resp, body = _request(server, "GET", path)
    assert resp.status == 200 and len(body) == r["audio"]["bytes"]


def test_unsatisfiable_range_and_missing_file(served):
    server, r = served
    path = "/" + r["audio"]["url"].split("/women-in-surgery/", 1)[1]
    resp, _ = _request(server, "GET", path, {"Range": f"bytes={r['audio']['bytes']}-"})
    assert resp.status == 416
    assert resp.getheader("Content-Range") == f"bytes */{r['audio']['bytes']}"
    assert _request(server, "GET", "/nothing-here.mp3")[0].status == 404
    assert _request(server, "GET", "/../feeds/women-in-surgery.toml")[0].status == 404


def test_preview_feed_points_at_the_server(served):
    server, r = served
    host, port = server.server_address[:2]
    resp, body = _request(server, "GET", "/women-in-surgery.xml")
    assert resp.status == 200 and resp.getheader("Content-Type") == "application/rss+xml"
    enclosure = ET.fromstring(body).find("channel/item/enclosure").get("url")
    assert enclosure == f"http://{host}:{port}/" + r["audio"]["url"].split("/women-in-surgery/")[1]
    resp, audio = _request(server, "GET", enclosure.removeprefix(f"http://{host}:{port}"),
                           {"Range": "bytes=0-9"})
    assert resp.status == 206 and audio[:3] == b"ID3"


def test_the_website_is_served_at_the_root_pointing_at_the_server(served, project):
    server, r = served
    host, port = server.server_address[:2]
    resp, body = _request(server, "GET", "/")
    assert resp.status == 200 and resp.getheader("Content-Type") == "text/html"
    audio = f"http://{host}:{port}/" + r["audio"]["url"].split("/women-in-surgery/")[1]
    episode = _request(server, "GET", "/episodes/welcome.html")[1].decode()
    assert f'src="{audio}"' in episode
    assert f'href="http://{host}:{port}/episodes/welcome.html"' in episode  # canonical
    css = re.search(r'href="\.\./(assets/site-[0-9a-f]{12}\.css)"', episode).group(1)
    resp, _ = _request(server, "GET", f"/{css}")
    assert resp.status == 200 and resp.getheader("Content-Type") == "text/css"
    resp, body = _request(server, "GET", "/no/such/page.html")
    assert resp.status == 404 and b"Page not found" in body
    # A producer editing the theme sees the change at the next request.
    (project / "site" / "assets").mkdir(parents=True)
    (project / "site" / "assets" / "site.css").write_text("body { color: black }\n")
    episode = _request(server, "GET", "/episodes/welcome.html")[1].decode()
    assert css not in episode and re.search(r"assets/site-[0-9a-f]{12}\.css", episode)


def test_serve_help_offers_the_storage_it_serves_and_s3_is_refused_in_one_line(tmp_path):
    """`--storage` is shared by the commands, but serve's help must not promise S3."""
    from click.testing import CliRunner
    from helpers import copy_project

    from cli import cli

    runner = CliRunner()
    serve_help = " ".join(runner.invoke(cli, ["serve", "--help"]).output.split())
    assert "s3://" not in serve_help and "serve does not serve S3" in serve_help
    assert "s3://bucket/prefix" in " ".join(runner.invoke(cli, ["feed", "--help"]).output.split())
    show = copy_project(tmp_path / "show")
    refused = runner.invoke(cli, ["-C", str(show), "serve", "--storage", "s3://bucket/show"])
    assert refused.exit_code != 0
    assert refused.output.strip().splitlines() == [
        "publish: error: s3://bucket/show: publish serve serves a local storage folder"]
