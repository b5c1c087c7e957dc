"""Which published episode a folder is: a GUID follows its episode through renames, never a
reused slug, and an episode whose folder is gone is named until the producer says why.

Pure functions of the catalogue (the folders) and the manifest (what is published); the
commands call them and turn what they find into errors and warnings.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

from ..errors import ConfigError
from ..manifest import EpisodeRecord, Manifest
from ..project.config import EpisodeConfig


def orphans(manifest: Manifest, catalogue: Iterable[EpisodeConfig],
            removed_guids: Iterable[str]) -> list[EpisodeRecord]:
    """Published episodes whose folder is gone: no folder has their slug, none still to be
    published declares it as `renamed_from`, and the feed does not remove them on purpose."""
    catalogue = list(catalogue)
    folders = {ep.slug for ep in catalogue}
    claimed = {ep.renamed_from for ep in catalogue if ep.slug not in manifest.episodes}
    removed = set(removed_guids)
    return [rec for slug, rec in manifest.episodes.items()
            if slug not in folders and slug not in claimed and rec.guid not in removed]


def orphan_message(rec: EpisodeRecord, feed_path: Path | str) -> str:
    """What a producer reads about a published episode whose folder is gone: the two ways out."""
    return (f"{rec.slug!r} ({_numbered(rec.season, rec.number)}, GUID {rec.guid}) is published "
            "but has no folder in episodes/ any more: if a folder was renamed from it, add "
            f'renamed_from = "{rec.slug}" to that folder\'s episode.toml (it keeps the GUID); '
            f'to take it out of the feed on purpose, add "{rec.guid}" to removed_guids in '
            f"{feed_path}")


def published_as(ep: EpisodeConfig, manifest: Manifest, catalogue: Iterable[EpisodeConfig],
                 removed_guids: Iterable[str]) -> EpisodeRecord | None:
    """The manifest's record of this episode (None: it is new), or a ConfigError when that
    cannot be told without the producer: a slug published under another number (a new episode
    reusing a removed one's slug would take over its GUID), a `renamed_from` that names no
    published episode (a typo would publish the episode twice), or a new folder with the number
    of a published episode whose folder is gone (most likely that episode, renamed)."""
    catalogue = list(catalogue)
    where = ep.folder / "episode.toml"
    rec = manifest.episodes.get(ep.slug)
    if rec is not None:
        if (rec.season, rec.number) != (ep.season, ep.number) and ep.renamed_from != ep.slug:
            raise ConfigError(
                f"slug {ep.slug!r} was published as {_numbered(rec.season, rec.number)} "
                f"(GUID {rec.guid}) and this folder is {_numbered(ep.season, ep.number)}: if it "
                "is a new episode, give its folder another name (a slug names one episode for "
                f'good); if that episode was renumbered, add renamed_from = "{ep.slug}" to '
                "confirm it keeps its GUID", where=where)
        return rec
    if ep.renamed_from and ep.renamed_from != ep.slug:
        return _renamed_from(ep, manifest, catalogue, where)
    for old in orphans(manifest, catalogue, removed_guids):
        if (old.season, old.number) == (ep.season, ep.number):
            raise ConfigError(
                f"{_numbered(ep.season, ep.number)} was published as {old.slug!r} (GUID "
                f"{old.guid}), whose folder is gone: if this folder was renamed from it, add "
                f'renamed_from = "{old.slug}" to keep its GUID; if it was removed on purpose, '
                f'add "{old.guid}" to the feed\'s removed_guids; otherwise give this episode '
                "another number", where=where)
    return None


def _renamed_from(ep: EpisodeConfig, manifest: Manifest, catalogue: list[EpisodeConfig],
                  where: Path) -> EpisodeRecord | None:
    """The record `renamed_from` names. Storage with nothing published yet (a first publish,
    a new bucket) has no record to name, and nothing a typo could duplicate."""
    folders = {other.slug: other.folder for other in catalogue}
    if ep.renamed_from in folders:
        raise ConfigError(f"{ep.renamed_from!r} is still an episode folder: "
                          f"{folders[ep.renamed_from]}", where=where, field="renamed_from")
    rec = manifest.episodes.get(ep.renamed_from)
    if rec is None and manifest.episodes:
        close = difflib.get_close_matches(ep.renamed_from, list(manifest.episodes), n=3,
                                          cutoff=0.6)
        hint = (f"; published slugs close to it: {', '.join(close)}" if close
                else "; no published slug is close to it")
        raise ConfigError(f"{ep.renamed_from!r} is not the slug of a published episode, so "
                          f"this episode would be published again under a new GUID{hint}",
                          where=where, field="renamed_from")
    return rec


def _numbered(season: int | None, number: int) -> str:
    return f"episode {number}" + (f" of season {season}" if season is not None else "")
