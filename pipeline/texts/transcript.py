"""Transcripts: read SRT or WebVTT, check the timing, write SRT, WebVTT and Podcasting 2.0 JSON."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .timecode import format_ms

# The formats a transcript is published in: file suffix -> (MIME type, rel attribute).
# The timed text formats are captions players can show in sync; JSON is for apps to parse.
FORMATS = {
    ".vtt": ("text/vtt", "captions"),
    ".srt": ("application/x-subrip", "captions"),
    ".json": ("application/json", None),
}
JSON_VERSION = "1.0.0"

_TIME = re.compile(r"^(?:(\d+):)?([0-5]?\d):([0-5]\d)[.,](\d{3})$")
_VOICE = re.compile(r"^<v(?:\.[\w.-]+)?\s+([^>]+)>(.*?)(?:</v>)?$", re.DOTALL)


class TranscriptError(ValueError):
    """A transcript that is not well-formed; the message names the cue."""


@dataclass(frozen=True)
class Cue:
    """One timed piece of text; times in milliseconds so conversions are exact."""

    start_ms: int
    end_ms: int
    text: str
    speaker: str | None = None


def parse_time(value: str) -> int:
    """Milliseconds from "00:01:02.500" (WebVTT), "00:01:02,500" (SRT) or "01:02.500"."""
    m = _TIME.match(value.strip())
    if not m:
        raise TranscriptError(f"{value!r} is not a cue time (HH:MM:SS.mmm)")
    h, mi, s, ms = (int(g or 0) for g in m.groups())
    return ((h * 60 + mi) * 60 + s) * 1000 + ms


def _blocks(text: str) -> list[list[str]]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return [b.strip("\n").split("\n") for b in re.split(r"\n\s*\n", text) if b.strip()]


def _timing(line: str, n: int) -> tuple[int, int]:
    start, arrow, rest = line.partition("-->")
    if not arrow:
        raise TranscriptError(f"cue {n}: no 'start --> end' line")
    try:
        return parse_time(start), parse_time(rest.split()[0] if rest.split() else "")
    except TranscriptError as exc:
        raise TranscriptError(f"cue {n}: {exc}") from None


def parse_srt(text: str) -> list[Cue]:
    cues = []
    for n, lines in enumerate(_blocks(text), 1):
        if lines[0].strip().isdigit():
            lines = lines[1:]
        if not lines:
            raise TranscriptError(f"cue {n}: no timing line")
        start, end = _timing(lines[0], n)
        cues.append(Cue(start, end, "\n".join(lines[1:]).strip()))
    return check(cues)


def parse_vtt(text: str) -> list[Cue]:
    blocks = _blocks(text)
    if not blocks or not blocks[0][0].startswith("WEBVTT"):
        raise TranscriptError("a WebVTT file starts with the line WEBVTT")
    cues = []
    for lines in blocks[1:]:
        if lines[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        if "-->" not in lines[0]:
            lines = lines[1:]  # a cue identifier
        n = len(cues) + 1
        if not lines:
            raise TranscriptError(f"cue {n}: no timing line")
        start, end = _timing(lines[0], n)
        body = "\n".join(lines[1:]).strip()
        voice = _VOICE.match(body)
        if voice:
            cues.append(Cue(start, end, voice.group(2).strip(), voice.group(1).strip()))
        else:
            cues.append(Cue(start, end, body))
    return check(cues)


def parse_json(text: str) -> list[Cue]:
    try:
        doc = json.loads(text)
        cues = [Cue(round(s["startTime"] * 1000), round(s["endTime"] * 1000), s["body"],
                     s.get("speaker")) for s in doc["segments"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise TranscriptError(f"not a Podcasting 2.0 JSON transcript: {exc}") from None
    return check(cues)


PARSERS = {".srt": parse_srt, ".vtt": parse_vtt, ".json": parse_json}


def read(path: Path) -> list[Cue]:
    """Cues from a transcript file, by its suffix."""
    parser = PARSERS.get(path.suffix.lower())
    if parser is None:
        raise TranscriptError("a transcript is a .vtt or .srt file")
    try:
        return parser(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise TranscriptError("not UTF-8 text") from None


def check(cues: list[Cue], duration_s: float | None = None) -> list[Cue]:
    """Cues in order, each ending after it starts, with text, and inside the episode."""
    if not cues:
        raise TranscriptError("no cues")
    previous = 0
    for n, cue in enumerate(cues, 1):
        if not cue.text:
            raise TranscriptError(f"cue {n} has no text")
        if cue.end_ms <= cue.start_ms:
            raise TranscriptError(f"cue {n} ends at or before its start")
        if cue.start_ms < previous:
            raise TranscriptError(f"cue {n} starts before cue {n - 1}")
        previous = cue.start_ms
    if duration_s is not None and cues[-1].end_ms > round(duration_s * 1000):
        raise TranscriptError(f"cue {len(cues)} ends at {format_ms(cues[-1].end_ms)}, "
                              f"after the end of the audio ({duration_s:.3f} s)")
    return cues


def to_srt(cues: list[Cue]) -> str:
    """SubRip has no speaker field: the text alone, as most players expect."""
    return "\n".join(f"{n}\n{format_ms(c.start_ms, ',')} --> {format_ms(c.end_ms, ',')}\n"
                     f"{c.text}\n" for n, c in enumerate(cues, 1))


def to_vtt(cues: list[Cue]) -> str:
    parts = ["WEBVTT\n"]
    for c in cues:
        body = f"<v {c.speaker}>{c.text}" if c.speaker else c.text
        parts.append(f"{format_ms(c.start_ms)} --> {format_ms(c.end_ms)}\n{body}\n")
    return "\n".join(parts)


def to_json(cues: list[Cue]) -> str:
    segments = []
    for c in cues:
        seg: dict = {"speaker": c.speaker} if c.speaker else {}
        seg.update(startTime=c.start_ms / 1000, endTime=c.end_ms / 1000, body=c.text)
        segments.append(seg)
    return json.dumps({"version": JSON_VERSION, "segments": segments}, indent=2,
                      ensure_ascii=False) + "\n"


WRITERS = {".vtt": to_vtt, ".srt": to_srt, ".json": to_json}
