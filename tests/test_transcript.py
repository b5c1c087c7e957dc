"""Transcript parsing, checking and conversion between SRT, WebVTT and Podcasting 2.0 JSON."""

from __future__ import annotations

import json

import pytest
from helpers import REPO

from pipeline.texts import transcript
from pipeline.texts.transcript import Cue

SRT = """1
00:00:00,000 --> 00:00:02,500
Hello and welcome.

2
00:00:02,900 --> 00:01:05,042
Two lines
of text.
"""
VTT = """WEBVTT

00:00:00.000 --> 00:00:02.500
<v Host>Hello and welcome.

00:00:02.900 --> 00:01:05.042
<v Guest>Two lines
of text.
"""
CUES = [Cue(0, 2500, "Hello and welcome.", "Host"), Cue(2900, 65042, "Two lines\nof text.", "Guest")]


def test_vtt_parses_with_speakers():
    assert transcript.parse_vtt(VTT) == CUES


def test_srt_parses_without_speakers():
    assert transcript.parse_srt(SRT) == [Cue(c.start_ms, c.end_ms, c.text) for c in CUES]


def test_json_has_the_podcasting20_shape():
    assert json.loads(transcript.to_json(CUES)) == {"version": "1.0.0", "segments": [
        {"speaker": "Host", "startTime": 0.0, "endTime": 2.5, "body": "Hello and welcome."},
        {"speaker": "Guest", "startTime": 2.9, "endTime": 65.042, "body": "Two lines\nof text."}]}


@pytest.mark.parametrize("text, parse, write", [(VTT, transcript.parse_vtt, transcript.to_vtt),
                                                (SRT, transcript.parse_srt, transcript.to_srt)])
def test_a_file_round_trips_to_the_same_text(text, parse, write):
    assert write(parse(text)) == text


@pytest.mark.parametrize("write, parse", [(transcript.to_vtt, transcript.parse_vtt),
                                          (transcript.to_json, transcript.parse_json),
                                          (transcript.to_srt, transcript.parse_srt)])
def test_cues_round_trip_through_every_format(write, parse):
    back = parse(write(CUES))
    keeps_speaker = write is not transcript.to_srt
    assert back == (CUES if keeps_speaker else [Cue(c.start_ms, c.end_ms, c.text) for c in CUES])


def test_crlf_bom_identifiers_and_notes_are_accepted():
    text = ("\ufeffWEBVTT - demo\r\n\r\nNOTE written by hand\r\n\r\nintro\r\n"
            "00:01.000 --> 00:02.000 align:start\r\nHi\r\n")
    assert transcript.parse_vtt(text) == [Cue(1000, 2000, "Hi")]


@pytest.mark.parametrize("text, message", [
    ("1\n00:00:00,000 --> 00:00:02,000\nA\n\n2\n00:00:01,000 --> 00:00:01,000\nB\n",
     "cue 2 ends at or before its start"),
    ("1\n00:00:05,000 --> 00:00:06,000\nA\n\n2\n00:00:01,000 --> 00:00:02,000\nB\n",
     "cue 2 starts before cue 1"),
    ("1\n00:00:00,000 -> 00:00:02,000\nA\n", "cue 1: no 'start --> end' line"),
    ("1\n00:00:00 --> 00:00:02,000\nA\n", "cue 1: '00:00:00 ' is not a cue time"),
    ("1\n00:00:00,000 --> 00:00:02,000\n\n", "cue 1 has no text"),
    ("", "no cues"),
])
def test_malformed_srt_is_rejected(text, message):
    with pytest.raises(transcript.TranscriptError, match=message.replace("(", r"\(")):
        transcript.parse_srt(text)


def test_vtt_needs_its_header():
    with pytest.raises(transcript.TranscriptError, match="WEBVTT"):
        transcript.parse_vtt("00:00.000 --> 00:01.000\nHi\n")


def test_cues_must_end_inside_the_audio():
    transcript.check(CUES, duration_s=65.042)
    with pytest.raises(transcript.TranscriptError, match="after the end of the audio"):
        transcript.check(CUES, duration_s=65.0)


def test_demo_transcript_follows_the_recording():
    cues = transcript.read(REPO / "episodes/001-welcome/transcript.vtt")
    assert [(c.start_ms, c.end_ms, c.speaker) for c in cues] == [
        (0, 14960, "Host"), (15560, 25850, "Guest"), (26450, 46070, "Host"),
        (46670, 52920, "Guest"), (53520, 61340, "Host")]
    assert cues[0].text.startswith("Welcome to the Women in Surgery podcast")
    assert cues[-1].text.endswith("thank you for listening to Women in Surgery.")
