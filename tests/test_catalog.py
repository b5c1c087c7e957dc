"""Episode identity: a slug names an episode's files and its GUID, so it must never be shared,
and a folder renamed after publishing must not silently mint a second episode."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

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



# --- after publishing: the demo published once (conftest's `show`), each test changing its copy

FEED_XML = "public/women-in-surgery.xml"


def _guid(show: Path, slug: str = "welcome") -> str:
    return json.loads((show / "public/manifest.json").read_text())["episodes"][slug]["guid"]


def _items(show: Path) -> int:
    return (show / FEED_XML).read_text().count("<item>")


def _refused(show: Path, *args: str) -> str:
    """Run a command that must be refused: exit 2, one line, nothing written to storage."""
    before = tree(show / "public")
    proc = run(show, *args, check=False)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert tree(show / "public") == before
    return line


def test_a_renamed_from_that_names_no_published_slug_is_refused_naming_the_close_ones(show):
    (show / "episodes/001-welcome").rename(show / "episodes/001-hello")
    toml = show / "episodes/001-hello/episode.toml"
    set_key(toml, "renamed_from", '"welcom"')  # a typo
    line = _refused(show, "episode", "1")
    assert f"{toml}: renamed_from" in line and "'welcom'" in line and "welcome" in line
    assert _items(show) == 1


def test_renamed_and_renumbered_folder_is_named_until_the_producer_says_which(show):
    guid = _guid(show)
    (show / "episodes/001-welcome").rename(show / "episodes/003-hello")
    toml = show / "episodes/003-hello/episode.toml"
    set_key(toml, "number", "3")

    def named(text: str) -> bool:
        return all(s in text for s in ("'welcome'", guid, 'renamed_from = "welcome"',
                                       "removed_guids"))

    status = run(show, "status", "--json")
    assert [w for w in json.loads(status.stdout)["warnings"] if named(w)]
    assert named(status.stderr)
    validate = run(show, "validate", "--json", check=False)
    assert [w for w in json.loads(validate.stdout)["warnings"] if named(w["message"])]
    dry = run(show, "episode", "3", "--dry-run")
    assert named(dry.stderr)

    set_key(toml, "renamed_from", '"welcome"')
    again = run(show, "episode", "3", "--json")
    assert json.loads(again.stdout)["guid"] == guid and guid not in again.stderr
    manifest = json.loads((show / "public/manifest.json").read_text())
    assert sorted(manifest["episodes"]) == ["hello"]
    assert manifest["episodes"]["hello"]["number"] == 3 and _items(show) == 1
    assert json.loads(run(show, "status", "--json").stdout)["warnings"] == []


def test_a_new_episode_may_take_the_number_of_one_removed_on_purpose(show):
    guid = _guid(show)
    (show / "episodes/001-welcome").rename(show / "episodes/001-another")
    line = _refused(show, "episode", "1")  # most likely a rename: ask
    assert "welcome" in line and "renamed_from" in line and "removed_guids" in line

    set_key(show / "feeds/women-in-surgery.toml", "removed_guids", f'["{guid}"]')
    new = run(show, "episode", "1", "--dry-run", "--json")
    assert json.loads(new.stdout)["guid"] != guid and "warning" not in new.stderr


def test_a_new_folder_never_takes_a_published_episodes_slug(show):
    guid = _guid(show)
    shutil.move(show / "episodes/001-welcome", show / "welcome-kept")

    made = run_json(show, "new", "--title", "Welcome", "--number", "2")
    assert made["folder"].endswith("002-welcome-2")
    proc = run(show, "new", "--title", "Hi", "--number", "3", "--slug", "welcome", check=False)
    assert proc.returncode != 0 and "published episode 1" in proc.stderr

    # Made by hand: the folder of a new episode 2 with the removed episode's slug.
    shutil.rmtree(show / "episodes/002-welcome-2")
    shutil.move(show / "welcome-kept", show / "episodes/002-welcome")
    set_key(show / "episodes/002-welcome/episode.toml", "number", "2")
    line = _refused(show, "episode", "2")
    assert "'welcome'" in line and "episode 1" in line and guid in line


def test_a_renumbered_episode_keeps_its_guid_once_confirmed(show):
    guid = _guid(show)
    toml = show / "episodes/001-welcome/episode.toml"
    set_key(toml, "number", "2")
    line = _refused(show, "episode", "2")
    assert "episode 1" in line and 'renamed_from = "welcome"' in line

    set_key(toml, "renamed_from", '"welcome"')
    assert run_json(show, "episode", "2")["guid"] == guid
    manifest = json.loads((show / "public/manifest.json").read_text())
    assert manifest["episodes"]["welcome"]["number"] == 2 and _items(show) == 1


def test_renamed_from_is_no_obstacle_where_nothing_is_published_yet(project):
    """A new storage (a first publish, a move to S3) has no record for it to name."""
    set_key(project / "episodes/001-welcome/episode.toml", "renamed_from", '"hello"')
    proc = run(project, "episode", "1", "--dry-run", check=False)
    assert proc.returncode == 0, proc.stderr
