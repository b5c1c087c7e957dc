"""Optional RNNoise noise reduction: quieter noise, the same times, and a clear line without it."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import signals
from conversation import conversation, default_voices, write_wav
from helpers import PUBLISH
from independent_meter import ebur128, ffmpeg_exe
from scipy.signal import chirp, correlate

from pipeline.audio.denoise import RATE, denoised
from pipeline.audio.master import master_to_mp3
from pipeline.project.config import AudioSettings

pytest.importorskip("pyrnnoise", reason="pip install '.[denoise]' to test noise reduction")


def _chunks(x: np.ndarray, size: int = 7777) -> list[np.ndarray]:
    return [x[i:i + size] for i in range(0, len(x), size)]


def test_denoising_keeps_every_time_and_the_length():
    """RNNoise delays its output by two frames; that delay is taken back, or chapters and
    transcripts would come out 20 ms late."""
    t = np.arange(RATE * 3) / RATE
    x = np.zeros_like(t)
    for k in range(6):
        start, n = int((0.3 + 0.45 * k) * RATE), 12000
        x[start:start + n] = 0.3 * chirp(np.arange(n) / RATE, 120, n / RATE, 900) * np.hanning(n)
    x = np.stack([x, 0.5 * x], axis=1).astype(np.float32)
    y = np.concatenate(list(denoised(_chunks(x), 2)))
    assert y.shape == x.shape
    lag = np.argmax(correlate(y[:, 0], x[:, 0], mode="full", method="fft")) - (len(x) - 1)
    assert abs(lag) <= RATE // 1000  # within a millisecond


def test_room_noise_alone_is_brought_down():
    rng = np.random.default_rng(2)
    noise = (0.01 * rng.standard_normal((RATE * 4, 1))).astype(np.float32)
    y = np.concatenate(list(denoised(_chunks(noise), 1)))
    before = 10 * np.log10(np.mean(noise[RATE:] ** 2))
    after = 10 * np.log10(np.mean(y[RATE:] ** 2) + 1e-20)
    assert after < before - 10


@pytest.mark.e2e
def test_master_with_denoise_lands_on_target(tmp_path):
    rec = conversation(40, seed=4, noise_dbfs=-45.0)
    src = write_wav(tmp_path / "noisy.wav", rec.audio, rec.rate)
    out = tmp_path / "clean.mp3"
    proc = subprocess.run([*PUBLISH, "master", str(src), "-o", str(out), "--denoise", "--json"],
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr
    m = ebur128(out)
    assert abs(m.integrated - -16.0) <= 0.2 and m.true_peak <= -1.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.mp3", "noisy.wav"]  # no leftovers


@pytest.mark.slow
def test_denoised_speech_that_lame_overshoots_still_ends_under_the_ceiling(tmp_path):
    """RNNoise's output makes LAME overshoot by 2.4 dB, and more as the limiter works harder:
    one corrective encode at a lower ceiling still passed -1 dBTP (-0.7). The ceiling is then
    found on the line through the two encodes, and the MP3 ends under it, on target."""
    rec = conversation(60, seed=11, voices=default_voices(host_offset_db=-12.0))
    src = signals.write_wav(tmp_path / "talk.wav", rec.audio, rec.rate)  # 16-bit, as recorded
    out = tmp_path / "clean.mp3"
    report = master_to_mp3(ffmpeg_exe(), src, out, AudioSettings(denoise=True))
    m = ebur128(out)
    assert m.true_peak <= -1.0
    assert abs(m.integrated - -16.0) <= 0.2
    assert report.warnings == []
