"""The published state, stored beside the media: enough to rebuild every feed without audio."""

from __future__ import annotations

import uuid
from datetime import datetime

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import PublishError
from .runtime.gcpause import collector_paused

MANIFEST_KEY = "manifest.json"
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
# Records written before AudioObject.engine existed name their engine only inside the audio
# fingerprint, as one of these.
FINGERPRINTED_ENGINES = ("1", "2", "3")
# The audio settings a fingerprint holds even at their defaults: the ones it always held.
# Settings added since count only when set otherwise, so adding one (with a default that
# changes the sound, like the leveler's) never re-masters a published episode by itself.
FINGERPRINTED_SETTINGS = frozenset({
    "bitrate", "channels", "sample_rate", "target_lufs", "true_peak_dbtp", "intro", "outro",
    "crossfade_ms", "fade_ms", "trim_silence", "bumper"})


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoredObject(Record):
    key: str
    bytes: int
    sha256: str


class AudioObject(StoredObject):
    duration_s: float
    audio_fingerprint: str
    tags_fingerprint: str
    # The mastering engine (master.ENGINE_VERSION) that made this audio; None in records
    # written before the manifest kept it (engine 3 or older).
    engine: str | None = None

    def older_engine(self, current: str) -> bool:
        """Whether an engine before `current` mastered this audio: a re-run keeps it anyway,
        only `--remaster` brings it to the current engine."""
        return self.engine is None or int(self.engine) < int(current)


class PublishedChapter(Record):
    start_s: float
    title: str
    url: str | None = None
    image: str | None = None


class PublishedPerson(Record):
    name: str
    role: str
    href: str | None = None
    img: str | None = None


class PublishedFile(StoredObject):
    """A file published beside the audio (a transcript, say) with the MIME type feeds name."""

    type: str


class Rendition(PublishedFile):
    """Another encoding of the same episode, for `podcast:alternateEnclosure`."""

    title: str | None = None
    bitrate: int | None = None  # bit/s, as podcast:alternateEnclosure says it
    codecs: str | None = None
    # The MP3 and the settings it was encoded from: while both stay, a re-run keeps it.
    made_from: str | None = None


class PublishedSoundbite(Record):
    start_s: float
    duration_s: float
    title: str | None = None


class EpisodeRecord(Record):
    """One episode as published; the feed never needs the episode folder again."""

    slug: str
    guid: str
    title: str
    number: int
    season: int | None = None
    published: datetime
    updated: datetime
    explicit: bool
    type: str
    description: str
    notes_html: str
    audio: AudioObject
    artwork: StoredObject | None = None
    chapters: list[PublishedChapter] = []
    persons: list[PublishedPerson] = []
    chapters_file: StoredObject | None = None
    transcripts: list[PublishedFile] = []
    soundbites: list[PublishedSoundbite] = []
    renditions: list[Rendition] = []
    block: bool = False
    loudness: dict = {}
    report: dict[str, StoredObject] = {}

    @property
    def as_published(self) -> bool:
        """Whether the MP3 is the producer's file as it was (`master = false`): no engine
        mastered it, so none can be older."""
        return bool(self.loudness.get("as_published"))


class FeedRecord(Record):
    podcast_guid: str
    artwork: StoredObject | None = None


class ListedItem(Record):
    """An item a feed has listed, kept after it leaves: apps know an episode by its GUID (and
    some by its enclosure URL), so the history tells a removal or a new GUID from a mistake."""

    slug: str
    title: str
    first_listed: datetime
    enclosures: list[str] = Field(min_length=1)  # every URL it had here, oldest first


class Manifest(Record):
    version: int = 1
    feeds: dict[str, FeedRecord] = {}
    episodes: dict[str, EpisodeRecord] = {}
    # Feed name -> GUID -> the item as last listed. Manifests from before it have none; the
    # next commit that writes the feed starts it from what the feed lists then.
    history: dict[str, dict[str, ListedItem]] = {}

    def to_bytes(self) -> bytes:
        """Sorted keys, two-space indent, UTF-8: the bytes json.dumps(indent=2, sort_keys=True,
        ensure_ascii=False) gives, so manifests written before compare equal."""
        with collector_paused():
            return orjson.dumps(self.model_dump(mode="json"),
                                option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"

    def with_episode(self, record: EpisodeRecord, replacing: str | None = None) -> Manifest:
        """The manifest with this record; `replacing` drops the record of a former slug."""
        episodes = {slug: r for slug, r in self.episodes.items() if slug != replacing}
        return self.model_copy(update={"episodes": {**episodes, record.slug: record}})

    def with_feed(self, name: str, record: FeedRecord) -> Manifest:
        return self.model_copy(update={"feeds": {**self.feeds, name: record}})


def parse_manifest(data: bytes | None, where: str) -> Manifest:
    if data is None:
        return Manifest()
    try:
        with collector_paused():
            return Manifest.model_validate_json(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise PublishError(f"manifest is damaged: {field}: {err['msg']}", where=where) from None


def podcast_guid(feed_url: str) -> str:
    """The Podcasting 2.0 guid: UUIDv5 of the feed URL without scheme and trailing slashes."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def episode_guid(show_guid: str, slug: str) -> str:
    """Stable across re-runs, so a crash between upload and feed never mints a second GUID."""
    return str(uuid.uuid5(uuid.UUID(show_guid), slug))
