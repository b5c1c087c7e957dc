"""The `publish` command: thin click commands over pipeline/, errors mapped in one place."""

from __future__ import annotations

import errno
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pipeline.errors import PublishError
from pipeline.project.catalog import NUMBER_RANGE
from pipeline.project.config import AudioSettings
from pipeline.project.shard import Shard
from pipeline.publishing import ping
from pipeline.publishing.feeds import rebuild_feeds
from pipeline.session import Session

if TYPE_CHECKING:
    from pipeline.audio.master import MasterReport

# The audio stack (numpy, scipy, mutagen), the checks and the importer are imported inside
# the commands that use them: `publish feed` of a large catalogue is mostly process start.


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


json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print one JSON object on stdout and nothing else there.")


def storage_option(kinds: str = "a folder or s3://bucket/prefix"):
    """--storage, with the kinds of storage the command takes in its help."""
    return click.option("--storage", metavar="URI", help=f"Override the feed's storage: {kinds}.")


dry_run_option = click.option("--dry-run", is_flag=True,
                              help="Show what would happen; change nothing.")


no_ping_option = click.option("--no-ping", is_flag=True,
                              help="Do not tell WebSub hubs and Podping that a feed changed.")


def publishing_options(fn):
    """--dry-run, --storage, --json and --no-ping, shared by every command that publishes."""
    return dry_run_option(storage_option()(json_option(no_ping_option(fn))))


def with_pings(s: Session, result: dict, no_ping: bool) -> dict:
    """The result with the pings sent for the feeds it changed (`pings`, none in a dry run)."""
    return {**result, "pings": ping.notify(s.sibling_feeds(), result["feeds"],
                                           skip=no_ping or s.dry_run, log=s.log)}


DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class PublishGroup(click.Group):
    """Maps the one user-facing error type to one stderr line and its exit status."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PublishError as exc:
            click.secho(f"publish: error: {exc}", err=True, fg="red")
            if exc.detail and ctx.meta.get("verbose"):
                click.echo(f"  detail: {exc.detail}", err=True)
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
@click.option("-v", "--verbose", is_flag=True, envvar="PUBLISH_VERBOSE",
              help="On an error, also show what the failing tool (ffmpeg) said.")
@click.version_option(package_name="publish")
@click.pass_context
def cli(ctx: click.Context, project: Path, verbose: bool) -> None:
    """Master, tag and publish podcast episodes, and keep their feeds right."""
    ctx.obj = project.resolve()
    ctx.meta["verbose"] = verbose


@cli.command("episode")
@click.argument("episodes", metavar="[EPISODE]...", nargs=-1)
@click.option("--all", "all_episodes", is_flag=True, help="Publish every episode.")
@click.option("--jobs", type=click.IntRange(1, 16), default=1, show_default=True,
              help="Episodes mastered at once (with several episodes).")
@click.option("--shard", "shard_text", metavar="I/N",
              help="Publish only share I of N of the chosen episodes (episode number K goes to "
                   "share (K - 1) mod N + 1), for N machines publishing at once.")
@click.option("--feed", "feed_name", metavar="NAME", help="The feed to publish into.")
@click.option("--remaster", is_flag=True,
              help="Master the recording again with the current engine, even if nothing changed "
                   "(a new MP3 under a new URL).")
@publishing_options
def episode_command(episodes: tuple[str, ...], all_episodes: bool, jobs: int,
                    shard_text: str | None, feed_name: str | None, remaster: bool, dry_run: bool,
                    storage: str | None, as_json: bool, no_ping: bool) -> None:
    """Publish EPISODE (a folder, a number, a slug or a range such as 3-7; several, or --all):
    master, tag, upload, then rebuild the feed once."""
    from pipeline.checks import gather
    from pipeline.publish import publish_episode, publish_episodes

    if all_episodes == bool(episodes):
        raise click.UsageError("give one or more EPISODEs, or --all")
    shard = Shard.parse(shard_text) if shard_text is not None else None
    out = Output(as_json)
    s = Session.open(_root(), feed_name, storage, _now(), progress=out.progress, log=out.log,
                     dry_run=dry_run)
    if shard is None and len(episodes) == 1 and not NUMBER_RANGE.fullmatch(episodes[0]):
        ep = s.catalog.episode(episodes[0])
        gather.refuse_on_errors(gather.before_upload(s, [ep]), out.log,
                                ep.folder / "episode.toml")
        out.result(with_pings(s, publish_episode(s, ep, remaster=remaster), no_ping),
                   _show_episode)
        return
    chosen = s.catalog.episodes() if all_episodes else s.catalog.select(list(episodes))
    eps = shard.select(chosen) if shard else chosen
    gather.refuse_on_errors(gather.before_upload(s, eps, jobs=jobs), out.log,
                            s.catalog.episodes_dir)
    result = publish_episodes(s, eps, jobs, remaster=remaster)
    if shard:
        result["shard"] = {"index": shard.index, "count": shard.count, "chosen": len(chosen),
                           "episodes": [ep.slug for ep in eps]}
    out.result(with_pings(s, result, no_ping), _show_episodes)


def _show_episode(r: dict) -> None:
    prefix = "Would publish" if r["dry_run"] else "Published"
    for action in r["actions"]:
        click.echo(f"  {'would ' if r['dry_run'] else ''}{action}")
    audio = r["audio"]
    if audio:
        how = _how(r)
        if r["dry_run"] and r["encoded"]:
            how = "to be encoded; published now as"
        click.secho(f"{prefix} {r['episode']} ({how}): {audio['url']}", fg="green", bold=True)
        click.echo(f"  {audio['bytes']} bytes, {audio['duration_s']:.1f} s, "
                   f"{r['loudness']['output_lufs']} LUFS, "
                   f"true peak {r['loudness']['true_peak_dbtp']} dBTP, "
                   + ("not mastered (master = false)" if audio["as_published"]
                      else f"engine {audio['engine'] or '?'}"))
        for rendition in r.get("renditions", []):
            click.echo(f"  {rendition['title']}: {rendition['bytes']} bytes, {rendition['url']}")
        if audio["older_engine"] and not (r["dry_run"] and r["encoded"]):
            click.echo(f"  mastered by an older engine; publish episode {r['episode']} "
                       "--remaster masters it again")
    else:
        click.secho(f"{prefix} {r['episode']} (to be {_how(r)})", fg="green", bold=True)
    _show_feeds(r)


def _show_episodes(r: dict) -> None:
    if r.get("shard"):
        sh = r["shard"]
        click.echo(f"Shard {sh['index']}/{sh['count']}: {len(sh['episodes'])} of the "
                   f"{sh['chosen']} episodes chosen"
                   + (f" ({', '.join(sh['episodes'])})" if sh["episodes"] else ""))
    for action in r["actions"]:
        click.echo(f"  {'would ' if r['dry_run'] else ''}{action}")
    for e in r["episodes"]:
        how = f"to be {_how(e)}" if e["audio"] is None else _how(e)
        url = f": {e['audio']['url']}" if e["audio"] else ""
        click.echo(f"{'Would publish' if r['dry_run'] else 'Published'} {e['episode']} "
                   f"({how}){url}")
    _show_feeds(r)


def _how(r: dict) -> str:
    """What happened to an episode's audio, in the words of the command's output."""
    if r["encoded"]:
        return "encoded"
    if r["copied"]:
        return "copied as it is"
    return "re-tagged" if r["retagged"] else "unchanged"


def _show_feeds(r: dict) -> None:
    for f in r["feeds"]:
        state = "updated" if f["changed"] else "unchanged"
        click.echo(f"  feed {f['name']} {state}: {f['url']}")
    if r["site"]:
        written, deleted = r["site"]["pages_written"], len(r["site"]["pages_deleted"])
        verbs = ("to write", "to delete") if r["dry_run"] else ("written", "deleted")
        done = [f"{n} pages {verb}" for n, verb in zip((written, deleted), verbs) if n]
        state = f"updated ({', '.join(done)})" if done else "unchanged"
        click.echo(f"  site {state}: {r['site']['url']}")
    for p in r["pings"]:
        if p["ok"]:
            click.echo(f"  pinged {p['service']} {p['endpoint']} for {p['feed']}")
    click.echo(f"  uploaded {r['uploaded_bytes']} bytes")


@cli.command("feed")
@click.argument("feed_name", metavar="[FEED]", required=False)
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S",
                                                      "%Y-%m-%dT%H:%M:%S%z"]),
              help="Render the feed as of this moment (UTC unless an offset is given).")
@publishing_options
def feed_command(feed_name: str | None, as_of: datetime | None, dry_run: bool, storage: str | None,
                 as_json: bool, no_ping: bool) -> None:
    """Rebuild the feed from what is in storage (no audio needed)."""
    out = Output(as_json)
    s = Session.open(_root(), feed_name, storage, _now(as_of), progress=out.progress,
                     log=out.log, dry_run=dry_run)
    out.result(with_pings(s, rebuild_feeds(s), no_ping), _show_rebuild)


def _show_rebuild(r: dict) -> None:
    if r["dry_run"]:
        for action in r["actions"]:
            click.echo(f"  would {action}")
    _show_feeds(r)


@cli.command("validate")
@click.argument("feed_name", metavar="[FEED]", required=False)
@click.option("--deep", is_flag=True,
              help="Also download every published MP3 and measure its duration.")
@storage_option()
@json_option
def validate_command(feed_name: str | None, deep: bool, storage: str | None,
                     as_json: bool) -> None:
    """Check the feed's files, the feed as rebuilt now, and the published feed and objects."""
    from pipeline.checks import gather

    out = Output(as_json)
    s = Session.open(_root(), feed_name, storage, _now())
    problems = gather.validate_feed(s, deep=deep)
    errors = [p for p in problems if p.level == "error"]
    warnings = [p for p in problems if p.level == "warning"]
    out.result({"feed": s.feed.name, "errors": [vars(p) for p in errors],
                "warnings": [vars(p) for p in warnings]}, _show_problems)
    if errors:
        raise PublishError(f"{len(errors)} error(s), {len(warnings)} warning(s)",
                           where=s.feed.path)


def _show_problems(r: dict) -> None:
    for title, items in (("Errors", r["errors"]), ("Warnings", r["warnings"])):
        if items:
            click.secho(f"{title} ({len(items)}):", bold=True)
            for p in items:
                click.echo(f"  {p['where']}: {p['message']}")
    if not r["errors"] and not r["warnings"]:
        click.secho(f"{r['feed']}: no problems found", fg="green")


@cli.command("serve")
@click.argument("feed_name", metavar="[FEED]", required=False)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 to let phones on the LAN subscribe.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port (0: any free one).")
@click.option("--base-url", metavar="URL",
              help="The URL apps reach this server at (default: http://HOST:PORT).")
@storage_option("a folder (serve does not serve S3)")
def serve_command(feed_name: str | None, host: str, port: int, base_url: str | None,
          storage: str | None) -> None:
    """Serve the local storage folder, with preview feeds that point at this server."""
    from pipeline.serve import make_server  # the HTTP server is only needed here

    s = Session.open(_root(), feed_name, storage, _now())
    server = make_server(s, host, port, base_url)
    click.echo(f"Serving {s.storage.uri} at {server.base_url}/", err=True)
    for f in server.feeds.values():
        click.echo(f"  preview feed: {server.base_url}/{f.feed_key}", err=True)
    click.echo(f"  preview site: {server.base_url}/", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@cli.command("new")
@click.option("--title", required=True, help="The episode's title.")
@click.option("--number", type=int, help="Episode number (default: the next free one).")
@click.option("--slug", help="Folder slug (default: from the title).")
@click.option("--audio", "audio", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Source recording to copy into the folder.")
@json_option
def new_command(title: str, number: int | None, slug: str | None, audio: Path | None,
        as_json: bool) -> None:
    """Scaffold a new episode folder in episodes/."""
    from pipeline.project import scaffold

    try:
        manifest = Session.open(_root(), None, None, _now()).read_manifest()
    except PublishError:  # no feed yet, or storage out of reach: the folders alone decide
        manifest = None
    published = {r.slug: r.number for r in manifest.episodes.values()} if manifest else {}
    folder = scaffold.new_episode(_root(), title, number, slug, audio, _now(), published)
    Output(as_json).result({"folder": str(folder)},
                           lambda r: click.echo(f"Created {r['folder']}: edit episode.toml "
                                                "and notes.md, then run publish episode"))


@cli.command("import")
@click.argument("source")
@click.option("--name", help="The feed's name, feeds/NAME.toml (default: from its title).")
@click.option("--no-audio", is_flag=True, help="Write the folders without downloading audio.")
@click.option("--jobs", type=click.IntRange(1, 16), default=3, show_default=True,
              help="Downloads at once.")
@json_option
def import_command(source: str, name: str | None, no_audio: bool, jobs: int,
                   as_json: bool) -> None:
    """Import a show from another host: SOURCE is its feed's URL or a saved feed file."""
    from pipeline.importer.show import import_show, report_lines

    out = Output(as_json)
    report = import_show(_root(), source, name, with_audio=not no_audio, jobs=jobs,
                         progress=out.progress, log=out.log)
    out.result(report, lambda r: click.echo("\n".join(report_lines(r))))


@cli.command("status")
@click.option("--feed", "feed_name", metavar="NAME", help="The feed whose storage to read.")
@storage_option()
@json_option
def status_command(feed_name: str | None, storage: str | None, as_json: bool) -> None:
    """List episodes: draft, scheduled or published, with duration, loudness and URL."""
    from pipeline import status

    out = Output(as_json)
    s = Session.open(_root(), feed_name, storage, _now())
    manifest = s.read_manifest()
    rows = status.rows(s, manifest)
    warnings = status.warnings(s, manifest)
    out.result({"episodes": rows, "warnings": warnings},
               lambda r: click.echo(status.table(r["episodes"])))
    for warning in warnings:
        out.log(warning)


@cli.command("master")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="MP3 to write.")
@click.option("--target", type=float, default=AudioSettings().target_lufs, show_default=True,
              help="Integrated loudness target, LUFS.")
@click.option("--true-peak", type=float, default=AudioSettings().true_peak_dbtp,
              show_default=True, help="True-peak ceiling, dBTP.")
@click.option("--bitrate", type=int, default=AudioSettings().bitrate, show_default=True,
              help="MP3 bitrate, kbit/s.")
@click.option("--level/--no-level", default=AudioSettings().level, show_default=True,
              help="Level speech so every speaker is equally loud.")
@click.option("--denoise", is_flag=True, help="Reduce noise with RNNoise first (slow).")
@json_option
def master_command(input_path: Path, output: Path, target: float, true_peak: float,
                   bitrate: int, level: bool, denoise: bool, as_json: bool) -> None:
    """Master one recording to MP3 without publishing: loudness target, true peaks held."""
    from pipeline.audio import ffmpeg
    from pipeline.audio.master import master_to_mp3

    try:
        audio = AudioSettings(target_lufs=target, true_peak_dbtp=true_peak, bitrate=bitrate,
                              level=level, denoise=denoise)
    except ValueError as exc:
        raise click.BadParameter(str(exc).splitlines()[-1]) from None
    out = Output(as_json)
    with out.progress("Mastering", 1000) as update:
        done = 0

        def advance(fraction: float) -> None:
            nonlocal done
            update(round(fraction * 1000) - done)
            done = round(fraction * 1000)

        report = master_to_mp3(ffmpeg.find_ffmpeg(), input_path, output, audio, progress=advance)
    out.result(_master_summary(report), lambda r: _show_master(output, r))


def _master_summary(report: MasterReport) -> dict:
    return {"input_lufs": report.input.integrated_lufs,
            "output_lufs": report.output.integrated_lufs,
            "input_lra": report.input.lra, "output_lra": report.output.lra,
            "input_true_peak_dbtp": report.input.true_peak_dbtp,
            "true_peak_dbtp": report.output.true_peak_dbtp, "gain_db": report.gain_db,
            "limited_s": report.limited_s, "max_reduction_db": report.max_reduction_db,
            "duration_s": report.duration_s, "leveler": report.leveler,
            "warnings": report.warnings}


def _show_master(output: Path, r: dict) -> None:
    click.echo(f"{output}: {r['input_lufs']:.1f} -> {r['output_lufs']:.1f} LUFS, true peak "
               f"{r['true_peak_dbtp']:.1f} dBTP, gain {r['gain_db']:+.1f} dB, "
               f"limited {r['limited_s']:.1f} s")
    for w in r["warnings"]:
        click.echo(f"warning: {w}", err=True)

main = cli


if __name__ == "__main__":
    main()
