"""The publishing steps of `publish episode`: plan -> audio -> record, for one or many episodes.

Everything is prepared locally first (config, audio, tags, side files); only then does the
session write storage, in its one order (see session.py), so a re-run finishes the job.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from .audio import master
from .audio.id3 import ChapterMark, TagData, write_tags
from .audio.passthrough import publish_as_is
from .audio.timeline import Placement
from .checks.gather import refuse_on_errors
from .checks.renames import orphan_message, orphans, published_as
from .checks.rules import check_times
from .errors import PublishError
from .faults import crashpoint
from .feed.timing import EpisodeTimes
from .manifest import (
    FINGERPRINTED_ENGINES,
    FINGERPRINTED_SETTINGS,
    AudioObject,
    EpisodeRecord,
    Manifest,
    PublishedChapter,
    PublishedFile,
    PublishedPerson,
    Rendition,
    episode_guid,
)
from .project.config import AudioSettings, EpisodeConfig, episode_audio, episode_bumpers, public_url
from .publishing.renditions import episode_renditions
from .session import Session, Upload, episode_file, no_progress, with_feed_records
from .storage import IntegrityError, content_type_for, sha256_file
from .texts import chapters, notes, transcript

PERMILLE = 1000


def _as_fraction(update: Callable[[float], None]) -> Callable[[float], None]:
    """Adapt an increment-counting progress bar to a callback that reports 0..1 done."""
    done = 0

    def report(fraction: float) -> None:
        nonlocal done
        now = int(min(max(fraction, 0.0), 1.0) * PERMILLE)
        if now >= PERMILLE // 2 > done:
            crashpoint("mastering-half")
        if now > done:
            update(now - done)
            done = now
    return report


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fingerprint(obj: object) -> str:
    return sha256_bytes(json.dumps(obj, sort_keys=True, default=str).encode())


# --- plan ---------------------------------------------------------------------------------

AudioAction = Literal["unchanged", "retag", "encode"]


@dataclass(frozen=True)
class EpisodePlan:
    """What publishing one episode will do, decided before any audio is touched."""

    ep: EpisodeConfig
    guid: str
    existing: EpisodeRecord | None
    notes_html: str
    description: str
    source: Path
    settings: AudioSettings
    bumpers: list[tuple[float, Path]]
    inputs: dict  # what the audio is made from: recording, settings, clips, bumpers
    engine: str  # the engine whose audio is published: the one kept, or the current one
    action: AudioAction
    cover: Upload | None
    recorded: EpisodeTimes  # chapters, cues and soundbites on the recording's clock
    placement: Placement | None  # where the published MP3 holds the recording, if known
    remaster: bool = False

    @property
    def known(self) -> AudioObject | None:
        return self.existing.audio if self.existing else None

    @property
    def audio_fp(self) -> str:
        return _audio_fingerprint(self.inputs, self.engine)

    def encoding(self) -> EpisodePlan:
        """This plan, mastering the recording anew with the current engine."""
        return replace(self, action="encode", engine=master.ENGINE_VERSION)


def _settings_inputs(settings: AudioSettings) -> dict:
    """The audio settings the fingerprint holds: those it always held, and any other one
    set to something else than its default."""
    defaults = AudioSettings().model_dump()
    return {k: v for k, v in settings.model_dump().items()
            if k in FINGERPRINTED_SETTINGS or v != defaults[k]}


def _audio_fingerprint(inputs: dict, engine: str) -> str:
    return _fingerprint({**inputs, "engine": engine})


def _made_by(known: AudioObject, inputs: dict) -> str | None:
    """The engine that mastered the published audio from exactly these inputs; None when the
    inputs changed since (a record without an engine names it in its fingerprint)."""
    engines = [known.engine] if known.engine else FINGERPRINTED_ENGINES
    return next((e for e in engines if _audio_fingerprint(inputs, e) == known.audio_fingerprint),
                None)


def plan_episode(s: Session, ep: EpisodeConfig, manifest: Manifest,
                 remaster: bool = False) -> EpisodePlan:
    """Encode when the audio or its settings changed, when the published MP3 is missing or
    damaged (so a re-run is never a dead end), or when the producer asks (`remaster`); re-tag
    when only metadata did. A newer engine alone never re-encodes: published audio keeps its
    bytes and URL until its recording or settings change."""
    show_guid = manifest.feeds[s.feed.name].podcast_guid
    existing = published_as(ep, manifest, s.catalogue, s.feed.removed_guids)
    guid = existing.guid if existing else (ep.guid or episode_guid(show_guid, ep.slug))
    notes_html = notes.to_html(ep.notes_markdown())
    description = notes.to_description(notes_html)
    source = ep.file(ep.audio)
    settings = episode_audio(s.feed, ep)
    bumpers = episode_bumpers(s.feed, ep)
    inputs = _audio_inputs(ep, source, settings, bumpers)
    known = existing.audio if existing else None
    cover = (episode_file(ep.slug, "cover", ep.file(ep.artwork), s.media_cache())
             if ep.artwork else None)
    recorded = EpisodeTimes.of(ep, transcript.read(ep.file(ep.transcript))
                               if ep.transcript is not None else None)
    placement = _published_placement(existing, recorded, settings, bumpers) \
        if existing else None
    plan = EpisodePlan(ep=ep, guid=guid, existing=existing, notes_html=notes_html,
                       description=description, source=source, settings=settings,
                       bumpers=bumpers, inputs=inputs, engine=master.ENGINE_VERSION,
                       action="encode", cover=cover, recorded=recorded, placement=placement,
                       remaster=remaster)
    made_by = _made_by(known, inputs) if known is not None and not remaster else None
    if made_by is None or placement is None or not s.holds(known):
        return plan
    kept = replace(plan, engine=made_by)
    # Tags depend on the duration only through the last chapter's end, known from before.
    tags = _tag_data(s, ep, guid, description, known.duration_s,
                     recorded.on_episode(placement).chapters)
    same_tags = known.tags_fingerprint == _tags_fingerprint(tags, kept.audio_fp)
    same = same_tags and existing.slug == ep.slug
    return replace(kept, action="unchanged" if same else "retag")


def _published_placement(rec: EpisodeRecord, recorded: EpisodeTimes, settings: AudioSettings,
                         bumpers: list[tuple[float, Path]]) -> Placement | None:
    """Where the published MP3 holds the recording, as its mastering reported it, so a re-tag
    maps times as the encode did. Records from before that was reported: the identity when
    nothing moved the recording or nothing is timed against it; else None (unknown, and only
    mastering again can tell)."""
    if "timeline" in rec.loudness:
        return Placement.from_dict(rec.loudness["timeline"])
    moved = settings.intro is not None or bool(bumpers) or settings.trim_silence
    timed = recorded.chapters or recorded.cues or recorded.soundbites
    return None if moved and timed else Placement(settings.sample_rate)


def _audio_inputs(ep: EpisodeConfig, source: Path, settings: AudioSettings,
                 bumpers: list[tuple[float, Path]]) -> dict:
    """What the published audio is made from: a change means encoding (or copying) again."""
    if not ep.master:  # the file as it is: mastering settings do not touch it
        return {"source": sha256_file(source), "as_published": True}
    clips = [p for p in (settings.intro, settings.outro) if p is not None]
    return {"source": sha256_file(source), "audio": _settings_inputs(settings),
            "clips": [sha256_file(p) for p in clips],
            "bumpers": [(at, sha256_file(p)) for at, p in bumpers]}


# --- audio --------------------------------------------------------------------------------

@dataclass
class EpisodeAudio:
    """The MP3 as it will be published, with what mastering measured."""

    audio: AudioObject
    loudness: dict
    report: dict
    uploads: list[Upload]
    action: AudioAction  # what was done: a planned re-tag may have turned into an encode
    times: EpisodeTimes  # chapters, cues and soundbites on the MP3's clock


def make_audio(s: Session, plan: EpisodePlan, tmp: Path) -> EpisodeAudio:
    """Master and encode, or re-tag the published MP3: the MP3 ready to upload, tags included."""
    ep = plan.ep
    mp3 = tmp / f"{ep.slug}.mp3"
    uploads: list[Upload] = []
    if plan.action == "retag":
        try:
            s.storage.download(plan.known.key, mp3, sha256=plan.known.sha256)
        except IntegrityError as exc:  # the storage vouched for bytes it no longer has
            s.log(f"warning: {exc}: mastering the recording again")
            return make_audio(s, plan.encoding(), tmp)
        _strip_tags(mp3)
        loudness, report = plan.existing.loudness, plan.existing.report
        placement = plan.placement
    elif not ep.master:
        loudness = publish_as_is(s.exe, plan.source, mp3, ep.folder / "episode.toml")
        _strip_tags(mp3)
        report = {}
        placement = Placement.from_dict(loudness["timeline"])
    else:
        with s.progress("Mastering", PERMILLE) as update:
            mastered = master.master_to_mp3(s.exe, plan.source, mp3, plan.settings,
                                            progress=_as_fraction(update),
                                            bumpers=plan.bumpers)
        crashpoint("encoded")
        loudness = mastered.to_dict()
        for warning in mastered.warnings:
            s.log(f"warning: {plan.source}: {warning}")
        report_uploads = _loudness_report(s, ep, mastered, tmp)
        uploads += report_uploads.values()
        report = {k: up.stored() for k, up in report_uploads.items()}
        placement = mastered.timeline
    duration = _duration(mp3)
    times = plan.recorded.on_episode(placement)
    tags = _tag_data(s, ep, plan.guid, plan.description, duration, times.chapters)
    write_tags(mp3, tags)
    crashpoint("tagged")
    up = episode_file(ep.slug, ep.slug, mp3, s.media_cache())
    uploads.append(up)
    audio = AudioObject(**up.stored().model_dump(), duration_s=duration,
                        audio_fingerprint=plan.audio_fp,
                        tags_fingerprint=_tags_fingerprint(tags, plan.audio_fp),
                        engine=plan.engine)
    return EpisodeAudio(audio=audio, loudness=loudness, report=report, uploads=uploads,
                        action=plan.action, times=times)


def _loudness_report(s: Session, ep: EpisodeConfig, report: master.MasterReport,
                     tmp: Path) -> dict[str, Upload]:
    """The loudness report (JSON and a PNG plot), published beside the episode's audio."""
    from .audio.report import write_report

    json_path, png_path = tmp / "loudness.json", tmp / "loudness.png"
    write_report(report, json_path, png_path, target_lufs=s.feed.audio.target_lufs)
    stem = f"{ep.slug}-loudness"
    return {"json": episode_file(ep.slug, stem, json_path, s.media_cache()),
            "png": episode_file(ep.slug, stem, png_path, s.media_cache())}


def _tag_data(s: Session, ep: EpisodeConfig, guid: str, description: str,
              duration_s: float | None, published: list[PublishedChapter]) -> TagData:
    """What goes into the MP3's tags; `published` are the chapters at their times in it."""
    cover = ep.file(ep.artwork) if ep.artwork else s.feed.artwork_path()
    marks: tuple[ChapterMark, ...] = ()
    if published and duration_s:
        ends = [c.start_s for c in published[1:]] + [duration_s]
        marks = tuple(ChapterMark(c.start_s, end, c.title, c.url)
                      for c, end in zip(published, ends))
    return TagData(title=ep.title, artist=s.feed.author, album=s.feed.title, track=ep.number,
                   date=ep.published, description=description, feed_url=s.feed.feed_url,
                   guid=guid, category=" > ".join(s.feed.categories[0]),
                   cover=cover.read_bytes(), cover_mime=content_type_for(cover.name),
                   chapters=marks)


def _tags_fingerprint(tags: TagData, audio_fp: str) -> str:
    fields = {k: v for k, v in vars(tags).items() if k != "cover"}
    return _fingerprint({"tags": fields, "cover": sha256_bytes(tags.cover or b""),
                         "audio": audio_fp})


def _strip_tags(path: Path) -> None:
    from mutagen.id3 import ID3, ID3NoHeaderError

    try:
        ID3(path).delete(path)
    except ID3NoHeaderError:
        pass


def _duration(path: Path) -> float:
    from mutagen.mp3 import MP3, HeaderNotFoundError

    try:
        return round(MP3(path).info.length, 3)
    except HeaderNotFoundError:
        raise PublishError("encoded MP3 has no audio frames", where=path) from None


# --- record -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SideFiles:
    """The JSON chapters file and the transcript in every format, ready to upload."""

    chapters: Upload | None
    transcripts: list[tuple[Upload, str]]

    @property
    def uploads(self) -> list[Upload]:
        return ([self.chapters] if self.chapters else []) + [up for up, _ in self.transcripts]


def side_files(s: Session, ep: EpisodeConfig, times: EpisodeTimes, tmp: Path) -> SideFiles:
    """The chapters and transcript files, at their times in the MP3 (`times`: the same lists
    the ID3 chapters and the manifest's psc chapters and soundbites are made from)."""
    chapters_up = None
    if times.chapters:
        path = tmp / f"{ep.slug}.chapters.json"
        path.write_text(chapters.to_json(times.chapters), encoding="utf-8")
        chapters_up = episode_file(ep.slug, ep.slug, path, s.media_cache(), ".chapters.json")
    transcripts = []
    if times.cues is not None:
        for suffix, (mime, _rel) in transcript.FORMATS.items():
            path = tmp / f"{ep.slug}.transcript{suffix}"
            path.write_text(transcript.WRITERS[suffix](times.cues), encoding="utf-8")
            transcripts.append((episode_file(ep.slug, ep.slug, path, s.media_cache()), mime))
    return SideFiles(chapters_up, transcripts)


def episode_record(s: Session, plan: EpisodePlan, made: EpisodeAudio, side: SideFiles,
                   renditions: list[Rendition]) -> EpisodeRecord:
    """The manifest's record of the episode; an unchanged episode keeps its `updated` time,
    so the feed's bytes stay put."""
    ep = plan.ep
    record = EpisodeRecord(
        slug=ep.slug, guid=plan.guid, title=ep.title, number=ep.number, season=ep.season,
        published=ep.published, updated=s.now,
        explicit=s.feed.explicit if ep.explicit is None else ep.explicit, type=ep.type,
        description=plan.description, notes_html=plan.notes_html, audio=made.audio,
        artwork=plan.cover.stored() if plan.cover else None,
        chapters=made.times.chapters,
        persons=[PublishedPerson(**p.model_dump()) for p in ep.persons],
        chapters_file=side.chapters.stored() if side.chapters else None,
        transcripts=[PublishedFile(**up.stored().model_dump(), type=mime)
                     for up, mime in side.transcripts],
        soundbites=made.times.soundbites, renditions=renditions,
        block=ep.block, loudness=made.loudness, report=made.report)
    existing = plan.existing
    if existing is not None and record.model_copy(update={"updated": existing.updated}) \
            == existing:
        return existing
    return record


# --- the command --------------------------------------------------------------------------

def publish_episode(s: Session, ep: EpisodeConfig, remaster: bool = False) -> dict:
    """Master, tag and upload one episode; then the manifest; then every feed of the storage.

    `remaster` masters the recording anew with the current engine even when nothing changed."""
    manifest, uploads = with_feed_records(s, s.read_manifest())
    crashpoint("manifest-read")
    with tempfile.TemporaryDirectory(prefix="publish-") as tmp:
        done = _prepare(s, ep, manifest, Path(tmp), remaster)
        warn_orphans(s, manifest)  # after the plan: a refusal is one line, with no warning
        if done.record is None:  # a dry run of an episode never published: nothing to show
            return {**done.result, "uploaded_bytes": 0, "feeds": [], "site": None,
                    "actions": s.actions}
        feeds = s.commit(lambda fresh: done.apply(with_feed_records(s, fresh)[0]),
                         uploads + done.uploads)
    return {**done.result, "feeds": feeds, "site": s.site, "uploaded_bytes": s.uploaded_bytes,
            "actions": s.actions}


def publish_episodes(s: Session, episodes: list[EpisodeConfig], jobs: int = 1,
                     remaster: bool = False) -> dict:
    """Several episodes, `jobs` mastered at once, then one commit listing them all in the
    given order: the feed changes once, and an episode that fails stops every one of them
    before anything is uploaded."""
    manifest, uploads = with_feed_records(s, s.read_manifest())
    crashpoint("manifest-read")
    # Progress bars of several threads would write over each other: only one at a time.
    worker = s if jobs == 1 else replace(s, progress=no_progress)
    with tempfile.TemporaryDirectory(prefix="publish-") as tmp:
        def one(numbered: tuple[int, EpisodeConfig]) -> Prepared:
            folder = Path(tmp) / str(numbered[0])
            folder.mkdir()
            return _prepare(worker, numbered[1], manifest, folder, remaster)

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            prepared = list(pool.map(one, enumerate(episodes)))
        warn_orphans(s, manifest)
        ready = [p for p in prepared if p.record is not None]

        def update(fresh: Manifest) -> Manifest:
            fresh = with_feed_records(s, fresh)[0]
            for p in ready:
                fresh = p.apply(fresh)
            return fresh

        feeds = s.commit(update, uploads + [u for p in ready for u in p.uploads]) \
            if ready else []
    return {"episodes": [p.result for p in prepared], "feeds": feeds,
            "site": s.site if ready else None, "uploaded_bytes": s.uploaded_bytes,
            "dry_run": s.dry_run, "actions": s.actions}


def warn_orphans(s: Session, manifest: Manifest) -> None:
    """Name every published episode whose folder is gone, on every run, until the producer
    says why: a folder renamed and renumbered at once is otherwise published as a new episode
    beside the old one without a word."""
    for rec in orphans(manifest, s.catalogue, s.feed.removed_guids):
        s.log(f"warning: {orphan_message(rec, s.feed.path)}")


@dataclass(frozen=True)
class Prepared:
    """One episode ready to commit: its files to upload and its record for the manifest."""

    result: dict
    record: EpisodeRecord | None
    uploads: list[Upload]
    renamed: str | None  # the slug it was published under, when its folder was renamed

    def apply(self, manifest: Manifest) -> Manifest:
        return manifest.with_episode(self.record, replacing=self.renamed)


def _prepare(s: Session, ep: EpisodeConfig, manifest: Manifest, tmp: Path,
             remaster: bool) -> Prepared:
    """Everything before the commit: plan, audio (mastered, copied or re-tagged), side files."""
    plan = plan_episode(s, ep, manifest, remaster)
    uploads = [plan.cover] if plan.cover else []
    result = {"episode": ep.slug, "guid": plan.guid, "dry_run": s.dry_run}
    if plan.action == "unchanged":
        made = EpisodeAudio(plan.known, plan.existing.loudness, plan.existing.report, [],
                            plan.action, plan.recorded.on_episode(plan.placement))
    elif s.dry_run:
        s.actions.append(_audio_action(plan))
        if plan.placement is None:  # never published, or not where its recording lies
            return Prepared({**result, "encoded": plan.action == "encode" and ep.master,
                             "copied": plan.action == "encode" and not ep.master,
                             "retagged": False, "audio": None, "loudness": None},
                            None, [], None)
        report = plan.existing.report if plan.action == "retag" else {}
        made = EpisodeAudio(plan.known, plan.existing.loudness, report, [], plan.action,
                            plan.recorded.on_episode(plan.placement))
    else:
        made = make_audio(s, plan, tmp)
    # The times as published, checked against the MP3 before anything is uploaded.
    refuse_on_errors(check_times(ep, made.times, made.audio.duration_s, in_mp3=True),
                     s.log, ep.folder / "episode.toml")
    side = side_files(s, ep, made.times, tmp)
    renditions, rendition_uploads = episode_renditions(
        s, ep.slug, made.audio, tmp / f"{ep.slug}.mp3",
        lambda: _tag_data(s, ep, plan.guid, plan.description, made.audio.duration_s,
                          made.times.chapters),
        plan.existing.renditions if plan.existing else [], tmp)
    # Media first: the renditions are uploaded with the MP3, before the manifest lists them.
    uploads += side.uploads + made.uploads + rendition_uploads
    record = episode_record(s, plan, made, side, renditions)
    renamed = plan.existing.slug if plan.existing and plan.existing.slug != ep.slug else None
    audio = made.audio
    # An MP3 published as it is was copied, not encoded, and no mastering engine made it.
    as_is = record.as_published
    return Prepared(
        {**result, "encoded": made.action == "encode" and not as_is,
         "copied": made.action == "encode" and as_is, "retagged": made.action == "retag",
         "audio": {"url": public_url(s.feed.base_url, audio.key),
                   "location": s.storage.location(audio.key), "bytes": audio.bytes,
                   "duration_s": audio.duration_s, "sha256": audio.sha256,
                   "engine": None if as_is else audio.engine, "as_published": as_is,
                   "older_engine": not as_is and audio.older_engine(master.ENGINE_VERSION)},
         "renditions": [{"title": r.title, "type": r.type, "bytes": r.bytes,
                         "url": public_url(s.feed.base_url, r.key)} for r in renditions],
         "loudness": _loudness_summary(made.loudness)}, record, uploads, renamed)


def _audio_action(plan: EpisodePlan) -> str:
    """What a dry run says it would do with the audio."""
    if plan.action == "retag":
        return "re-tag the published MP3"
    if not plan.ep.master:
        return f"publish {plan.source} as it is (re-tagged)"
    if plan.remaster and plan.known is not None:
        made_by = (f"engine {plan.known.engine}" if plan.known.engine
                   else f"an unrecorded engine, {FINGERPRINTED_ENGINES[-1]} or older")
        return (f"re-master {plan.source} with engine {master.ENGINE_VERSION} (the published "
                f"MP3 was mastered by {made_by})")
    return f"master and encode {plan.source}"


def _loudness_summary(loudness: dict) -> dict:
    return {"input_lufs": loudness["input"]["integrated_lufs"],
            "output_lufs": loudness["output"]["integrated_lufs"],
            "true_peak_dbtp": loudness["output"]["true_peak_dbtp"],
            "leveler": loudness.get("leveler")}
