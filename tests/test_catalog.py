"""Episode identity: a slug names an episode's files and its GUID, so it must never be shared,
and a folder renamed after publishing must not silently mint a second episode."""

from __future__ import annotations

import json
import shutil

from helpers import run, run_json, set_key, tree


def _copy_episode(project, folder: str, number: int, title: str) -> None:
    shutil.copytree(project / "episodes/001-welcome", project / "episodes" / folder)
    toml = project / "episodes" / folder / "episode.toml"
    set_key(toml, "number", str(number))
    set_key(toml, "title", json.dumps(title))


def test_two_folders_with_one_slug_are_refused_naming_both(project):
    _copy_episode(project, "002-welcome", 2, "Welcome again")
    before = tree(project / "public")
    for episode in ("1", "2"):
        proc = run(project, "episode", episode, check=False)
        assert proc.returncode == 2, proc.stderr
        (line,) = proc.stderr.strip().splitlines()
        assert "001-welcome" in line and "002-welcome" in line and "slug" in line
    assert tree(project / "public") == before  # nothing published


def test_publish_new_never_reuses_a_slug(project):
    first = run_json(project, "new", "--title", "Mailbag")
    second = run_json(project, "new", "--title", "Mailbag")
    slugs = [folder.split("/")[-1].split("-", 1)[1] for folder in (first["folder"],
                                                                   second["folder"])]
    assert slugs == ["mailbag", "mailbag-2"]


def test_publish_new_refuses_an_explicit_slug_in_use(project):
    proc = run(project, "new", "--title", "Hello", "--slug", "welcome", check=False)
    assert proc.returncode != 0
    (line,) = proc.stderr.strip().splitlines()
    assert "welcome" in line and "001-welcome" in line
    assert sorted(p.name for p in (project / "episodes").iterdir()) == ["001-welcome"]


def test_renamed_folder_is_refused_until_the_rename_is_declared(project):
    first = run_json(project, "episode", "1")
    (project / "episodes/001-welcome").rename(project / "episodes/001-hello")
    feed = (project / "public/women-in-surgery.xml").read_bytes()
    proc = run(project, "episode", "1", check=False)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert "welcome" in line and "renamed_from" in line
    assert (project / "public/women-in-surgery.xml").read_bytes() == feed

    set_key(project / "episodes/001-hello/episode.toml", "renamed_from", '"welcome"')
    again = run_json(project, "episode", "1")
    assert again["guid"] == first["guid"]  # the GUID follows the episode
    manifest = json.loads((project / "public/manifest.json").read_text())
    assert sorted(manifest["episodes"]) == ["hello"]  # one episode, not two
    items = (project / "public/women-in-surgery.xml").read_text().count("<item>")
    assert items == 1
