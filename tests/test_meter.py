import numpy as np
import pyloudnorm
import pytest

from pipeline.audio.meter import Meter
from tests.signals import sine, speech_like


def read(x: np.ndarray, rate: int = 48000, chunk: int = 65536):
    m = Meter(rate, x.shape[1])
    for i in range(0, len(x), chunk):
        m.add(x[i:i + chunk])
    return m.result()


@pytest.mark.parametrize("dbfs", [-23.0, -33.0])
@pytest.mark.parametrize("rate", [44100, 48000])
def test_stereo_1k_sine_reads_its_level(dbfs, rate):
    r = read(sine(1000, dbfs, 10, rate), rate)
    assert r.integrated_lufs == pytest.approx(dbfs, abs=0.1)


def test_relative_gate_excludes_a_long_quiet_part():
    loud = sine(1000, -20, 10)
    quiet = sine(1000, -45, 60)  # 25 LU under: below the -10 LU relative gate
    assert read(np.concatenate([loud, quiet])).integrated_lufs == pytest.approx(-20, abs=0.1)


def test_signal_below_absolute_gate_is_ignored_and_silence_is_undefined():
    below = sine(1000, -75, 10)
    with_below = read(np.concatenate([sine(1000, -30, 5), below])).integrated_lufs
    with_silence = read(np.concatenate([sine(1000, -30, 5), 0 * below])).integrated_lufs
    assert with_below == pytest.approx(with_silence, abs=0.01)
    assert with_below == pytest.approx(-30, abs=0.2)
    assert not read(below).audible
    assert not read(np.zeros((48000 * 5, 2), np.float32)).audible


def test_true_peak_sees_the_peak_between_samples():
    # A sine at fs/4 with 45 degrees phase: every sample sits at 0.707 of the crest.
    x = sine(12000, -6, 5, 48000, channels=1, phase=np.pi / 4)
    r = read(x)
    assert r.sample_peak_dbfs == pytest.approx(-9.0, abs=0.05)
    assert r.true_peak_dbtp == pytest.approx(-6.0, abs=0.15)


def test_readings_do_not_depend_on_chunk_size():
    x = speech_like(20, 48000, seed=3)
    whole = read(x, chunk=len(x))
    for chunk in (1000, 4799, 65536):
        r = read(x, chunk=chunk)
        assert r.integrated_lufs == pytest.approx(whole.integrated_lufs, abs=1e-6)
        assert r.lra == pytest.approx(whole.lra, abs=1e-6)
        assert r.true_peak_dbtp == pytest.approx(whole.true_peak_dbtp, abs=1e-6)


@pytest.mark.parametrize("rate", [44100, 48000])
@pytest.mark.parametrize("seed", [1, 2])
def test_agrees_with_pyloudnorm(rate, seed):
    x = speech_like(30, rate, seed=seed) * np.float32(0.3 + 0.5 * seed)
    theirs = pyloudnorm.Meter(rate).integrated_loudness(x.astype(np.float64))
    assert read(x, rate).integrated_lufs == pytest.approx(theirs, abs=0.1)


def test_loudness_range_of_two_levels():
    # Tech 3342 style: 20 s at -20 and 20 s at -30 LUFS give an LRA of about 10 LU.
    x = np.concatenate([sine(1000, -20, 20), sine(1000, -30, 20)])
    assert read(x).lra == pytest.approx(10, abs=0.2)
