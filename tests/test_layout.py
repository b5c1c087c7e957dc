"""The layout's promise (README, Development): every import points down the list of rooms, and
nothing imports a command module. Read from the source with ast, so the claim stays true."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from helpers import REPO

PACKAGE = REPO / "pipeline"
# Rooms from the top down: a module may import its own room and the rooms after it. A folder
# is a room; so is a flat module. The package itself (its version) is below them all.
ROOMS = ["publish", "publishing", "serve", "status", "importer", "checks", "session", "site",
         "feed", "audio", "storage", "manifest", "project", "texts", "runtime", "errors",
         "faults"]
# The steps of one command each: only cli.py calls them.
COMMANDS = {"pipeline.publish", "pipeline.publishing.feeds", "pipeline.serve", "pipeline.status",
            "pipeline.importer.show", "pipeline.project.scaffold"}


def _name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    path = REPO.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(source: str, name: str, package: bool = False) -> set[str]:
    """Every module of ours a source imports, at the top, in a function or for type hints."""
    here = name.split(".")
    parent = here if package else here[:-1]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = parent[:len(parent) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            # `from .x import y` names a thing in x, or a module x.y.
            found |= {f"{module}.{a.name}" if _is_module(f"{module}.{a.name}") else module
                      for a in node.names}
    return {m for m in found if m.split(".")[0] in ("pipeline", "cli")}


def room(module: str) -> str | None:
    """The room a module of ours is in; None for the package itself."""
    parts = module.split(".")
    return parts[1] if parts[0] == "pipeline" and len(parts) > 1 else None


def upward(source: str, name: str, package: bool = False) -> list[str]:
    """Imports of a module that point up the list of rooms, or at a command or cli.py."""
    mine = room(name)
    wrong = []
    for target in sorted(imports(source, name, package)):
        theirs = room(target)
        if target == "cli" or target in COMMANDS:
            wrong.append(f"{target} is a command")
        elif theirs is not None and ROOMS.index(theirs) < ROOMS.index(mine):
            wrong.append(f"{target} is in {theirs!r}, above {mine!r}")
    return wrong


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_is_in_a_declared_room():
    assert not [str(p) for p in _modules() if p != PACKAGE / "__init__.py"
                and room(_name(p)) not in ROOMS]


def test_every_import_points_down_the_rooms_and_never_at_a_command():
    wrong = {_name(p): w for p in _modules()
             if (w := upward(p.read_text(encoding="utf-8"), _name(p), p.name == "__init__.py"))}
    assert wrong == {}


def test_an_import_up_the_rooms_or_at_a_command_is_caught():
    """The check itself: the manifest asking the session (above it) or a command for something."""
    source = (PACKAGE / "manifest.py").read_text(encoding="utf-8") + (
        "\nfrom .session import Session\n\n\ndef _late():\n    from .publishing import feeds\n")
    assert upward(source, "pipeline.manifest") == [
        "pipeline.publishing.feeds is a command",
        "pipeline.session is in 'session', above 'manifest'"]
    assert upward("from ..texts import notes\n", "pipeline.feed.render") == []


def _readme_rows() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Development"):]
    return section[section.index("| where |"):].split("\n\n")[0].splitlines()


def test_the_readme_lists_the_rooms_in_the_checked_order():
    listed = [m.group(1) for row in _readme_rows()
              for m in re.finditer(r"`pipeline/(\w+)(?:\.py|/)`", row.split(" | ")[0])]
    assert listed == ROOMS


def test_the_readme_names_every_module_in_its_room():
    """A newcomer finds each file in the table: a room's row names its modules (or their
    folder, like `ext/`)."""
    rows = {m.group(1): row for row in _readme_rows()
            for m in re.finditer(r"`pipeline/(\w+)/`", row.split(" | ")[0])}
    missing = []
    for path in _modules():
        inner = path.relative_to(PACKAGE).parts[1:]
        if inner and inner[-1] != "__init__.py":
            named = f"`{inner[0]}`" if len(inner) == 1 else f"`{inner[0]}/`"
            if named not in rows[path.relative_to(PACKAGE).parts[0]]:
                missing.append(str(path.relative_to(REPO)))
    assert missing == []
