"""Which renditions of an episode a feed offers: those its config still asks for."""

from __future__ import annotations

import hashlib
import json

from ..manifest import EpisodeRecord, Rendition
from ..project.config import FeedConfig, RenditionSettings


def made_from(spec: RenditionSettings, channels: int, mp3_sha256: str) -> str:
    """What a rendition's bytes depend on: its settings and the MP3 it is encoded from (the
    title is only in the feed)."""
    what = {"format": spec.format, "bitrate": spec.bitrate, "channels": channels,
            "mp3": mp3_sha256}
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()


def offered(feed: FeedConfig, ep: EpisodeRecord) -> list[Rendition]:
    """The episode's renditions made for this feed's [[renditions]] from its current MP3, in
    the manifest's order: one removed from the config leaves the feed (and the site) at the
    next rebuild. A rendition the manifest does not say the origin of is listed as it is."""
    wanted = {made_from(spec, spec.channels or feed.audio.channels, ep.audio.sha256)
              for spec in feed.renditions}
    return [r for r in ep.renditions if r.made_from is None or r.made_from in wanted]
