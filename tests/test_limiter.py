import numpy as np
import pytest

from pipeline.audio.limiter import Limiter
from pipeline.audio.meter import Meter
from tests.signals import speech_like

RATE = 44100


def limit(x: np.ndarray, ceiling: float, chunk: int = 65536):
    lim = Limiter(RATE, x.shape[1], ceiling)
    y = np.concatenate([*(lim.process(x[i:i + chunk]) for i in range(0, len(x), chunk)),
                        lim.finish()])
    return y, lim


def measure(x: np.ndarray):
    m = Meter(RATE, x.shape[1])
    m.add(x)
    return m.result()


@pytest.mark.parametrize("chunk", [777, 65536])
def test_peaks_end_under_the_ceiling_and_length_is_kept(chunk):
    x = speech_like(20, RATE, peak=2.0)  # about +6 dBFS: peaks far over
    y, lim = limit(x, -1.0, chunk)
    assert len(y) == len(x)
    assert measure(y).true_peak_dbtp <= -1.0 + 0.01
    assert lim.max_reduction_db > 5


def test_isolated_spike_is_caught_and_the_rest_untouched():
    x = speech_like(10, RATE, peak=0.3)
    x[RATE * 5, 0] = 1.5
    y, lim = limit(x, -1.0)
    assert measure(y).true_peak_dbtp <= -1.0 + 0.01
    assert 0 < lim.limited_frames / RATE < 0.3  # attack + release around one spike
    far = slice(RATE * 6, RATE * 10)
    assert np.array_equal(y[far], x[far])


def test_signal_under_the_ceiling_passes_bit_exact():
    x = speech_like(5, RATE, peak=0.5)
    y, lim = limit(x, -1.0)
    assert np.array_equal(y, x)
    assert lim.limited_frames == 0


def test_limiting_keeps_loudness_of_speech_close():
    x = speech_like(30, RATE, peak=1.0)  # 0 dBFS peaks into a -1 dBTP ceiling
    y, _ = limit(x, -1.0)
    assert measure(y).integrated_lufs == pytest.approx(measure(x).integrated_lufs, abs=0.5)
