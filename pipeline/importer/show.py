"""`publish import`: a show from another host into this project's feeds/ and episodes/, with
its GUIDs, dates and audio as published, and a report of what moved and what did not."""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import ConfigError, PublishError
from ..project.catalog import Catalog
from ..project.config import SLUG, load_feed
from ..session import ProgressFactory, no_progress
from .convert import ImportedEpisode, ImportPlan, feed_name, plan_import
from .fetch import FetchError, Limits, download, get_bytes
from .folders import (
    clear_work,
    import_episode,
    toml_text,
    write_bytes_atomic,
    write_text_atomic,
)
from .moving import moving_steps
from ..feed.reader import parse_feed

DEFAULT_JOBS = 3

FEED_HEADER = """Imported from {source} by `publish import`.
Every key is documented in docs/configuration.md ("Feed keys").
EDIT BEFORE PUBLISHING: base_url is a placeholder (the public URL of your new storage),
and storage is the local folder "public" (an s3://bucket/prefix for production)."""
EPISODE_HEADER = """Imported by `publish import` from
{source}
guid and published are the old host's: keep them, so listeners' apps see the same episode.
master = false publishes the audio as it was published (re-tagged, not re-encoded)."""


def read_source(source: str, limits: Limits) -> tuple[bytes, str, str | None]:
    """The feed's bytes from a URL or a file, the URL relative links resolve against, and the
    charset the server named."""
    if source.startswith(("http://", "https://")):
        return get_bytes(source, limits)
    path = Path(source)
    if not path.is_file():
        raise PublishError("not a file, nor an http(s) URL", where=source)
    return path.read_bytes(), "", None


def import_show(root: Path, source: str, name: str | None, with_audio: bool = True,
                jobs: int = DEFAULT_JOBS, progress: ProgressFactory | None = None,
                log: Callable[[str], None] = lambda m: None) -> dict:
    """Everything `publish import` does; returns the report (also the --json output)."""
    limits = Limits.from_env()
    data, base, charset = read_source(source, limits)
    feed = parse_feed(data, base, charset)
    name = name or feed_name(feed)
    if not SLUG.fullmatch(name):
        raise PublishError("a feed name is letters, digits, '-' and '_'", where="--name")
    catalog = Catalog(root)
    plan = plan_import(feed, name, _folder_guids(catalog))
    feed_toml = catalog.feeds_dir / f"{name}.toml"
    problems = _write_feed(plan, catalog.feeds_dir, source, data, limits)

    work = root / ".import" / name
    catalog.episodes_dir.mkdir(parents=True, exist_ok=True)
    episodes, skipped = [], [vars(s) for s in plan.skipped]
    header = EPISODE_HEADER.format(source=source)
    total = sum(ep.audio.length_hint or 0 for ep in plan.episodes) if with_audio else 0
    with (progress or no_progress)("Downloading", max(total, 1)) as update:
        lock = threading.Lock()

        def advance(n: int) -> None:
            with lock:
                update(n)

        def one(ep: ImportedEpisode) -> dict:
            return import_episode(ep, catalog.episodes_dir, work, limits, advance, with_audio,
                                  header)

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [(ep, pool.submit(one, ep)) for ep in plan.episodes]
            try:
                for ep, future in futures:
                    try:
                        episodes.append(future.result())
                    except (FetchError, ConfigError) as exc:
                        skipped.append({"guid": ep.guid, "title": ep.title, "reason": str(exc)})
                        log(f"skipped {ep.title!r}: {exc}")
            except KeyboardInterrupt:  # stop queued downloads; the .part files resume later
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    clear_work(work)
    return {"feed": str(feed_toml), "name": name, "source": source,
            "imported_source": str(catalog.feeds_dir / f"{name}.imported.xml"),
            "podcast_guid": feed.podcast_guid, "episodes": episodes, "skipped": skipped,
            "placeholders": plan.placeholders, "problems": problems,
            "moving": moving_steps(name, source, plan.feed_toml["base_url"])}


def _folder_guids(catalog: Catalog) -> dict[str, str | None]:
    """Each episode folder's name and GUID key, read leniently: a re-run finds the folders an
    earlier run wrote by their GUIDs, and new folders must not take a slug already used."""
    out = {}
    for folder in catalog.episode_folders():
        try:
            guid = tomllib.loads((folder / "episode.toml").read_text("utf-8")).get("guid")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            guid = None
        out[folder.name] = guid if isinstance(guid, str) else None
    return out


def _write_feed(plan: ImportPlan, feeds_dir: Path, source: str, data: bytes,
                limits: Limits) -> list[str]:
    """The feed TOML, its artwork and the source feed kept verbatim (for `publish validate`).
    A feed that does not validate yet is still written, for the producer to edit: its
    problem is reported."""
    problems = []
    feeds_dir.mkdir(parents=True, exist_ok=True)
    toml = dict(plan.feed_toml)
    if plan.artwork is not None:
        art = feeds_dir / plan.artwork.name
        toml["artwork"] = plan.artwork.name
        if not art.exists():
            try:
                download(plan.artwork.url, art, limits, lambda n: None)
            except FetchError as exc:
                problems.append(f"artwork not downloaded: {exc}: add it as {art}")
    else:
        toml["artwork"] = f"{plan.name}-artwork.jpg"
    # The latest copy of the old feed: episodes it gained since the last run count too.
    write_bytes_atomic(feeds_dir / f"{plan.name}.imported.xml", data)
    path = feeds_dir / f"{plan.name}.toml"
    if path.exists():  # an earlier run wrote it and the producer may have edited it since
        problems.append(f"{path} exists and was kept as it is")
    else:
        write_text_atomic(path, toml_text(toml, FEED_HEADER.format(source=source)))
    try:
        load_feed(path)
    except ConfigError as exc:
        problems.append(f"{exc} (edit it before publishing)")
    return problems


def report_lines(report: dict) -> Iterator[str]:
    """The report for people: what moved, what did not and why, and what to do next."""
    eps = report["episodes"]
    yield f"Imported {len(eps)} episode(s) into {report['feed']} and episodes/"
    for row in eps:
        audio = f"{row['audio']['bytes']} bytes, sha256 {row['audio']['sha256'][:12]}" \
            if row["audio"] else "no audio downloaded"
        yield f"  {row['folder']}: {row['title']} ({audio})"
        yield from (f"    note: {n}" for n in row["notes"])
    if report["skipped"]:
        yield f"Skipped {len(report['skipped'])}:"
        for s in report["skipped"]:
            yield f"  {s['title'] or '(no title)'}: {s['reason']}"
    for p in report["problems"]:
        yield f"Problem: {p}"
    if report["placeholders"]:
        yield f"Edit in {report['feed']} before publishing:"
        yield from (f"  {p}" for p in report["placeholders"])
    yield "Moving listeners:"
    yield from (f"  {i}. {step}" for i, step in enumerate(report["moving"], start=1))
