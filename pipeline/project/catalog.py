"""Find the feeds and episodes of a project folder and check them as a whole."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from pathlib import Path

from ..errors import ConfigError, PublishError
from .config import EpisodeConfig, FeedConfig, load_episode, load_feed, slug_of

NUMBER_RANGE = re.compile(r"(\d+)-(\d+)")


class Catalog:
    """The repository's episodes/ and feeds/ folders."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.episodes_dir = self.root / "episodes"
        self.feeds_dir = self.root / "feeds"

    def feed_paths(self) -> list[Path]:
        return sorted(self.feeds_dir.glob("*.toml"))

    def feed(self, name: str | None = None) -> FeedConfig:
        """The named feed, or the primary one: the only feed without a [filter]."""
        if name:
            path = Path(name)
            if not path.suffix:
                path = self.feeds_dir / f"{name}.toml"
            return load_feed(path)
        paths = self.feed_paths()
        if not paths:
            raise ConfigError("no feed: add a feeds/<name>.toml", where=self.feeds_dir)
        if len(paths) == 1:
            return load_feed(paths[0])
        primary = [f for f in self.feeds() if f.filter is None]
        if len(primary) != 1:
            raise ConfigError(f"{len(primary)} feeds without a [filter]: name one with --feed",
                              where=self.feeds_dir)
        return primary[0]

    def feeds(self) -> list[FeedConfig]:
        return [load_feed(p) for p in self.feed_paths()]

    def episode_folders(self) -> list[Path]:
        if not self.episodes_dir.is_dir():
            return []
        return sorted(p for p in self.episodes_dir.iterdir() if (p / "episode.toml").is_file())

    def claimed(self) -> tuple[dict[str, Path], set[int]]:
        """The slugs (with their folders) and numbers already taken, read leniently: a folder
        just scaffolded, still without its recording, must not stop the next `publish new`."""
        slugs, numbers = {}, set()
        for folder in self.episode_folders():
            slugs[slug_of(folder)] = folder
            try:
                number = tomllib.loads((folder / "episode.toml").read_text("utf-8")).get("number")
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                number = None
            if isinstance(number, int):
                numbers.add(number)
        return slugs, numbers

    def episodes(self) -> list[EpisodeConfig]:
        """Every episode, validated, with numbers unique within a season and slugs unique.

        A slug names the episode's files in storage and its GUID: two folders with one slug
        would overwrite each other's files and make one episode vanish from the feed.
        """
        eps = [load_episode(f) for f in self.episode_folders()]
        seen: dict[tuple[int | None, int], EpisodeConfig] = {}
        slugs: dict[str, EpisodeConfig] = {}
        for ep in eps:
            key = (ep.season, ep.number)
            if key in seen:
                other = seen[key].folder / "episode.toml"
                raise ConfigError(f"episode number {ep.number} is already used by {other}",
                                  where=ep.folder / "episode.toml", field="number")
            if ep.slug in slugs:
                raise ConfigError(f"slug {ep.slug!r} is also the slug of {slugs[ep.slug].folder}: "
                                  "the slug names an episode's files and GUID, so each "
                                  "folder needs its own; rename one of them", where=ep.folder)
            seen[key] = ep
            slugs[ep.slug] = ep
        return eps

    def episode(self, ref: str) -> EpisodeConfig:
        """An episode by folder path or by number; checks the whole catalogue for clashes."""
        return self._find(self.episodes(), ref)

    def select(self, refs: list[str]) -> list[EpisodeConfig]:
        """Episodes by folder, number, slug or range of numbers ("3-7"), in the order given,
        each once."""
        eps = self.episodes()
        chosen: dict[Path, EpisodeConfig] = {}
        for ref in refs:
            span = NUMBER_RANGE.fullmatch(ref)
            if span:
                low, high = int(span[1]), int(span[2])
                found = sorted((ep for ep in eps if low <= ep.number <= high),
                               key=lambda ep: (ep.season or 0, ep.number))
                if not found:
                    raise ConfigError(f"no episode numbered {ref}", where=self.episodes_dir)
            else:
                found = [self._find(eps, ref)]
            chosen.update((ep.folder, ep) for ep in found if ep.folder not in chosen)
        return list(chosen.values())

    def _find(self, eps: list[EpisodeConfig], ref: str) -> EpisodeConfig:
        path = Path(ref)
        if path.is_dir():
            target = path.resolve()
            for ep in eps:
                if ep.folder == target:
                    return ep
            raise ConfigError("not an episode folder inside episodes/ (with an episode.toml)",
                              where=path)
        if ref.isdigit():
            matches = [ep for ep in eps if ep.number == int(ref)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise ConfigError(f"episode number {ref} is in several seasons; give the folder",
                                  where=self.episodes_dir)
        for ep in eps:
            if ep.slug == ref or ep.folder.name == ref:
                return ep
        raise ConfigError(f"no episode {ref!r} (give a folder, a number or a slug)",
                          where=self.episodes_dir)


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "episode"


def free_slug(wanted: str, used: dict[str, object], explicit: bool = False) -> str:
    """A title's slug, numbered on when taken (two "Mailbag" episodes); a slug asked for by
    name is refused instead, since the producer chose it."""
    if wanted in used and explicit:
        raise PublishError(f"slug {wanted!r} is already used by {used[wanted]}", where="--slug")
    n = 2
    slug = wanted
    while slug in used:
        slug, n = f"{wanted}-{n}", n + 1
    return slug
