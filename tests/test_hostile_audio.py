"""Broken and unusual recordings: refused with one clear line, or mastered correctly."""

from __future__ import annotations

import json
import os
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from helpers import PUBLISH, run, set_key, tree
from independent_meter import ebur128
from mutagen.mp3 import MP3

from pipeline.audio.ffmpeg import find_ffmpeg

pytestmark = pytest.mark.e2e

FFMPEG = find_ffmpeg()


def speechy(seconds: float, rate: int, channels: int, seed: int = 1) -> np.ndarray:
    """Noise gated at a syllable rate, with pauses: loudness behaves like speech."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    envelope = (np.sin(2 * np.pi * 4 * t) > 0) * (np.sin(2 * np.pi * 0.3 * t) > -0.5)
    mono = rng.standard_normal(n) * envelope * 0.1
    return np.repeat(mono[:, None], channels, axis=1)


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-v", "error", "-y", *args], check=True)


def master(src: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*PUBLISH, "master", str(src), "-o", str(out), "--json"],
                          capture_output=True, text=True, timeout=600, check=False)


def _empty(d: Path) -> Path:
    (d / "empty.wav").write_bytes(b"")
    return d / "empty.wav"


def _random(d: Path) -> Path:
    (d / "noise.mp3").write_bytes(os.urandom(200_000))
    return d / "noise.mp3"


def _truncated(d: Path) -> Path:
    full = write_wav(d / "full.wav", speechy(10, 44100, 2), 44100).read_bytes()
    (d / "cut.wav").write_bytes(full[: len(full) // 3])
    return d / "cut.wav"


def _silent(d: Path) -> Path:
    return write_wav(d / "silent.wav", np.zeros((44100 * 5, 2)), 44100)


def _tiny(d: Path) -> Path:
    return write_wav(d / "tiny.wav", speechy(0.1, 44100, 2), 44100)


@pytest.mark.parametrize(("make", "words"), [
    (_empty, "empty"), (_random, "not an audio file ffmpeg can decode: no audio stream"),
    (_truncated, "truncated"),
    (_silent, "silent"), (_tiny, "too short")])
def test_bad_recordings_are_refused_cleanly(tmp_path, make, words):
    src = make(tmp_path)
    out = tmp_path / "out.mp3"
    proc = master(src, out)
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert src.name in lines[0] and words in lines[0], lines[0]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == []


def test_random_bytes_say_what_they_are_and_ffmpeg_details_wait_for_verbose(tmp_path):
    src = _random(tmp_path)
    quiet = master(src, tmp_path / "out.mp3")
    assert "graph" not in quiet.stderr and "@ 0x" not in quiet.stderr  # no ffmpeg internals
    loud = subprocess.run([*PUBLISH, "--verbose", "master", str(src), "-o",
                           str(tmp_path / "out.mp3")], capture_output=True, text=True,
                          timeout=600, check=False)
    first, detail = loud.stderr.strip().splitlines()
    assert first == quiet.stderr.strip()
    assert detail.startswith("  detail: ") and "mp3" in detail  # what ffmpeg itself said


def test_bad_recording_publishes_nothing(project, episode_toml):
    src = _random(episode_toml.parent)
    set_key(episode_toml, "audio", f'"{src.name}"')
    proc = run(project, "episode", "1", check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert tree(project / "public") == {}


def _video(d: Path) -> Path:
    wav = write_wav(d / "a.wav", speechy(8, 48000, 2), 48000)
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=8", "-i", str(wav),
           "-shortest", "-c:v", "mpeg4", "-c:a", "aac", str(d / "video.mp4"))
    return d / "video.mp4"


def _cover_and_huge_header(d: Path) -> Path:
    """An MP3 with a 3 MB picture in its tag: decoders must seek past a long header."""
    from mutagen.id3 import APIC, ID3

    wav = write_wav(d / "a.wav", speechy(8, 44100, 2), 44100)
    ffmpeg("-i", str(wav), "-c:a", "libmp3lame", "-b:a", "96k", str(d / "tagged.mp3"))
    tags = ID3()
    tags.add(APIC(encoding=0, mime="image/png", type=3, desc="", data=os.urandom(3_000_000)))
    tags.save(d / "tagged.mp3")
    return d / "tagged.mp3"


def _rate_8k_mono(d: Path) -> Path:
    return write_wav(d / "phone.wav", speechy(8, 8000, 1), 8000)


def _rate_192k(d: Path) -> Path:
    return write_wav(d / "hires.wav", speechy(6, 192000, 2), 192000)


def _six_channels(d: Path) -> Path:
    return write_wav(d / "surround.wav", speechy(8, 48000, 6), 48000)


@pytest.mark.parametrize("make", [_video, _cover_and_huge_header, _rate_8k_mono, _rate_192k,
                                  _six_channels])
def test_unusual_recordings_master_to_the_feed_format(tmp_path, make):
    src = make(tmp_path)
    out = tmp_path / "out.mp3"
    proc = master(src, out)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    independent = ebur128(out)  # ffmpeg's meter, not ours
    assert abs(independent.integrated - -16.0) <= 0.2, independent.integrated
    assert independent.true_peak <= -1.0
    info = MP3(out).info
    assert (info.sample_rate, info.channels) == (44100, 2)
    assert abs(info.length - r["duration_s"]) < 0.1


def test_wav_shortfall_reads_the_header():
    from pipeline.audio.source import wav_shortfall

    header = b"RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + bytes(16) + b"data" + \
        (1000).to_bytes(4, "little")
    assert wav_shortfall(header, len(header) + 400) == (1000, 400)
    assert wav_shortfall(header, len(header) + 1000) is None
    streamed = header[:-4] + (0xFFFFFFFF).to_bytes(4, "little")
    assert wav_shortfall(streamed, len(streamed) + 10) is None
    assert wav_shortfall(b"fLaC" + bytes(40), 44) is None
