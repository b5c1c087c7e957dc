"""A look-ahead true-peak limiter that touches only the peaks a normalizing gain pushes over."""

from __future__ import annotations

import numpy as np

from .meter import SEGMENT_S, Segments, TruePeak, db

LOOKAHEAD_S = 0.005
RELEASE_DB_PER_S = 40.0  # 3 dB of reduction recovers in 75 ms: fast enough not to pump speech
# Oversampled index n covers the instants between samples n - 6 and n - 5; a sample's gain must
# respect the peaks from index a + 4 to a + 7 (one sample of slack either side).
_PEAK_FROM, _PEAK_TO = TruePeak.DELAY - 2, TruePeak.DELAY + 1


class Limiter:
    """Stream frames through `process`, then `finish`; output is the input delayed and limited.

    The gain envelope: the reduction each oversampled peak needs, held by a look-ahead minimum
    over the next 5 ms, released at a steady dB rate, then smoothed by a 5 ms moving average.
    Because every value averaged at a peak was already at most the gain that peak needs, the
    smoothed attack still lands under the ceiling; away from peaks the gain is exactly 1.
    """

    def __init__(self, rate: int, channels: int, ceiling_dbtp: float):
        self.ceiling = 10 ** (ceiling_dbtp / 20)
        self.rate = rate
        self._look = max(1, round(LOOKAHEAD_S * rate))
        self._window = self._look + _PEAK_TO - _PEAK_FROM
        self.delay = self._look + _PEAK_TO - 1
        self._tp = TruePeak(channels)
        self._req_tail = np.zeros(self._window - 1)  # dB of gain each peak needs
        self._release = 0.0
        self._box_tail = np.ones(self._look - 1)
        self._audio = np.zeros((self.delay, channels), dtype=np.float32)
        self._skip = self.delay
        self._per_sample = RELEASE_DB_PER_S / rate
        self.limited_frames = 0
        self.max_reduction_db = 0.0
        self._lows = Segments(max(1, round(SEGMENT_S * rate)), np.min)

    def process(self, x: np.ndarray) -> np.ndarray:
        n = len(x)
        req = np.concatenate([self._req_tail, self._needed(self._tp.frame_peaks(x, self.ceiling))])
        self._req_tail = req[n:]
        if not req.any() and self._release == 0.0 and self._box_tail.min() == 1.0:
            gain = np.ones(n)
        else:
            gain = self._envelope(req, n)
        audio = np.concatenate([self._audio, x])
        self._audio = audio[n:]
        out = audio[:n] * gain[:, None].astype(np.float32)
        self._account(gain[self._skip:] if self._skip else gain)
        out, self._skip = out[self._skip:], max(0, self._skip - n)
        return out

    def finish(self) -> np.ndarray:
        """Flush the look-ahead: the last `delay` frames of the input."""
        return self.process(np.zeros((self.delay, self._audio.shape[1]), dtype=np.float32))

    def _needed(self, peaks: np.ndarray) -> np.ndarray:
        """dB of gain each peak needs (0 under the ceiling); logs only where it is over."""
        need = np.zeros(len(peaks))
        over = np.flatnonzero(peaks > self.ceiling)
        need[over] = db(self.ceiling / peaks[over])
        return need

    def _envelope(self, req: np.ndarray, n: int) -> np.ndarray:
        from scipy.ndimage import minimum_filter1d  # imported when limiting, not at start-up

        w = self._window
        held = minimum_filter1d(req, w, mode="nearest")[w // 2: w // 2 + n]
        # Release at a steady rate: r[i] = min(held[i], r[i-1] + step), solved without a loop.
        ramp = self._per_sample * np.arange(n)
        released = ramp + np.minimum(self._release + self._per_sample,
                                     np.minimum.accumulate(held - ramp))
        released = np.minimum(released, 0.0)
        self._release = float(released[-1])
        lin = np.concatenate([self._box_tail, np.ones(n)])
        cut = np.flatnonzero(released)  # powers only where the gain is reduced
        lin[len(self._box_tail) + cut] = 10 ** (released[cut] / 20)
        self._box_tail = lin[n:]
        c = np.concatenate([[0.0], np.cumsum(lin)])
        return (c[self._look:] - c[:-self._look]) / self._look

    def _account(self, gain: np.ndarray) -> None:
        touched = gain < 0.9999
        self.limited_frames += int(touched.sum())
        if touched.any():
            self.max_reduction_db = max(self.max_reduction_db, float(-db(gain.min())))
        self._lows.add(gain)

    def gain_db_per_segment(self) -> np.ndarray:
        """Lowest gain (dB) in each 100 ms segment of the output, for the report's plot."""
        return db(self._lows.result(partial=True))
