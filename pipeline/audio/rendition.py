"""Other encodings of the published episode (Ogg Opus, AAC in M4A) with its tags and chapters.

Made from the published MP3, decoded: that is the mastered audio exactly as listeners of the
MP3 hear it (its LAME header tells the decoder the encoder delay, so the timing matches too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..project.config import RenditionSettings
from . import ffmpeg
from .id3 import TagData
from .meter import Meter

DUAL_MONO_DB = 10 * math.log10(2)
# Closer than this to the MP3 is left as it is: the listener's ear (and the test) allow 0.5 LU.
TOLERANCE_LU = 0.2
# A 10-minute test voice whose Opus 48k was raised to the ceiling by its measured true peak
# came out of the re-encode 0.6 dB over it; sample peaks read up to ~0.5 dB under true ones.
PEAK_MARGIN_DB = 1.5


@dataclass(frozen=True)
class Codec:
    """What the feed and the site say of a format, and how ffmpeg makes it."""

    suffix: str
    mime: str
    codecs: str  # RFC 6381, for podcast:alternateEnclosure and the player's type
    name: str
    args: tuple[str, ...]  # encoder and muxer
    cover: bool = False  # whether ffmpeg's muxer carries cover art (Ogg's does not)


CODECS = {
    # libopus runs at 48 kHz only; ffmpeg resamples the MP3's rate on the way in.
    "opus": Codec(".opus", "audio/ogg", "opus", "Opus",
                  ("-c:a", "libopus", "-ar", "48000", "-f", "opus")),
    # faststart moves the index before the audio, so a player can start before the download ends.
    "aac": Codec(".m4a", "audio/mp4", "mp4a.40.2", "AAC",
                 ("-c:a", "aac", "-movflags", "+faststart", "-f", "ipod"), cover=True),
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


@dataclass(frozen=True)
class Heard:
    """A file's loudness as a listener hears it, and its sample peak."""

    lufs: float
    peak_dbfs: float


def heard(exe: str, path: Path, rate: int, channels: int) -> Heard:
    """A mono file plays on both speakers, 3 dB louder than it meters (BS.1770 dual mono):
    that is what it is compared as, which is why mono podcasts aim 3 LU under stereo ones
    (AES TD1004)."""
    meter = Meter(rate, channels, true_peak=False)  # oversampling would double the cost
    with ffmpeg.pipe(ffmpeg.decode_args(exe, path, rate, channels), "decoding", where=path) as p:
        for x in ffmpeg.chunks(p.stdout, channels):
            meter.add(x)
    m = meter.result()
    dual_mono_db = DUAL_MONO_DB if channels == 1 else 0.0
    return Heard(m.integrated_lufs + dual_mono_db, m.sample_peak_dbfs)


@dataclass(frozen=True)
class Mp3:
    """The published MP3 renditions are made from, measured once for all of them."""

    path: Path
    rate: int
    channels: int
    heard: Heard

    @classmethod
    def read(cls, exe: str, path: Path) -> Mp3:
        from mutagen.mp3 import MP3

        info = MP3(path).info
        return cls(path, info.sample_rate, info.channels,
                   heard(exe, path, info.sample_rate, info.channels))


def _filters(mono_from_stereo: bool, gain_db: float) -> list[str]:
    """The downmix, stated here rather than left to ffmpeg, whose matrix depends on the encoder
    (through libopus it came out 3 dB hotter, peaks over 0 dBTP), and the loudness correction."""
    if mono_from_stereo:
        c = 0.5 * 10 ** (gain_db / 20)
        return ["-af", f"pan=mono|c0={c:.6f}*c0+{c:.6f}*c1"]
    return ["-af", f"volume={gain_db:.3f}dB"] if gain_db else []


def encode(exe: str, mp3: Mp3, tags: TagData, spec: RenditionSettings, channels: int,
           ceiling_dbtp: float, dst: Path) -> None:
    """Decode the MP3 and encode it as `spec` asks, tagged, to `dst` (whole or not at all), as
    loud as the MP3.

    Low bitrates take loudness off (Opus at 48 kbit/s cut 1.6 LU of a hissy test voice) and a
    downmix loses what was out of phase or on one side: the rendition is measured, and made
    again once with the difference made up, as far as the true-peak ceiling allows.
    bitexact: no random Ogg serial number nor creation time, so the same MP3 gives the same
    bytes, and the same content address."""
    mono_from_stereo = channels == 1 and mp3.channels == 2
    codec = CODECS[spec.format]
    meta = dst.with_name(dst.name + ".meta")
    part = dst.with_name(dst.name + ".part")
    cover = dst.with_name(dst.name + ".cover")
    meta.write_text(metadata_file(tags), encoding="utf-8")
    art_in: list[str] = []
    art_out: list[str] = []
    if codec.cover and tags.cover:
        cover.write_bytes(tags.cover)
        art_in = ["-i", str(cover)]
        art_out = ["-map", "2:v:0", "-c:v", "copy", "-disposition:v:0", "attached_pic"]
    gain_db = 0.0
    try:
        for last in (False, True):
            ffmpeg.run([*ffmpeg.base_args(exe), "-i", str(mp3.path),
                        "-f", "ffmetadata", "-i", str(meta), *art_in, "-map", "0:a:0",
                        *art_out, "-map_metadata", "1", "-map_chapters", "1",
                        *_filters(mono_from_stereo, gain_db), "-ac", str(channels),
                        "-b:a", f"{spec.bitrate}k", "-flags:a", "+bitexact",
                        "-fflags", "+bitexact",  # an output option: after the inputs
                        *codec.args, "-y", str(part)],
                       f"encoding the {codec.name} rendition", where=mp3.path)
            if last:
                break
            got = heard(exe, part, mp3.rate, channels)
            miss_lu = mp3.heard.lufs - got.lufs
            if not math.isfinite(miss_lu) or abs(miss_lu) <= TOLERANCE_LU:
                break
            # Peaks before loudness, as in mastering: the raise stops short of the ceiling by
            # what lies between sample and true peaks and what the codec adds on a re-encode.
            gain_db += min(miss_lu, ceiling_dbtp - PEAK_MARGIN_DB - got.peak_dbfs)
        part.replace(dst)
    finally:
        for temporary in (meta, cover, part):
            temporary.unlink(missing_ok=True)
