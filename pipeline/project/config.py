"""Feed and episode configuration, declared once as pydantic models and validated on load."""

from __future__ import annotations

import re
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ..errors import ConfigError
from ..texts import chapters, transcript
from ..texts.notes import XML_UNSAFE
from ..texts.timecode import parse_timestamp


class Strict(BaseModel):
    """Unknown keys are errors: a typo must not silently fall back to a default."""

    # nan and inf are no loudness, duration or time: refused like any other bad value.
    # defer_build: a model's validator is built when first used, so `publish feed` does not
    # build the episode models at every start.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False,
                              defer_build=True)

    @field_validator("*")
    @classmethod
    def _feed_safe_text(cls, v: object) -> object:
        _check_text(v)
        return v




def _one_line(v: str) -> str:
    """Titles and names are one line: runs of white space (newlines too) become one space."""
    v = " ".join(v.split())
    if not v:
        raise ValueError("must not be empty")
    return v


OneLine = Annotated[str, AfterValidator(_one_line)]


def _check_text(v: object) -> None:
    if isinstance(v, str):
        m = XML_UNSAFE.search(v)
        if m:
            raise ValueError(f"contains the control character U+{ord(m.group()):04X}, "
                             "which a feed cannot carry")
    elif isinstance(v, (list, tuple)):
        for item in v:
            _check_text(item)


class Owner(Strict):
    name: OneLine = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AudioSettings(Strict):
    """What every published MP3 of the feed is mastered and encoded to."""

    bitrate: int = Field(128, ge=32, le=320, description="MP3 bitrate in kbit/s")
    channels: Literal[1, 2] = 2
    sample_rate: Literal[22050, 32000, 44100, 48000] = 44100
    target_lufs: float = Field(-16.0, ge=-40, le=-5, description="integrated loudness target")
    true_peak_dbtp: float = Field(-1.0, ge=-9, le=0, description="true-peak ceiling")
    intro: Path | None = Field(None, description="clip played before every episode")
    outro: Path | None = Field(None, description="clip played after every episode")
    crossfade_ms: int = Field(0, ge=0, le=10000,
                              description="intro/outro overlap the episode, fading under it")
    fade_ms: int = Field(0, ge=0, le=10000,
                         description="fade-in of the intro's start and fade-out of the outro's end")
    trim_silence: bool = Field(False, description="cut leading and trailing silence")
    bumper: Path | None = Field(None, description="clip an episode's bumpers play by default")
    level: bool = Field(True, description="level speech so every speaker is equally loud")
    level_max_boost_db: float = Field(12.0, ge=0, le=24,
                                      description="the most the leveler raises a stretch")
    level_max_cut_db: float = Field(12.0, ge=0, le=24,
                                    description="the most the leveler lowers a stretch")
    highpass_hz: float = Field(80.0, ge=0, le=300,
                               description="rumble high-pass before metering; 0 turns it off")
    denoise: bool = Field(False, description="RNNoise noise reduction (slow: see the README)")


# kbit/s a producer may ask of each codec: below, speech breaks up; above, no one can hear a
# difference and the rendition stops being the small one (Opus is transparent near 128 stereo).
RENDITION_BITRATES = {"opus": (12, 256), "aac": (32, 320)}


class RenditionSettings(Strict):
    """One more encoding of every episode, listed as podcast:alternateEnclosure."""

    format: Literal["opus", "aac"] = Field(description="opus (Ogg Opus) or aac (AAC in M4A)")
    bitrate: int = Field(description="kbit/s: opus 12-256, aac 32-320")
    channels: Literal[1, 2] | None = Field(None, description="default: audio.channels")
    title: OneLine | None = Field(None, max_length=64,
                                  description='what apps show, e.g. "Opus 48 kbit/s (small)"')

    @model_validator(mode="after")
    def _sensible_bitrate(self) -> RenditionSettings:
        low, high = RENDITION_BITRATES[self.format]
        if not low <= self.bitrate <= high:
            raise ValueError(f"bitrate {self.bitrate} kbit/s is out of range for {self.format} "
                             f"({low}-{high})")
        return self


class CacheSettings(Strict):
    """Cache-Control max-age per kind of object: media never changes under its name."""

    media_s: int = Field(31536000, ge=0)
    feed_s: int = Field(300, ge=0)


Role = Literal["host", "guest", "co-host", "producer", "editor"]
EpisodeType = Literal["full", "trailer", "bonus"]  # itunes:episodeType


class Person(Strict):
    name: OneLine = Field(min_length=1)
    role: Role = "guest"
    href: str | None = Field(None, pattern=r"^https?://")
    img: str | None = Field(None, pattern=r"^https?://")


class ShowPerson(Person):
    """A person of the whole show (channel level): a host unless the role says otherwise."""

    role: Role = "host"


class Funding(Strict):
    """`podcast:funding`: where listeners can support the show."""

    url: str = Field(pattern=r"^https://")
    text: str = Field(min_length=1, max_length=128)


class Txt(Strict):
    """`podcast:txt`: free text for machines, e.g. a platform's ownership token."""

    text: str = Field(min_length=1, max_length=4000)
    purpose: str | None = Field(None, max_length=128)


class FeedFilter(Strict):
    """Which episodes of the catalogue a secondary feed lists (all conditions must hold)."""

    types: list[EpisodeType] | None = None
    seasons: list[int] | None = None

    def admits(self, episode_type: str, season: int | None) -> bool:
        return ((self.types is None or episode_type in self.types)
                and (self.seasons is None or season in self.seasons))


class S3Settings(Strict):
    """Only what the AWS chain cannot say: credentials and region come from env and profiles."""

    endpoint_url: str | None = Field(
        None, pattern=r"^https?://",
        description="S3-compatible endpoint (R2, MinIO); else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL")
    region: str | None = Field(None, min_length=1, description="else AWS_REGION / the profile's")
    addressing: Literal["auto", "path", "virtual"] = Field(
        "auto", description="path-style for MinIO and most self-hosted servers")
    public_read_acl: bool = Field(False, description="send ACL public-read with every object")
    max_attempts: int | None = Field(
        None, ge=1, le=20,
        description="tries per request, retries included; else AWS_MAX_ATTEMPTS / profile, else 6")


class SubscribeLink(Strict):
    """A directory that lists the show (Apple Podcasts, Spotify, ...), shown beside the RSS URL."""

    name: OneLine = Field(min_length=1, max_length=64)
    url: str = Field(pattern=r"^https://")


class SiteSettings(Strict):
    """The show's website, rendered with every feed rebuild into the same storage."""

    enabled: bool = Field(True, description="render the website with every feed rebuild")
    url: str | None = Field(None, pattern=r"^https?://",
                            description="public URL of the site; default: base_url")
    episodes_per_page: int = Field(20, ge=1, le=1000)
    # The budget: an episode page's HTML, CSS and JS before its artwork and audio.
    page_budget_kb: int = Field(60, ge=10, le=10_000, description=(
        "an episode page heavier than this with its transcript gets a transcript page"))
    subscribe: list[SubscribeLink] = Field([], description="directories that list the show")


UUID_PATTERN = r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"


class PingSettings(Strict):
    """Who is told that the feed changed, so apps refresh now instead of at their next poll."""

    websub_hubs: list[str] = Field(
        [], description="WebSub hubs: each is declared in the feed and sent a publish request")
    podping_url: str | None = Field(
        None, pattern=r"^https?://",
        description="the Podping endpoint, e.g. https://podping.cloud/; token from $PODPING_TOKEN")
    attempts: int = Field(3, ge=1, le=10, description="tries per service, retries included")
    timeout_s: float = Field(5.0, gt=0, le=60, description="per try, to connect and to answer")
    backoff_s: float = Field(1.0, ge=0, le=30, description="retries wait 0, then 2x, 4x... this")

    @field_validator("websub_hubs")
    @classmethod
    def _hubs(cls, v: list[str]) -> list[str]:
        for hub in v:
            if not re.match(r"^https?://\S+$", hub):
                raise ValueError(f"{hub!r} is not an http(s) URL")
        return v


class UpdateFrequency(Strict):
    """`podcast:updateFrequency`: when new episodes come, as an iCalendar RRULE."""

    text: OneLine = Field(min_length=1, max_length=128, description="e.g. Every other Tuesday")
    rrule: str | None = Field(None, description="e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=TU")
    complete: bool = False
    dtstart: datetime | None = None

    @field_validator("rrule")
    @classmethod
    def _rrule(cls, v: str | None) -> str | None:
        # Minimal RFC 5545 check: NAME=VALUE parts, FREQ among them; apps parse the rest.
        if v is None:
            return v
        parts = v.removeprefix("RRULE:").split(";")
        if not all(re.fullmatch(r"[A-Z]+=[A-Za-z0-9,+\-:]+", p) for p in parts):
            raise ValueError("an RRULE is NAME=VALUE parts joined by ';', e.g. FREQ=WEEKLY")
        if not any(p.startswith("FREQ=") for p in parts):
            raise ValueError("an RRULE needs FREQ=, e.g. FREQ=WEEKLY")
        return ";".join(parts)

    @field_validator("dtstart")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and (v.tzinfo is None or v.utcoffset() is None):
            raise ValueError("needs a time zone, e.g. 2026-11-20T09:00:00-05:00")
        return v


class PodrollItem(Strict):
    """A recommended show in `podcast:podroll`, by its podcast:guid and/or its feed URL."""

    feed_guid: str | None = Field(None, pattern=UUID_PATTERN)
    feed_url: str | None = Field(None, pattern=r"^https?://\S+$")
    title: OneLine | None = Field(None, description="for your own reference; not in the feed")

    @model_validator(mode="after")
    def _one(self) -> PodrollItem:
        if self.feed_guid is None and self.feed_url is None:
            raise ValueError("give feed_guid or feed_url (or both)")
        return self


def _analytics_prefix(v: str | None) -> str | None:
    """https, ending in '/', nothing after the path (the media URL is appended to it)."""
    if v is None:
        return v
    bare = v.replace(GUID_PLACEHOLDER, "")
    if not re.fullmatch(r"https://[^\s?#{}]+/", bare):
        raise ValueError("must be an https URL ending with '/', e.g. https://op3.dev/e/; "
                         f"the only placeholder is {GUID_PLACEHOLDER}")
    return v


GUID_PLACEHOLDER = "{podcast_guid}"


class FeedConfig(Strict):
    """One feed: a TOML file in feeds/, its name is the file's stem."""

    title: OneLine = Field(min_length=1)
    description: str = Field(min_length=1, max_length=4000)
    author: str = Field(min_length=1)
    owner: Owner
    language: str = Field(pattern=r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
    categories: list[list[str]] = Field(min_length=1)
    explicit: bool = False
    artwork: Path
    link: str = Field(pattern=r"^https?://")
    base_url: str = Field(pattern=r"^https?://", description="public URL of the storage root")
    storage: str = Field("public", description="folder path or s3://bucket/prefix")
    type: Literal["episodic", "serial"] = "episodic"
    copyright: str | None = None
    locked: bool = True
    podcast_guid: str | None = Field(
        None, pattern=UUID_PATTERN, description="a show moved from another host keeps the podcast:guid it had there")
    new_feed_url: str | None = Field(None, pattern=r"^https://",
                                     description="the show moved: where apps should go now")
    previous_urls: list[Annotated[str, Field(pattern=r"^https?://\S+$")]] = Field(
        [], description="URLs this feed was published at before it moved here")
    analytics_prefix: Annotated[str | None, AfterValidator(_analytics_prefix)] = Field(
        None, description="put before every audio URL, e.g. https://op3.dev/e/")
    update_frequency: UpdateFrequency | None = None
    podroll: list[PodrollItem] = []
    ping: PingSettings = PingSettings()
    complete: bool = False
    block: bool = False
    funding: list[Funding] = []
    license: str | None = Field(None, min_length=1, description="e.g. cc-by-4.0")
    license_url: str | None = Field(None, pattern=r"^https://")
    persons: list[ShowPerson] = []
    txt: list[Txt] = []
    filter: FeedFilter | None = None
    max_items: int | None = Field(
        None, strict=True, ge=1, description="the feed lists only the newest N episodes")
    removed_guids: list[str] = Field(
        [], description="GUIDs taken out of this feed on purpose: left out of it (and of the "
                        "website), and no longer asked for by publish validate")
    ffmpeg: str | None = None
    audio: AudioSettings = AudioSettings()
    renditions: list[RenditionSettings] = Field(
        [], description="extra encodings of every episode, besides the MP3")
    cache: CacheSettings = CacheSettings()
    s3: S3Settings = S3Settings()
    site: SiteSettings = SiteSettings()

    name: str = Field("", exclude=True)
    path: Path = Field(Path("."), exclude=True)

    @field_validator("categories")
    @classmethod
    def _categories(cls, v: list[list[str]]) -> list[list[str]]:
        for cat in v:
            if not 1 <= len(cat) <= 2 or not all(c.strip() for c in cat):
                raise ValueError("each category is [\"Category\"] or [\"Category\", \"Subcategory\"]")
        return v

    @field_validator("renditions")
    @classmethod
    def _distinct_renditions(cls, v: list[RenditionSettings]) -> list[RenditionSettings]:
        seen = set()
        for r in v:
            if (r.format, r.bitrate, r.channels) in seen:
                raise ValueError(f"{r.format} at {r.bitrate} kbit/s is listed twice")
            seen.add((r.format, r.bitrate, r.channels))
        return v

    @property
    def feed_key(self) -> str:
        return f"{self.name}.xml"

    @property
    def feed_url(self) -> str:
        return public_url(self.base_url, self.feed_key)

    def artwork_path(self) -> Path:
        return (self.path.parent / self.artwork).resolve()

    def admits(self, episode_type: str, season: int | None) -> bool:
        """Whether this feed's `[filter]` (if any) lets an episode of this type and season in."""
        return self.filter is None or self.filter.admits(episode_type, season)


def episode_audio(feed: FeedConfig, episode: EpisodeConfig) -> AudioSettings:
    """The feed's audio settings with the episode's intro/outro choice, paths made absolute."""
    clips = {}
    for key in ("intro", "outro"):
        own, feeds = getattr(episode, key), getattr(feed.audio, key)
        if own is False:
            clips[key] = None
        elif own is not None:
            clips[key] = episode.file(own)
        elif feeds is not None:
            clips[key] = (feed.path.parent / feeds).resolve()
    return feed.audio.model_copy(update=clips)


def episode_bumpers(feed: FeedConfig, episode: EpisodeConfig) -> list[tuple[float, Path]]:
    """(seconds into the recording, clip path) for each bumper, in order."""
    out = []
    for i, b in enumerate(episode.bumpers):
        if b.clip is not None:
            clip = episode.file(b.clip)
        elif feed.audio.bumper is not None:
            clip = (feed.path.parent / feed.audio.bumper).resolve()
        else:
            raise ConfigError("no clip: give clip here or audio.bumper in the feed",
                              where=episode.folder / "episode.toml", field=f"bumpers.{i}")
        if not clip.is_file():
            raise ConfigError(f"file not found: {clip}", where=episode.folder / "episode.toml",
                              field=f"bumpers.{i}.clip")
        out.append((b.start_s, clip))
    return sorted(out, key=lambda b: b[0])


def public_url(base_url: str, key: str) -> str:
    return f"{base_url.rstrip('/')}/{key}"


class Timed(Strict):
    """Something that starts at a moment of the episode, written as people write times."""

    start: str | float = Field(description="seconds, or HH:MM:SS(.mmm) / MM:SS")

    @field_validator("start")
    @classmethod
    def _start(cls, v: str | float) -> str | float:
        parse_timestamp(v)
        return v

    @property
    def start_s(self) -> float:
        return parse_timestamp(self.start)


class Bumper(Timed):
    """A clip played inside the episode (a sponsor or a station ident), the recording paused
    at `start` (a moment of the recording)."""

    clip: Path | None = Field(None, description="the clip; default: the feed's audio.bumper")


class Chapter(Timed):
    title: OneLine = Field(min_length=1)
    url: str | None = Field(None, pattern=r"^https?://")
    image: str | None = None


class Soundbite(Timed):
    """`podcast:soundbite`: a moment apps may play as a preview."""

    duration: float = Field(gt=0, le=600, description="seconds")
    title: OneLine | None = None


class EpisodeConfig(Strict):
    """One episode: episodes/<number>-<slug>/episode.toml."""

    title: OneLine = Field(min_length=1, max_length=500)
    number: int = Field(ge=1)
    season: int | None = Field(None, ge=0)
    published: datetime
    audio: Path
    notes: str | None = Field(None, description="show notes in Markdown (inline)")
    notes_file: Path | None = Field(None, description="show notes in a Markdown file")
    explicit: bool | None = None
    type: EpisodeType = "full"
    artwork: Path | None = None
    chapters: list[Chapter] = []
    chapters_file: Path | None = Field(None, description="Podcasting 2.0 JSON or text chapters")
    transcript: Path | None = Field(None, description="an SRT or WebVTT file")
    soundbites: list[Soundbite] = []
    block: bool = False
    persons: list[Person] = []
    guid: str | None = Field(None, min_length=1,
                             description="only for episodes migrated from another host")
    renamed_from: str | None = Field(
        None, min_length=1, description="the slug this episode was published under before its "
                                        "folder was renamed: it keeps that GUID (its own "
                                        "slug: confirms a renumbering)")
    master: bool = Field(True, description="false: publish the MP3 as it is, re-tagged only")
    bumpers: list[Bumper] = []
    intro: Path | Literal[False] | None = Field(
        None, description="this episode's intro instead of the feed's; false for none")
    outro: Path | Literal[False] | None = Field(
        None, description="this episode's outro instead of the feed's; false for none")

    slug: str = Field("", exclude=True)
    folder: Path = Field(Path("."), exclude=True)

    @field_validator("published")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None or v.utcoffset() is None:
            raise ValueError("needs a time zone, e.g. 2026-11-20T09:00:00-05:00")
        return v

    @model_validator(mode="after")
    def _one_notes(self) -> EpisodeConfig:
        if self.notes is not None and self.notes_file is not None:
            raise ValueError("give either notes or notes_file, not both")
        if self.chapters and self.chapters_file is not None:
            raise ValueError("give either chapters or chapters_file, not both")
        chapters.check_starts([c.start_s for c in self.chapters])
        if not self.master and (self.bumpers or self.intro or self.outro):
            raise ValueError("master = false publishes the audio as it is: it cannot have "
                             "bumpers, an intro or an outro")
        return self

    def file(self, rel: Path) -> Path:
        return (self.folder / rel).resolve()

    def notes_markdown(self) -> str:
        if self.notes_file is not None:
            return self.file(self.notes_file).read_text(encoding="utf-8")
        return self.notes or ""


def _read_toml(path: Path) -> dict:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("file not found", where=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", where=path) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", where=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", where=path) from None


def _first_error(path: Path, exc: ValidationError) -> ConfigError:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or None
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required field is missing"
    msg = msg.removeprefix("Value error, ")
    return ConfigError(msg, where=path, field=field)


def _validate(model: type[BaseModel], source: Path, data: dict, extra: dict) -> BaseModel:
    try:
        return model.model_validate({**data, **extra})
    except ValidationError as exc:
        raise _first_error(source, exc) from None


def load_feed(path: Path) -> FeedConfig:
    path = Path(path)
    data = _read_toml(path)
    for reserved in ("name", "path"):
        if reserved in data:
            raise ConfigError("unknown key", where=path, field=reserved)
    feed = _validate(FeedConfig, path, data, {"name": path.stem, "path": path.resolve()})
    art = feed.artwork_path()
    if not art.is_file():
        raise ConfigError(f"file not found: {art}", where=path, field="artwork")
    return feed


def load_episode(folder: Path, require_audio: bool = True) -> EpisodeConfig:
    """The folder's episode, validated; `require_audio=False` accepts a folder whose recording
    is still to come (an import run with --no-audio)."""
    folder = Path(folder)
    path = folder / "episode.toml"
    data = _read_toml(path)
    for reserved in ("slug", "folder"):
        if reserved in data:
            raise ConfigError("unknown key", where=path, field=reserved)
    slug = slug_of(folder)
    if not SLUG.fullmatch(slug):
        raise ConfigError("folder name must be <number>-<slug>, the slug made of letters, "
                          "digits, '-', '_' and '.' (it names files and URLs)", where=folder)
    ep = _validate(EpisodeConfig, path, data,
                   {"slug": slug, "folder": folder.resolve()})
    for field in ("audio", "notes_file", "artwork", "chapters_file", "transcript"):
        rel = getattr(ep, field)
        if field == "audio" and not require_audio:
            continue
        if rel is not None and not ep.file(rel).is_file():
            raise ConfigError(f"file not found: {ep.file(rel)}", where=path, field=field)
    if ep.transcript is not None:
        try:
            transcript.read(ep.file(ep.transcript))
        except transcript.TranscriptError as exc:
            raise ConfigError(str(exc), where=ep.file(ep.transcript), field="transcript") from None
    if ep.chapters_file is not None:
        ep = ep.model_copy(update={"chapters": _chapters_from_file(ep, path)})
    return ep


def _chapters_from_file(ep: EpisodeConfig, toml: Path) -> list[Chapter]:
    """The file's chapters, validated exactly like [[chapters]] tables in episode.toml."""
    source = ep.file(ep.chapters_file)
    try:
        parsed = [Chapter.model_validate(c) for c in chapters.read(source)]
        chapters.check_starts([c.start_s for c in parsed])
    except ValidationError as exc:
        raise _first_error(source, exc) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(str(exc), where=source, field="chapters_file") from None
    return parsed


SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*")


def slug_of(folder: Path) -> str:
    """The slug of episodes/012-my-title is my-title: the number prefix is for sorting only."""
    name = folder.resolve().name
    head, sep, rest = name.partition("-")
    return rest if sep and head.isdigit() and rest else name
