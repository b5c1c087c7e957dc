"""Test audio made with numpy: sines and speech-like noise, written as WAV when a file is needed."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
from scipy.signal import lfilter


def sine(freq: float, dbfs: float, seconds: float, rate: int = 48000, channels: int = 2,
         phase: float = 0.0) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    x = 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t + phase)
    return np.repeat(x[:, None], channels, axis=1).astype(np.float32)


def speech_like(seconds: float, rate: int = 44100, channels: int = 2, peak: float = 0.5,
                seed: int = 0) -> np.ndarray:
    """Voice-band noise gated at syllable rate, with pauses, a loud and a quiet speaker."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate)) / rate
    voice = lfilter([1.0], [1.0, -1.6, 0.7], rng.standard_normal(len(t)))
    env = np.clip(np.sin(2 * np.pi * 4.3 * t), 0, None) ** 2
    env *= np.sin(2 * np.pi * 0.13 * t) > -0.7
    env *= np.where((t // 10) % 2 == 0, 1.0, 0.35)
    x = voice * env
    x *= peak / np.abs(x).max()
    return np.stack([x * (1 - 0.1 * c) for c in range(channels)], axis=1).astype(np.float32)


def write_wav(path: Path, x: np.ndarray, rate: int, width: int = 2) -> Path:
    scale = 2 ** (8 * width - 1) - 1
    ints = np.round(np.clip(x, -1, 1) * scale).astype(np.int64)
    if width == 3:
        raw = ints.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        raw = ints.astype(f"<i{width}").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(x.shape[1])
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(raw)
    return path
