"""Other encodings of the published episode (Ogg Opus, AAC in M4A) with its tags and chapters.

Made from the published MP3, decoded: that is the mastered audio exactly as listeners of the
MP3 hear it (its LAME header tells the decoder the encoder delay, so the timing matches too).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..project.config import RenditionSettings
from . import ffmpeg
from .id3 import TagData


@dataclass(frozen=True)
class Codec:
    """What the feed and the site say of a format, and how ffmpeg makes it."""

    suffix: str
    mime: str
    codecs: str  # RFC 6381, for podcast:alternateEnclosure and the player's type
    name: str
    args: tuple[str, ...]  # encoder and muxer


CODECS = {
    # libopus runs at 48 kHz only; ffmpeg resamples the MP3's rate on the way in.
    "opus": Codec(".opus", "audio/ogg", "opus", "Opus",
                  ("-c:a", "libopus", "-ar", "48000", "-f", "opus")),
    # faststart moves the index before the audio, so a player can start before the download ends.
    "aac": Codec(".m4a", "audio/mp4", "mp4a.40.2", "AAC",
                 ("-c:a", "aac", "-movflags", "+faststart", "-f", "ipod")),
}


def default_title(spec: RenditionSettings, channels: int) -> str:
    """A title for apps to show when the config gives none, e.g. "Opus 48 kbit/s mono"."""
    return spec.title or (f"{CODECS[spec.format].name} {spec.bitrate} kbit/s "
                          f"{'mono' if channels == 1 else 'stereo'}")


def _escape(value: object) -> str:
    """A value in ffmpeg's metadata file, where = ; # \\ and newlines are special."""
    text = str(value)
    for ch in "\\=;#\n":
        text = text.replace(ch, "\\" + ch)
    return text


def metadata_file(tags: TagData) -> str:
    """The episode's tags and chapters in ffmpeg's FFMETADATA1 format: written by the Ogg muxer
    as Vorbis comments (CHAPTER001...) and by the MP4 muxer as a chapter track."""
    fields = {"title": tags.title, "artist": tags.artist, "album": tags.album,
              "track": tags.track, "date": tags.date.date().isoformat() if tags.date else None,
              "comment": tags.description, "genre": "Podcast"}
    lines = [";FFMETADATA1"] + [f"{k}={_escape(v)}" for k, v in fields.items() if v]
    for mark in tags.chapters:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={round(mark.start_s * 1000)}",
                  f"END={round(mark.end_s * 1000)}", f"title={_escape(mark.title)}"]
    return "\n".join(lines) + "\n"


def encode(exe: str, mp3: Path, tags: TagData, spec: RenditionSettings, channels: int,
           dst: Path) -> None:
    """Decode the MP3 and encode it as `spec` asks, tagged, to `dst` (whole or not at all).

    bitexact: no random Ogg serial number nor creation time, so the same MP3 gives the same
    bytes, and the same content address."""
    from mutagen.mp3 import MP3

    # Downmixed as (L+R)/2, stated here rather than left to ffmpeg, whose matrix depends on the
    # encoder (through libopus it came out 3 dB hotter, peaks over 0 dBTP). A mono file at
    # -19 LUFS measured as mono is what a stereo -16 sounds like on two speakers (AES TD1004).
    downmix = ["-af", "pan=mono|c0=0.5*c0+0.5*c1"] \
        if channels == 1 and MP3(mp3).info.channels == 2 else []
    meta = dst.with_name(dst.name + ".meta")
    part = dst.with_name(dst.name + ".part")
    meta.write_text(metadata_file(tags), encoding="utf-8")
    try:
        ffmpeg.run([*ffmpeg.base_args(exe), "-fflags", "+bitexact", "-i", str(mp3),
                    "-f", "ffmetadata", "-i", str(meta), "-map", "0:a:0",
                    "-map_metadata", "1", "-map_chapters", "1", *downmix, "-ac", str(channels),
                    "-b:a", f"{spec.bitrate}k", "-flags:a", "+bitexact",
                    *CODECS[spec.format].args, "-y", str(part)],
                   f"encoding the {CODECS[spec.format].name} rendition", where=mp3)
        part.replace(dst)
    finally:
        meta.unlink(missing_ok=True)
        part.unlink(missing_ok=True)
