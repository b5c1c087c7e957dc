"""The `publish` command: thin click commands over pipeline/, errors mapped in one place."""

from __future__ import annotations

import errno
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click

from pipeline import scaffold
from pipeline import status as statusmod
from pipeline.errors import PublishError
from pipeline.master_cli import master_command
from pipeline.publish import Session, publish_episode, rebuild_feeds


class Output:
    """Where messages go: JSON mode keeps stdout for the one JSON object."""

    def __init__(self, as_json: bool):
        self.as_json = as_json
        self.interactive = not as_json and sys.stderr.isatty()

    def log(self, msg: str) -> None:
        click.secho(msg, err=True, fg="yellow" if msg.startswith("warning") else None)

    @contextmanager
    def progress(self, label: str, total: float) -> Iterator[Callable[[float], None]]:
        if not self.interactive:
            yield lambda n: None
            return
        with click.progressbar(length=int(total), label=label, file=sys.stderr) as bar:
            yield bar.update

    def result(self, data: dict, human: Callable[[dict], None]) -> None:
        if self.as_json:
            click.echo(json.dumps(data, ensure_ascii=False))
        else:
            human(data)


def _root() -> Path:
    return click.get_current_context().find_root().obj


def _now(as_of: datetime | None = None) -> datetime:
    if as_of is None:
        return datetime.now(UTC)
    return as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)


def publishing_options(fn):
    """--dry-run, --storage and --json, shared by every command that publishes."""
    fn = click.option("--json", "as_json", is_flag=True,
                      help="Print one JSON object on stdout and nothing else there.")(fn)
    fn = click.option("--storage", metavar="URI",
                      help="Override the feed's storage: a folder or s3://bucket/prefix.")(fn)
    fn = click.option("--dry-run", is_flag=True, help="Show what would happen; change nothing.")(fn)
    return fn


DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class PublishGroup(click.Group):
    """Maps the one user-facing error type to one stderr line and its exit status."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PublishError as exc:
            click.secho(f"publish: error: {exc}", err=True, fg="red")
            ctx.exit(exc.exit_code)
        except OSError as exc:
            if exc.errno not in DISK_FULL:
                raise  # anything else is a bug: let it show its traceback
            where = f"{exc.filename}: " if exc.filename else ""
            click.secho(f"publish: error: {where}{exc.strerror}", err=True, fg="red")
            ctx.exit(1)


@click.group(cls=PublishGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "--project", type=click.Path(file_okay=False, path_type=Path),
              default=".", envvar="PUBLISH_PROJECT", show_default=True,
              help="The project folder (with episodes/ and feeds/).")
@click.version_option(package_name="publish")
@click.pass_context
def cli(ctx: click.Context, project: Path) -> None:
    """Master, tag and publish podcast episodes, and keep their feeds right."""
    ctx.obj = project.resolve()


@cli.command()
@click.argument("episode")
@click.option("--feed", "feed_name", metavar="NAME", help="The feed to publish into.")
@publishing_options
def episode(episode: str, feed_name: str | None, dry_run: bool, storage: str | None,
            as_json: bool) -> None:
    """Publish EPISODE (a folder, a number or a slug): master, tag, upload, rebuild the feed."""
    out = Output(as_json)
    s = Session.open(_root(), feed_name, storage, _now(), progress=out.progress, log=out.log,
                     dry_run=dry_run)
    ep = s.catalog.episode(episode)
    out.result(publish_episode(s, ep), _show_episode)


def _show_episode(r: dict) -> None:
    prefix = "Would publish" if r["dry_run"] else "Published"
    for action in r["actions"]:
        click.echo(f"  {'would ' if r['dry_run'] else ''}{action}")
    if r["audio"]:
        how = "encoded" if r["encoded"] else "re-tagged" if r["retagged"] else "unchanged"
        click.secho(f"{prefix} {r['episode']} ({how}): {r['audio']['url']}", fg="green", bold=True)
        click.echo(f"  {r['audio']['bytes']} bytes, {r['audio']['duration_s']:.1f} s, "
                   f"{r['loudness']['output_lufs']} LUFS, "
                   f"true peak {r['loudness']['true_peak_dbtp']} dBTP")
    else:
        click.secho(f"{prefix} {r['episode']} (to be encoded)", fg="green", bold=True)
    _show_feeds(r)


def _show_feeds(r: dict) -> None:
    for f in r["feeds"]:
        state = "updated" if f["changed"] else "unchanged"
        click.echo(f"  feed {f['name']} {state}: {f['url']}")
    click.echo(f"  uploaded {r['uploaded_bytes']} bytes")


@cli.command()
@click.argument("feed_name", metavar="[FEED]", required=False)
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S",
                                                      "%Y-%m-%dT%H:%M:%S%z"]),
              help="Render the feed as of this moment (UTC unless an offset is given).")
@publishing_options
def feed(feed_name: str | None, as_of: datetime | None, dry_run: bool, storage: str | None,
         as_json: bool) -> None:
    """Rebuild the feed from what is in storage (no audio needed)."""
    out = Output(as_json)
    s = Session.open(_root(), feed_name, storage, _now(as_of), progress=out.progress,
                     log=out.log, dry_run=dry_run)
    out.result(rebuild_feeds(s), _show_feeds)


@cli.command()
@click.option("--title", required=True, help="The episode's title.")
@click.option("--number", type=int, help="Episode number (default: the next free one).")
@click.option("--slug", help="Folder slug (default: from the title).")
@click.option("--audio", "audio", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Source recording to copy into the folder.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def new(title: str, number: int | None, slug: str | None, audio: Path | None,
        as_json: bool) -> None:
    """Scaffold a new episode folder in episodes/."""
    folder = scaffold.new_episode(_root(), title, number, slug, audio, _now())
    Output(as_json).result({"folder": str(folder)},
                           lambda r: click.echo(f"Created {r['folder']}: edit episode.toml "
                                                "and notes.md, then run publish episode"))


@cli.command()
@click.option("--feed", "feed_name", metavar="NAME", help="The feed whose storage to read.")
@click.option("--storage", metavar="URI", help="Override the feed's storage.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def status(feed_name: str | None, storage: str | None, as_json: bool) -> None:
    """List episodes: draft, scheduled or published, with duration, loudness and URL."""
    out = Output(as_json)
    s = Session.open(_root(), feed_name, storage, _now())
    rows = statusmod.rows(s)
    out.result({"episodes": rows}, lambda r: click.echo(statusmod.table(r["episodes"])))


cli.add_command(master_command)

main = cli


if __name__ == "__main__":
    main()
