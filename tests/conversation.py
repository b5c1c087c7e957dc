"""Synthetic speech for leveler tests, made with numpy only.

A voice here is a sawtooth glottal source (every harmonic, falling 6 dB/octave) with a
moving pitch, shaped by three vowel formants in the frequency domain, cut into syllables of
120-260 ms (about 4-5 per second) with fricative noise before some of them. Syllables make
words, words make phrases with falling pitch and level (declination), and each syllable,
phrase and turn gets its own random level, so the result meters like speech: it has the
syllabic modulation, the voiced/unvoiced mix and the natural rise and fall a leveler must
leave alone, on top of the differences between speakers it must remove.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RATE = 44100
EMPHASIS_SHARE, EMPHASIS_DB, EMPHASIS_ST = 0.15, 3.0, 3.0  # emphatic phrases: louder, higher

# Five vowels: (F1, F2, F3) in Hz for an adult male voice; other voices scale them.
_VOWELS = np.array([(730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240),
                    (530, 1840, 2480), (570, 840, 2410)], dtype=float)
_FORMANT_BW = np.array([90.0, 110.0, 170.0])
_FORMANT_GAIN = np.array([1.0, 0.6, 0.35])


@dataclass(frozen=True)
class Voice:
    name: str
    f0: float  # mean pitch, Hz
    formant_scale: float  # 1.0 male, ~1.17 female
    level_db: float  # level of a unit-RMS syllable, dBFS
    pan: float = 0.0  # -1 left .. +1 right


@dataclass(frozen=True)
class Turn:
    start: float  # seconds, first syllable
    end: float  # seconds, end of the last syllable
    speaker: str


@dataclass
class Recording:
    """Audio (frames x 2, float32) with where each speaker talks and where nobody does."""

    audio: np.ndarray
    rate: int
    turns: list[Turn] = field(default_factory=list)
    pauses: list[tuple[float, float]] = field(default_factory=list)  # >= 0.2 s, noise only
    breaths: list[tuple[float, float]] = field(default_factory=list)  # inhalations in pauses

    @property
    def seconds(self) -> float:
        return len(self.audio) / self.rate


def default_voices(host_offset_db: float = -12.0, middle_offset_db: float | None = None,
                   loudest_dbfs: float = -20.0) -> list[Voice]:
    """A quiet host, a guest between, and a loud guest (offsets relative to the loudest)."""
    if middle_offset_db is None:
        middle_offset_db = host_offset_db / 2
    return [Voice("host", 118.0, 1.0, loudest_dbfs + host_offset_db, 0.0),
            Voice("guest_mid", 165.0, 1.06, loudest_dbfs + middle_offset_db, -0.25),
            Voice("guest_loud", 215.0, 1.17, loudest_dbfs, 0.25)]


def conversation(seconds: float, seed: int = 1, voices: list[Voice] | None = None,
                 noise_dbfs: float = -60.0, turn_s: tuple[float, float] = (3.0, 15.0),
                 pause_s: tuple[float, float] = (0.2, 1.5), quick_share: float = 0.0,
                 breath_share: float = 0.0, rate: int = RATE) -> Recording:
    """Quick turns between voices at very different levels, with pauses and room noise.

    `quick_share` of the turn changes come with almost no gap (0-80 ms): the next speaker
    jumps in, which is the hard case for a leveler that waits for pauses. `breath_share` of
    the pauses of 0.6 s or more end with an audible inhalation (noise, 14 dB under the
    voice), which a leveler should not take for speech; `pauses` then stop where it starts.
    """
    rng = np.random.default_rng(seed)
    voices = voices or default_voices()
    out = np.zeros((round(seconds * rate), 2), dtype=np.float32)
    turns: list[Turn] = []
    pauses: list[tuple[float, float]] = []
    breaths: list[tuple[float, float]] = []
    t = 0.5
    who = int(rng.integers(len(voices)))
    weights = np.array([1.3] + [1.0] * (len(voices) - 1))  # the host talks a bit more
    while True:
        voice = voices[who]
        length = rng.uniform(*turn_s)
        if t + length > seconds - 0.5:
            break
        turn_db = rng.uniform(-1.0, 1.0)
        start, t, inner = _speak(out, rng, voice, t, t + length, turn_db, pause_s, rate)
        turns.append(Turn(start, t, voice.name))
        gap = rng.uniform(0.0, 0.08) if rng.random() < quick_share else rng.uniform(*pause_s)
        others = [i for i in range(len(voices)) if i != who]
        p = weights[others] / weights[others].sum()
        who = int(rng.choice(others, p=p))
        if gap >= 0.2:
            inner.append((t, t + gap))
        for a, b in inner:
            if b - a >= 0.6 and rng.random() < breath_share:
                # An inhalation by whoever speaks next, ending just before they do.
                after = voices[who] if b == t + gap else voice
                b0 = b - rng.uniform(0.05, 0.15)
                a0 = b0 - rng.uniform(0.25, 0.4)
                _place(out, round(a0 * rate), _breath(rng, round((b0 - a0) * rate), rate)
                       * 10 ** ((after.level_db - 14.0) / 20), _pan(after))
                breaths.append((a0, b0))
                b = a0
            pauses.append((a, b))
        t += gap
    _add_room_noise(out, rng, noise_dbfs)
    return Recording(out, rate, turns, pauses, breaths)


def steady_voice(seconds: float, seed: int = 7, voice: Voice | None = None,
                 noise_dbfs: float = -60.0, pause_s: tuple[float, float] = (0.2, 1.5),
                 rate: int = RATE) -> Recording:
    """One speaker at one level for the whole recording: only natural dynamics to keep."""
    rng = np.random.default_rng(seed)
    voice = voice or Voice("narrator", 130.0, 1.0, -24.0, 0.0)
    out = np.zeros((round(seconds * rate), 2), dtype=np.float32)
    start, end, pauses = _speak(out, rng, voice, 0.5, seconds - 0.5, 0.0, pause_s, rate)
    _add_room_noise(out, rng, noise_dbfs)
    return Recording(out, rate, [Turn(start, end, voice.name)], pauses)


def _speak(out: np.ndarray, rng: np.random.Generator, voice: Voice, t: float, until: float,
           turn_db: float, pause_s: tuple[float, float],
           rate: int) -> tuple[float, float, list[tuple[float, float]]]:
    """Phrases of 1-4 s with pauses between them, from `t` to about `until`.
    Returns (start, end, pauses inside)."""
    pan = _pan(voice)
    start, pauses = t, []
    while True:
        t = _phrase(out, rng, voice, t, rng.uniform(1.0, 4.0), turn_db, pan, rate)
        gap = rng.uniform(*pause_s)
        if t + gap + 1.0 > until:
            return start, t, pauses
        pauses.append((t, t + gap))
        t += gap


def _phrase(out: np.ndarray, rng: np.random.Generator, voice: Voice, t: float, length: float,
            turn_db: float, pan: np.ndarray, rate: int) -> float:
    """Words of 1-3 syllables; pitch falls from +15% to -15% and level by 5 dB (declination).
    Some phrases are emphatic: louder and higher at once, as people are; a leveler that
    splits stretches on pitch must not flatten them."""
    phrase_db = voice.level_db + turn_db + rng.normal(0.0, 1.0)
    f0_phrase = voice.f0
    if rng.random() < EMPHASIS_SHARE:
        phrase_db += EMPHASIS_DB
        f0_phrase *= 2 ** (EMPHASIS_ST / 12)
    begin = t
    while t - begin < length:
        for _ in range(int(rng.integers(1, 4))):
            dur = rng.uniform(0.12, 0.26)
            pos = (t - begin) / length
            f0 = f0_phrase * (1.15 - 0.3 * pos) * rng.uniform(0.9, 1.1)
            level = phrase_db + 2.0 - 5.0 * pos + rng.normal(0.0, 2.0)
            t = _syllable(out, rng, voice, t, dur, f0, level, pan, rate)
        t += rng.uniform(0.0, 0.12)  # between words
    return t


def _syllable(out: np.ndarray, rng: np.random.Generator, voice: Voice, t: float, dur: float,
              f0: float, level_db: float, pan: np.ndarray, rate: int) -> float:
    """One (consonant +) vowel at time t; returns where it ends."""
    a = round(t * rate)
    if rng.random() < 0.45:  # a fricative first
        m = round(rng.uniform(0.04, 0.09) * rate)
        _place(out, a, _fricative(rng, m, rate) * 10 ** ((level_db - 8.0) / 20), pan)
        a += m
    n = round(dur * rate)
    _place(out, a, _vowel(rng, voice, n, f0, rate) * 10 ** (level_db / 20), pan)
    return (a + n) / rate


def _pan(voice: Voice) -> np.ndarray:
    return np.array([np.sqrt((1 - voice.pan) / 2), np.sqrt((1 + voice.pan) / 2)]) * np.sqrt(2)


def _place(out: np.ndarray, a: int, x: np.ndarray, pan: np.ndarray) -> None:
    n = min(len(x), len(out) - a)
    if n > 0:
        out[a:a + n] += (x[:n, None] * pan[None, :]).astype(np.float32)


def _vowel(rng: np.random.Generator, voice: Voice, n: int, f0: float, rate: int) -> np.ndarray:
    """Unit-RMS voiced sound: sawtooth with a pitch glide through three formants."""
    glide = np.linspace(1.0, rng.uniform(0.9, 1.08), n)
    phase = rng.random() + np.cumsum(f0 * glide / rate)
    src = 2.0 * (phase % 1.0) - 1.0 + 0.03 * rng.standard_normal(n)
    formants = _VOWELS[rng.integers(len(_VOWELS))] * voice.formant_scale
    f = np.fft.rfftfreq(n, 1 / rate)
    shape = sum(g / np.sqrt(1 + ((f - fc) / (bw / 2)) ** 2)
                for fc, bw, g in zip(formants, _FORMANT_BW, _FORMANT_GAIN))
    shape *= f / np.sqrt(f * f + 70.0 ** 2)  # no rumble below the voice...
    shape /= 1 + (f / 6000.0) ** 2  # ...and little air above it, like a real mouth and mic
    y = np.fft.irfft(np.fft.rfft(src) * shape, n)
    y /= np.sqrt(np.mean(y * y)) + 1e-12
    x = np.linspace(0.0, 1.0, n)
    env = np.sin(np.pi * np.minimum(1.0, x / 0.25) / 2) * np.cos(np.pi / 2 * np.clip((x - 0.55) / 0.45, 0, 1))
    return y * env


def _fricative(rng: np.random.Generator, n: int, rate: int) -> np.ndarray:
    """Unit-RMS hiss between ~3 and 10 kHz with a soft envelope ('s', 'f', 'sh')."""
    f = np.fft.rfftfreq(n, 1 / rate)
    corner = rng.uniform(2500.0, 5000.0)
    spec = np.fft.rfft(rng.standard_normal(n)) / (1 + (corner / (f + 1)) ** 4) \
        / (1 + (f / 10000.0) ** 4)
    y = np.fft.irfft(spec, n)
    y /= np.sqrt(np.mean(y * y)) + 1e-12
    return y * np.sin(np.pi * np.linspace(0, 1, n)) ** 0.5


def _breath(rng: np.random.Generator, n: int, rate: int) -> np.ndarray:
    """Unit-RMS inhalation: broad noise from ~400 Hz to ~6 kHz, swelling and fading."""
    f = np.fft.rfftfreq(n, 1 / rate)
    spec = np.fft.rfft(rng.standard_normal(n)) / (1 + (400.0 / (f + 1)) ** 2) \
        / (1 + (f / 6000.0) ** 2)
    y = np.fft.irfft(spec, n)
    y /= np.sqrt(np.mean(y * y)) + 1e-12
    return y * np.sin(np.pi * np.linspace(0, 1, n)) ** 1.5


def _add_room_noise(out: np.ndarray, rng: np.random.Generator, dbfs: float) -> None:
    """Pink-ish noise (Voss-McCartney: white noise held over 1, 2, 4 ... samples, summed),
    independent per channel, at `dbfs` RMS."""
    n = len(out)
    for c in range(out.shape[1]):
        acc = np.zeros(n, dtype=np.float32)
        for k in range(14):
            hold = 1 << k
            acc += np.repeat(rng.standard_normal(-(-n // hold)).astype(np.float32), hold)[:n]
        acc -= acc.mean()
        acc *= np.float32(10 ** (dbfs / 20) / np.sqrt(np.mean(acc.astype(np.float64) ** 2)))
        out[:, c] += acc


def write_wav(path: Path | str, audio: np.ndarray, rate: int) -> Path:
    """32-bit float WAV (format 3), written in slices so a long file needs no second copy."""
    path = Path(path)
    frames, channels = audio.shape
    data_bytes = frames * channels * 4
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 4 + 26 + 12 + 8 + data_bytes) + b"WAVE")
        f.write(b"fmt " + struct.pack("<IHHIIHHH", 18, 3, channels, rate, rate * channels * 4,
                                      channels * 4, 32, 0))
        f.write(b"fact" + struct.pack("<II", 4, frames))
        f.write(b"data" + struct.pack("<I", data_bytes))
        step = 1 << 18
        for a in range(0, frames, step):
            f.write(np.ascontiguousarray(audio[a:a + step], dtype="<f4").tobytes())
    return path


def read_wav(path: Path | str) -> tuple[np.ndarray, int]:
    """Read back what write_wav wrote (float32 only)."""
    raw = Path(path).read_bytes()
    channels, rate = struct.unpack("<HI", raw[22:28])
    at = 12
    while raw[at:at + 4] != b"data":
        at += 8 + struct.unpack("<I", raw[at + 4:at + 8])[0]
    size = struct.unpack("<I", raw[at + 4:at + 8])[0]
    return np.frombuffer(raw[at + 8:at + 8 + size], dtype="<f4").reshape(-1, channels), rate
