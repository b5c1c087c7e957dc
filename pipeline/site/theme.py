"""The site's look: the package's templates and assets, each overridable by the project's site/.

A project folder `site/templates/episode.html` replaces the package's episode template,
`site/assets/site.css` its stylesheet; files the package does not have (a logo, say) are
added. Templates are Jinja2 with autoescaping, so every text from configs and notes is
escaped unless a template marks it safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

PACKAGE_THEME = Path(__file__).resolve().parent / "theme"


@dataclass(frozen=True)
class Theme:
    env: Environment
    assets: dict[str, bytes]  # by file name; the project's win over the package's
    folders: tuple[Path, ...]  # where templates and assets were looked for, project first


def load(project_site: Path | None = None) -> Theme:
    """The theme of a project: its `site/` folder (when it exists) over the package's."""
    folders = tuple(f for f in (project_site, PACKAGE_THEME) if f is not None and f.is_dir())
    # Loaded once per run (and again per change by `publish serve`), so Jinja need not stat
    # every template for every page (auto_reload): that was 15 % of rendering 2,000 pages.
    env = Environment(
        loader=FileSystemLoader([str(f / "templates") for f in folders]),
        autoescape=True,
        undefined=StrictUndefined,  # a misspelt variable in a template is an error, not ""
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["oneline"] = one_line
    assets: dict[str, bytes] = {}
    for folder in reversed(folders):
        for path in sorted((folder / "assets").glob("*")):
            if path.is_file() and not path.name.startswith("."):
                assets[path.name] = path.read_bytes()
    return Theme(env=env, assets=assets, folders=folders)


def one_line(text: str) -> str:
    """For meta tags and summaries: runs of white space (newlines too) become one space."""
    return " ".join(str(text).split())


def stamp(project_site: Path) -> tuple:
    """What changes when a file of the project's theme changes: for `publish serve` to notice."""
    if not project_site.is_dir():
        return ()
    return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns)
                 for p in sorted(project_site.rglob("*")) if p.is_file())
