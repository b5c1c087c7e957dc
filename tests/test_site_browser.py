"""The website in a real browser: Debian's chromium, driven by selenium, against `publish serve`.

A short generated recording is published with chapters, a transcript and a soundbite; the
episode page must load without a console error or a request to another origin, play from a
byte-range request, seek from chapters and transcript lines, search the transcript, work
without JavaScript, and pass axe-core. Screenshots go to test-artifacts/site/.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import imageio_ffmpeg
import pytest
from helpers import PUBLISH, REPO, copy_project, run_json

pytestmark = pytest.mark.e2e  # module fixtures publish the demo show and serve it

ARTIFACTS = REPO / "test-artifacts" / "site"
# How long a wait may last before the test is called hung: a guard, not a time budget.
HANG_GUARD_S = 120
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--autoplay-policy=no-user-gesture-required",
                  "--mute-audio", "--window-size=1000,1200"]
SLUG = "welcome"
LONG = "long"
LONG_CUES = 150  # 8 s of talk, 60 KB of words
CHAPTERS = [(0.0, "Welcome"), (2.5, "Mentorship"), (5.0, "Goodbye")]
TRANSCRIPT = """WEBVTT

00:00:00.000 --> 00:00:02.400
<v Host>Welcome to the Women in Surgery podcast.

00:00:02.500 --> 00:00:04.900
<v Guest>Mentorship changed my residency.

00:00:05.000 --> 00:00:07.500
<v Host>Thank you for listening, and goodbye.
"""
RENDITIONS = """
[[renditions]]
format = "opus"
bitrate = 48
channels = 1

[[renditions]]
format = "aac"
bitrate = 96
"""


def _browser() -> tuple[str, str]:
    """Debian's chromium and chromium-driver; outside CI their absence skips, in CI it fails."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    message = ("the browser tests need Debian's chromium and chromium-driver "
               "(apt-get install -y chromium chromium-driver)")
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; .ci/run installs them in CI", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module", autouse=True)
def binaries() -> tuple[str, str]:
    """Looked for first, so a machine without the browser skips before publishing anything."""
    return _browser()


@pytest.fixture(scope="module")
def show(tmp_path_factory) -> Path:
    """The demo show with an 8-second generated episode, published to its local storage."""
    project = copy_project(tmp_path_factory.mktemp("site") / "show")
    folder = project / "episodes" / "001-welcome"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "sine=frequency=220:sample_rate=44100:duration=8", "-af",
                    "tremolo=f=3:d=0.6", "-ac", "2", str(folder / "recording.wav")], check=True)
    (folder / "transcript.vtt").write_text(TRANSCRIPT, encoding="utf-8")
    chapters = "".join(f'\n[[chapters]]\nstart = {start}\ntitle = "{title}"\n'
                       for start, title in CHAPTERS)
    (folder / "episode.toml").write_text(f"""\
title = "Welcome to Women in Surgery"
number = 1
season = 1
published = 2026-01-20T09:00:00-05:00
audio = "recording.wav"
notes_file = "notes.md"
transcript = "transcript.vtt"
{chapters}
[[persons]]
name = "Guest Surgeon"
role = "guest"

[[soundbites]]
start = 2.5
duration = 2.0
title = "Mentorship changed my residency"
""", encoding="utf-8")
    feed = project / "feeds/women-in-surgery.toml"
    feed.write_text(feed.read_text(encoding="utf-8") + RENDITIONS, encoding="utf-8")
    _long_episode(project / "episodes" / "002-long", folder / "recording.wav")
    run_json(project, "episode", "--all")
    return project


def _long_episode(folder: Path, recording: Path) -> None:
    """An 8-second episode with a transcript far over the episode page's budget: a cue every
    50 ms, speakers taking turns, so it gets a transcript page of its own."""
    folder.mkdir()
    shutil.copy(recording, folder / "recording.wav")
    cues = []
    for n in range(LONG_CUES):
        start_ms = n * 50
        word = "laparoscopic" if n == 100 else "surgical"
        cues.append(f"{_vtt_time(start_ms)} --> {_vtt_time(start_ms + 40)}\n"
                    f"<v {'Host' if n % 2 else 'Guest'}>Passage {n} about {word} training, "
                    + "mentorship and the long hours of residency. " * 6)
    (folder / "transcript.vtt").write_text("WEBVTT\n\n" + "\n\n".join(cues) + "\n",
                                           encoding="utf-8")
    (folder / "episode.toml").write_text(
        'title = "A long conversation"\nnumber = 2\nseason = 1\n'
        'published = 2026-01-27T09:00:00-05:00\naudio = "recording.wav"\nnotes = "Long."\n'
        'transcript = "transcript.vtt"\n', encoding="utf-8")


def _vtt_time(ms: int) -> str:
    return f"00:00:{ms // 1000:02d}.{ms % 1000:03d}"


@pytest.fixture(scope="module")
def server(show: Path) -> Iterator[str]:
    """`publish serve` on a free port; yields its base URL."""
    proc = subprocess.Popen([*PUBLISH, "-C", str(show), "serve", "--port", "0"],
                            stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    found = re.search(r" at (http://\S+?)/?$", line.strip())
    assert found, f"publish serve did not start: {line}"
    # Keep reading stderr so the server never blocks on a full pipe.
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    yield found.group(1)
    proc.terminate()
    proc.wait()


def _chrome(tmp: Path, javascript: bool = True):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = _browser()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tmp}"]:
        options.add_argument(flag)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(driver))
    browser.set_script_timeout(HANG_GUARD_S)
    return browser


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chrome = _chrome(tmp_path_factory.mktemp("chromium"))
    yield chrome
    chrome.quit()


def load(browser, url: str) -> None:
    """Open a page with empty logs, so what they hold afterwards is this page's."""
    browser.get("about:blank")
    browser.get_log("browser")
    browser.get_log("performance")
    browser.get(url)
    wait_for(browser, "document.readyState === 'complete'")


def wait_for(browser, condition: str) -> None:
    from selenium.webdriver.support.wait import WebDriverWait

    WebDriverWait(browser, HANG_GUARD_S).until(lambda b: b.execute_script(f"return {condition}"))


def network(browser) -> list[dict]:
    events = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
    return [e for e in events if e["method"].startswith("Network.")]


def screenshot(browser, name: str) -> None:
    """The whole page, not only the window, as a test artefact."""
    size = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


def audio_state(browser) -> dict:
    return browser.execute_script(
        "var a = document.querySelector('audio[data-player]');"
        "return {time: a.currentTime, paused: a.paused, src: a.currentSrc};")


def test_episode_page_loads_without_errors_or_requests_to_another_origin(browser, server):
    load(browser, f"{server}/episodes/{SLUG}.html")
    wait_for(browser, "document.querySelector('audio').readyState >= 1")
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    # The stylesheet applies (a wrong Content-Type would have it refused, silently).
    assert browser.execute_script("return getComputedStyle(document.body).maxWidth") != "none"
    requested = [e["params"]["request"]["url"] for e in network(browser)
                 if e["method"] == "Network.requestWillBeSent"]
    assert f"{server}/episodes/{SLUG}.html" in requested
    web = [u for u in requested if urlsplit(u).scheme in ("http", "https", "ws", "wss")]
    assert web and all(u.startswith(server + "/") for u in web), web


def test_audio_plays_from_a_byte_range_request(browser, server):
    load(browser, f"{server}/episodes/{SLUG}.html")
    browser.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "var a = document.querySelector('audio[data-player]');"
        "a.addEventListener('timeupdate', function () { if (a.currentTime > 0) done(); });"
        "a.play();")
    state = audio_state(browser)
    assert state["time"] > 0 and not state["paused"]
    statuses = [e["params"]["response"]["status"] for e in network(browser)
                if e["method"] == "Network.responseReceived"
                and e["params"]["response"]["url"] == state["src"]]
    assert 206 in statuses


def test_player_lists_every_rendition_and_the_browser_plays_the_opus_one(browser, server):
    load(browser, f"{server}/episodes/{SLUG}.html")
    wait_for(browser, "document.querySelector('audio').readyState >= 1")
    sources = browser.execute_script(
        "return Array.from(document.querySelectorAll('audio[data-player] source'), function (s) {"
        "  return {src: s.src, type: s.type, can: document.createElement('audio')"
        "    .canPlayType(s.type)}; });")
    assert [urlsplit(s["src"]).path.rsplit(".", 1)[1] for s in sources] == ["mp3", "opus", "m4a"]
    assert all(s["can"] for s in sources[:2]), sources  # Chromium plays MP3 and Ogg Opus
    assert audio_state(browser)["src"] == sources[0]["src"]  # the MP3 is the default
    # The Opus file as served: a player of its own plays it through.
    played = browser.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "var a = new Audio(arguments[0]);"
        "a.addEventListener('timeupdate', function () {"
        "  if (a.currentTime > 0) { a.pause(); done({time: a.currentTime, src: a.currentSrc,"
        "    duration: a.duration}); } });"
        "a.addEventListener('error', function () { done({error: a.error.code}); });"
        "a.play();", sources[1]["src"])
    assert played.get("time", 0) > 0 and played["src"] == sources[1]["src"], played
    assert 7.9 < played["duration"] < 8.1


@pytest.mark.parametrize("selector, start_s", [
    ("#chapters + ol a[href$='#t=00:02.5']", CHAPTERS[1][0]),
    (".transcript a[href$='#t=00:05']", 5.0),
])
def test_clicking_a_chapter_or_transcript_line_seeks_the_player(browser, server, selector,
                                                                 start_s):
    from selenium.webdriver.common.by import By

    page = f"{server}/episodes/{SLUG}.html"
    load(browser, page)
    wait_for(browser, "document.querySelector('audio').readyState >= 1")
    browser.find_element(By.CSS_SELECTOR, selector).click()
    assert browser.current_url == page  # the script seeks instead of opening the audio
    assert start_s <= audio_state(browser)["time"] < start_s + 2.5
    # The line being heard is highlighted once the player reports the new time.
    wait_for(browser, "document.querySelector('.transcript p.current') !== null")
    current = browser.find_element(By.CSS_SELECTOR, ".transcript p.current")
    assert current.text.startswith(f"00:0{int(start_s)} ")  # the passage that time is in


def test_transcript_search_finds_a_word(browser, server):
    from selenium.webdriver.common.by import By

    load(browser, f"{server}/episodes/{SLUG}.html")
    box = browser.find_element(By.ID, "transcript-query")
    assert box.is_displayed()
    box.send_keys("mentorship")
    wait_for(browser, "document.querySelector('#transcript-search [role=status]')"
                      ".textContent !== ''")
    shown = [p.text for p in browser.find_elements(By.CSS_SELECTOR, ".transcript p")
             if p.is_displayed()]
    assert shown == ["00:02 Guest: Mentorship changed my residency."]
    status = browser.find_element(By.CSS_SELECTOR, "#transcript-search [role=status]")
    assert status.text == "1 line matches"


def test_a_chapter_link_is_a_media_fragment_the_browser_honours(browser, server):
    """What the link does without JavaScript: open the audio at the chapter's time."""
    from selenium.webdriver.common.by import By

    load(browser, f"{server}/episodes/{SLUG}.html")
    href = browser.find_element(By.CSS_SELECTOR, "#chapters + ol a[href$='#t=00:05']") \
        .get_attribute("href")
    assert href.endswith("#t=00:05")
    browser.get(href)
    wait_for(browser, "document.querySelector('video, audio') !== null"
                      " && document.querySelector('video, audio').readyState >= 1")
    assert browser.execute_script("return document.querySelector('video, audio').currentTime") \
        >= 5


def test_the_page_works_without_javascript(server, tmp_path):
    from selenium.webdriver.common.by import By

    chrome = _chrome(tmp_path / "profile", javascript=False)
    try:
        chrome.get(f"{server}/episodes/{SLUG}.html")
        chapters = chrome.find_elements(By.CSS_SELECTOR, "#chapters + ol a")
        assert [a.text for a in chapters] == [f"00:0{int(s)} {t}" for s, t in CHAPTERS]
        assert all(re.search(r"\.mp3#t=00:0\d(\.\d+)?$", a.get_attribute("href"))
                   for a in chapters)
        lines = [p.text for p in chrome.find_elements(By.CSS_SELECTOR, ".transcript p")]
        assert lines[1] == "00:02 Guest: Mentorship changed my residency."
        assert not chrome.find_element(By.ID, "transcript-search").is_displayed()
        assert chrome.find_element(By.CSS_SELECTOR, "audio[controls]").is_displayed()
        assert "Download the episode" in chrome.find_element(By.TAG_NAME, "main").text
        screenshot(chrome, "episode-without-javascript")
    finally:
        chrome.quit()


@pytest.mark.parametrize("name, path", [("index", "index.html"),
                                        ("episode", f"episodes/{SLUG}.html"),
                                        ("embed", f"embed/{SLUG}.html")])
def test_axe_finds_no_accessibility_violation(browser, server, name, path):
    from axe_selenium_python import Axe

    load(browser, f"{server}/{path}")
    axe = Axe(browser)
    axe.inject()
    results = axe.run()
    screenshot(browser, name)
    assert results["violations"] == [], axe.report(results["violations"])
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_a_long_transcript_has_its_own_page_that_seeks_searches_and_passes_axe(browser, server):
    from axe_selenium_python import Axe
    from selenium.webdriver.common.by import By

    load(browser, f"{server}/episodes/{LONG}.html")
    link = browser.find_element(By.PARTIAL_LINK_TEXT, "Read the transcript")
    assert re.fullmatch(r"Read the transcript \([\d,]+ words\)", link.text)
    link.click()
    page = f"{server}/episodes/{LONG}/transcript.html"
    wait_for(browser, f"location.href === {json.dumps(page)}"
                      " && document.readyState === 'complete'")
    wait_for(browser, "document.querySelector('audio').readyState >= 1")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".transcript p")) == LONG_CUES

    browser.find_element(By.CSS_SELECTOR, ".transcript a[href$='#t=00:05']").click()
    assert browser.current_url == page
    assert 5 <= audio_state(browser)["time"] < 7.5
    wait_for(browser, "document.querySelector('.transcript p.current') !== null")

    box = browser.find_element(By.ID, "transcript-query")
    box.send_keys("laparoscopic")
    wait_for(browser, "document.querySelector('#transcript-search [role=status]')"
                      ".textContent !== ''")
    shown = [p.text for p in browser.find_elements(By.CSS_SELECTOR, ".transcript p")
             if p.is_displayed()]
    assert len(shown) == 1 and shown[0].startswith("00:05 Guest: Passage 100 about laparoscopic")

    requested = [e["params"]["request"]["url"] for e in network(browser)
                 if e["method"] == "Network.requestWillBeSent"]
    web = [u for u in requested if urlsplit(u).scheme in ("http", "https", "ws", "wss")]
    assert web and all(u.startswith(server + "/") for u in web), web
    axe = Axe(browser)
    axe.inject()
    results = axe.run()
    screenshot(browser, "transcript")
    assert results["violations"] == [], axe.report(results["violations"])
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
