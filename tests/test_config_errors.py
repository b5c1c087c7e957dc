"""Bad configuration: one line on stderr naming the file and the field, exit 2, nothing published."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import run, set_key, tree


def _fails_cleanly(project: Path, *names: str) -> str:
    before = tree(project / "public")
    proc = run(project, "episode", "1", check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for name in names:
        assert name in lines[0], lines[0]
    assert tree(project / "public") == before  # nothing published, nothing half-written
    return lines[0]


def test_unknown_key_is_named(project, episode_toml):
    set_key(episode_toml, "titel", '"typo"')
    _fails_cleanly(project, "001-welcome/episode.toml", "titel", "unknown key")


def test_unknown_key_in_feed_is_named(project):
    set_key(project / "feeds/women-in-surgery.toml", "colour", '"red"')
    _fails_cleanly(project, "feeds/women-in-surgery.toml", "colour", "unknown key")


def test_missing_required_field(project, episode_toml):
    text = episode_toml.read_text().replace('title = "Welcome to Women in Surgery"\n', "")
    episode_toml.write_text(text)
    _fails_cleanly(project, "episode.toml", "title", "missing")


def test_missing_owner_email_in_feed(project):
    feed = project / "feeds/women-in-surgery.toml"
    feed.write_text(feed.read_text().replace('email = "podcast@example.org"\n', ""))
    _fails_cleanly(project, "women-in-surgery.toml", "owner.email", "missing")


def test_bad_date(project, episode_toml):
    set_key(episode_toml, "published", '"the 20th of November"')
    _fails_cleanly(project, "episode.toml", "published")


def test_date_without_time_zone(project, episode_toml):
    set_key(episode_toml, "published", "2026-11-20T09:00:00")
    line = _fails_cleanly(project, "episode.toml", "published")
    assert "time zone" in line


def test_missing_audio_file(project, episode_toml):
    (episode_toml.parent / "recording.opus").unlink()
    _fails_cleanly(project, "episode.toml", "audio", "recording.opus")


def test_missing_artwork(project):
    (project / "feeds/artwork/women-in-surgery.jpg").unlink()
    _fails_cleanly(project, "women-in-surgery.toml", "artwork")


def test_episode_number_used_twice(project, episode_toml):
    twin = episode_toml.parent.parent / "002-twin"
    shutil.copytree(episode_toml.parent, twin)
    line = _fails_cleanly(project, "002-twin/episode.toml", "number")
    assert "001-welcome" in line


def test_toml_syntax_error(project, episode_toml):
    episode_toml.write_text(episode_toml.read_text() + "\nthis is not toml\n")
    _fails_cleanly(project, "episode.toml", "TOML")


def test_toml_not_utf8(project, episode_toml):
    episode_toml.write_bytes(episode_toml.read_text().replace("Welcome to", "Bienvenue à")
                             .encode("latin-1"))
    _fails_cleanly(project, "episode.toml", "UTF-8")


@pytest.mark.parametrize("value", ['"weekly"', "-3"])
def test_bad_value_types(project, episode_toml, value):
    set_key(episode_toml, "number", value)
    _fails_cleanly(project, "episode.toml", "number")


def test_bad_episode_type(project, episode_toml):
    set_key(episode_toml, "type", '"special"')
    _fails_cleanly(project, "episode.toml", "type")


def test_chapters_out_of_order(project, episode_toml):
    episode_toml.write_text(episode_toml.read_text().replace('start = "00:26.5"',
                                                             'start = "00:10"'))
    _fails_cleanly(project, "episode.toml", "chapters")


def test_ffmpeg_override_that_does_not_exist(project):
    before = tree(project / "public")
    proc = run(project, "episode", "1", env={"PUBLISH_FFMPEG": "/nonexistent/ffmpeg"},
               check=False)
    assert proc.returncode != 0
    assert proc.stderr.count("\n") == 1 and "PUBLISH_FFMPEG" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert tree(project / "public") == before


@pytest.mark.parametrize("table, key, value", [
    ("soundbites", "start", '"nan"'),
    ("soundbites", "start", "nan"),
    ("soundbites", "duration", "inf"),
    ("chapters", "start", '"1:-30"'),
    ("chapters", "start", '"inf"'),
    ("bumpers", "start", '"inf"'),
    ("bumpers", "start", "-inf"),
    ("bumpers", "start", '"' + "9" * 400 + '"'),  # only digits, yet float() makes it inf
])
def test_times_that_are_not_finite_or_have_negative_parts_are_refused(project, episode_toml,
                                                                      table, key, value):
    """A time must be a finite, non-negative number of seconds, written with no negative part:
    `nan` would be published as startTime="nan", `inf` would crash the mastering."""
    text = episode_toml.read_text()
    if table == "bumpers":
        shutil.copyfile(episode_toml.parent / "recording.opus", episode_toml.parent / "b.opus")
        text += f'\n[[bumpers]]\nstart = {value}\nclip = "b.opus"\n'
    else:
        head, sep, tail = text.partition(f"[[{table}]]\n")
        lines = tail.splitlines(keepends=True)
        lines = [f"{key} = {value}\n" if ln.startswith(f"{key} =") else ln for ln in lines]
        text = head + sep + "".join(lines)
    episode_toml.write_text(text)
    _fails_cleanly(project, "episode.toml", table, key)


@pytest.mark.parametrize("name", ["PUBLISH_LOCK_WAIT_S", "PUBLISH_FFMPEG_STALL_S"])
def test_bad_environment_value_is_one_line_naming_it_and_help_still_works(project, name):
    env = {name: "five minutes"}
    assert run(project, "--help", env=env).returncode == 0
    proc = run(project, "episode", "1", env=env, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert name in line and "five minutes" in line


@pytest.mark.parametrize("table, words", [
    ('format = "mp2"\nbitrate = 64', ("renditions.0.format", "'opus' or 'aac'")),
    ('format = "opus"\nbitrate = 4000', ("renditions.0", "4000 kbit/s is out of range for opus")),
    ('format = "aac"\nbitrate = 8', ("renditions.0", "out of range for aac (32-320)")),
    ('format = "opus"', ("renditions.0.bitrate", "missing")),
    ('format = "opus"\nbitrate = 48\nchannels = 6', ("renditions.0.channels",)),
])
def test_bad_rendition_is_named(project, table, words):
    feed = project / "feeds/women-in-surgery.toml"
    feed.write_text(feed.read_text() + f"\n[[renditions]]\n{table}\n")
    _fails_cleanly(project, "feeds/women-in-surgery.toml", *words)


def test_rendition_listed_twice_is_named(project):
    feed = project / "feeds/women-in-surgery.toml"
    twice = '\n[[renditions]]\nformat = "opus"\nbitrate = 48\n' * 2
    feed.write_text(feed.read_text() + twice)
    _fails_cleanly(project, "feeds/women-in-surgery.toml", "renditions", "listed twice")
