"""Write what an import planned into the project: the feed TOML and episode folders, each
episode built beside episodes/ and renamed into place whole, so a failure or an interrupted
run never leaves a half-written episode folder (only a work folder a re-run resumes)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import tomli_w

from ..audio.passthrough import is_mp3
from ..errors import ConfigError
from ..project.config import load_episode
from .convert import ImportedEpisode
from .fetch import Downloaded, FetchError, Limits, download, get_bytes

Progress = Callable[[int], None]


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """A reader (or a crash) sees the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def toml_text(data: dict, header: str) -> str:
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return comments + tomli_w.dumps(data)


def import_episode(ep: ImportedEpisode, episodes_dir: Path, work: Path, limits: Limits,
                   progress: Progress, with_audio: bool, header: str) -> dict:
    """One episode folder, finished: its row for the report. A folder an earlier run finished
    is left alone (it only gets its audio, after a run with --no-audio)."""
    final = episodes_dir / ep.folder
    if final.exists():
        audio = final / ep.audio.name
        got = None
        if with_audio and not audio.exists():
            got = download(ep.audio.url, audio, limits, progress, audio=True)
        return _row(ep, got, ["already imported" + (": audio added" if got else "")])
    build = work / ep.folder
    build.mkdir(parents=True, exist_ok=True)  # kept between runs: a .part download resumes
    notes = list(ep.notes)
    toml = dict(ep.toml)
    kept = []
    for extra in ep.extras:
        try:
            data, _, _ = get_bytes(extra.url, limits)
        except FetchError as exc:
            notes.append(f"{extra.key} not kept: {exc}")
            continue
        (build / extra.name).write_bytes(data)
        toml[extra.key] = extra.name
        kept.append(extra)
    if ep.notes_md:
        (build / "notes.md").write_text(ep.notes_md, encoding="utf-8")
    got = None
    if with_audio:
        got = download(ep.audio.url, build / ep.audio.name, limits, progress, audio=True)
        if not toml["master"] and not is_mp3(got.path):
            toml["master"] = True
            notes.append("the enclosure is not an MP3 after all: it will be mastered")
        notes += _duration_note(got.path, ep.duration_s) if not toml["master"] else []
        if ep.audio.length_hint and ep.audio.length_hint != got.bytes:
            notes.append(f"the feed said {ep.audio.length_hint} bytes, the server sent "
                         f"{got.bytes}: the new feed will say {got.bytes}")
    _write_checked(build, toml, kept, notes, header, with_audio)
    os.rename(build, final)
    return _row(ep, got, notes)


def _duration_note(mp3: Path, claimed_s: float | None) -> list[str]:
    """Apps show itunes:duration; ours is measured, so a wrong old one changes what they show."""
    from mutagen.mp3 import MP3

    measured = MP3(mp3).info.length
    if claimed_s is None or abs(measured - claimed_s) <= 1:
        return []
    return [(f"the old feed said {claimed_s:.0f} s, the audio lasts {measured:.0f} s: the new "
             "feed will say so")]


def _write_checked(build: Path, toml: dict, kept: list, notes: list[str], header: str,
                   with_audio: bool) -> None:
    """episode.toml, validated as `publish` will read it. A side file our checks refuse (a
    transcript with cues out of order) is dropped with a note rather than losing the episode."""
    while True:
        write_text_atomic(build / "episode.toml", toml_text(toml, header))
        try:
            load_episode(build, require_audio=with_audio)
            return
        except ConfigError as exc:
            bad = next((x for x in kept if x.key == exc.field
                        or (exc.where and Path(exc.where).name == x.name)), None)
            if bad is None:
                raise
            kept.remove(bad)
            del toml[bad.key]
            (build / bad.name).unlink(missing_ok=True)
            notes.append(f"{bad.key} not kept: {exc.message}")


def _row(ep: ImportedEpisode, got: Downloaded | None, notes: list[str]) -> dict:
    return {"folder": ep.folder, "guid": ep.guid, "title": ep.title,
            "audio": {"url": ep.audio.url, "bytes": got.bytes, "sha256": got.sha256}
            if got else None, "notes": notes}


def clear_work(work: Path) -> None:
    """The work folder once every episode is in place; kept while any still needs a re-run."""
    if work.exists() and not any(work.iterdir()):
        shutil.rmtree(work)
        parent = work.parent
        if parent.exists() and not any(parent.iterdir()):
            parent.rmdir()

