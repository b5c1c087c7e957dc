"""A streaming BS.1770-4 / EBU R128 loudness meter: memory stays flat whatever the length."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ABS_GATE_LUFS = -70.0
REL_GATE_LU = -10.0
LRA_REL_GATE_LU = -20.0
SEGMENT_S = 0.1  # the hop of both the 400 ms and the 3 s windows
DETAIL_S = 0.005  # the limiter's time scale: the step of the loudness model in mastering
BLOCK_SEGMENTS = 4  # 400 ms momentary block
SHORT_TERM_SEGMENTS = 30  # 3 s short-term window
OVERSAMPLE = 4
TAPS_PER_PHASE = 12


def k_weighting(rate: float) -> np.ndarray:
    """The K-weighting pre-filter (shelf, then high-pass) as SOS for any sample rate.

    Bilinear-transform formulas from libebur128, so 44.1 kHz and 22.05 kHz are exact too.
    """
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh = 10 ** (gain_db / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0,
             1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array([shelf, highpass])


def _channel_weights(channels: int) -> np.ndarray:
    """BS.1770 weights for L, R, C, (LFE excluded), Ls, Rs; mono and stereo are all 1."""
    if channels == 6:
        return np.array([1.0, 1.0, 1.0, 0.0, 1.41, 1.41])
    return np.ones(channels)


def lufs(mean_square: np.ndarray | float) -> np.ndarray | float:
    with np.errstate(divide="ignore"):
        return -0.691 + 10 * np.log10(mean_square)


def db(x: np.ndarray | float) -> np.ndarray | float:
    with np.errstate(divide="ignore"):
        return 20 * np.log10(x)


class TruePeak:
    """4x oversampled peaks by a polyphase FIR, streamed with the last samples carried over.

    Oversampling every sample is the costly part of metering, so blocks whose sample peak
    proves they stay under `floor` (the sum of absolute taps bounds the interpolation gain)
    are skipped and read as 0. Output index n covers input sample n - 6 and the instants
    between samples n - 6 and n - 5 (the filter's delay).
    """

    BLOCK = 512
    DELAY = TAPS_PER_PHASE // 2

    def __init__(self, channels: int):
        from scipy.signal import firwin, upfirdn  # ~1 s to import: only when metering

        self._upfirdn = upfirdn
        self._taps = (firwin(OVERSAMPLE * TAPS_PER_PHASE, 0.24, window=("kaiser", 7.0))
                      * OVERSAMPLE).astype(np.float32)
        phases = self._taps.reshape(TAPS_PER_PHASE, OVERSAMPLE)
        self.bound = float(np.abs(phases).sum(axis=0).max())
        self._hist = np.zeros((TAPS_PER_PHASE - 1, channels), dtype=np.float32)

    def frame_peaks(self, x: np.ndarray, floor: float = 0.0) -> np.ndarray:
        """Per input frame, the largest |oversampled value| over channels (0 where skipped)."""
        n, b, k1 = len(x), self.BLOCK, TAPS_PER_PHASE - 1
        nblocks = -(-n // b)
        ext = np.zeros(((nblocks + 1) * b, x.shape[1]), dtype=np.float32)
        ext[:k1] = self._hist
        ext[k1:k1 + n] = x
        self._hist = ext[n:k1 + n].copy()
        a = abs_peak(ext).reshape(-1, b).max(axis=1)
        # Block i reads ext[i*b : i*b + b + k1], which lies in blocks i and i + 1.
        need = np.flatnonzero(np.maximum(a[:-1], a[1:]) * self.bound > floor)
        out = np.zeros(nblocks * b, dtype=np.float32)
        if need.size:
            win = ext.T[:, need[:, None] * b + np.arange(b + k1)]  # (ch, sel, b + k1)
            y = self._upfirdn(self._taps, win, up=OVERSAMPLE, axis=-1)
            y = np.abs(y[..., OVERSAMPLE * k1:OVERSAMPLE * (k1 + b)]).max(axis=0)
            # The samples themselves count too: the filter rolls off just below Nyquist.
            y = np.maximum(abs_peak(y.reshape(len(need), b, OVERSAMPLE)),
                           np.abs(win[..., k1 - self.DELAY:k1 - self.DELAY + b]).max(axis=0))
            out.reshape(-1, b)[need] = y
        return out[:n]


def abs_peak(x: np.ndarray) -> np.ndarray:
    """max |x| over the last axis; numpy reduces a short last axis slowly, so fold by columns."""
    out = np.abs(x[..., 0])
    for c in range(1, x.shape[-1]):
        np.maximum(out, np.abs(x[..., c]), out=out)
    return out


class Segments:
    """Per-frame values reduced (mean, max, min) over fixed-size segments as chunks stream in.

    A partial segment waits for the next chunk, so the result does not depend on chunk sizes.
    """

    def __init__(self, size: int, reduce, dtype=np.float64):
        self.size, self.reduce = size, reduce
        self._left = np.zeros(0, dtype=dtype)
        self._done: list[np.ndarray] = []

    def add(self, values: np.ndarray) -> None:
        v = np.concatenate([self._left, values])
        whole = len(v) // self.size * self.size
        self._done.append(self.reduce(v[:whole].reshape(-1, self.size), axis=1))
        self._left = v[whole:]

    def result(self, partial: bool = False) -> np.ndarray:
        """The reduced segments; with `partial`, the unfinished last one too."""
        parts = [*self._done, self.reduce(self._left, keepdims=True)] \
            if partial and len(self._left) else self._done
        return np.concatenate(parts) if parts else np.zeros(0, dtype=self._left.dtype)


@dataclass
class Measurement:
    """What a meter read: loudness, range, peaks and the short-term series for plots."""

    integrated_lufs: float
    lra: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    rate: int
    frames: int
    short_term: np.ndarray  # LUFS every SEGMENT_S, from the end of the first 3 s window
    segment_peaks: np.ndarray  # sample peak of each SEGMENT_S segment, for trimming silence
    segment_energies: np.ndarray  # K-weighted mean square of each whole segment
    # The same every DETAIL_S (`detail_frames` long), when the meter was asked for them.
    detail_energies: np.ndarray | None = None
    detail_peaks: np.ndarray | None = None
    detail_frames: int = 0

    @property
    def duration_s(self) -> float:
        return self.frames / self.rate

    @property
    def audible(self) -> bool:
        return math.isfinite(self.integrated_lufs)


class Meter:
    """Feed float frames (frames x channels) in chunks of any size; read `result()` at the end.

    Per 100 ms segment only a weighted mean square and a peak are kept (about 1 MB for 3 hours),
    and all gating is done on those at the end, so results do not depend on the chunk size.
    `detail` also keeps them every DETAIL_S (26 MB for 3 hours), for the limiter's model.
    """

    def __init__(self, rate: int, channels: int, true_peak: bool = True, detail: bool = False):
        self.rate = rate
        from scipy.signal import sosfilt  # ~1 s to import: only when metering

        self._sosfilt = sosfilt
        self._sos = k_weighting(rate)
        self._zi = np.zeros((2, 2, channels))
        self._weights = _channel_weights(channels)
        sizes = [SEGMENT_S, DETAIL_S] if detail else [SEGMENT_S]
        self._series = [(Segments(max(1, round(s * rate)), np.mean),
                         Segments(max(1, round(s * rate)), np.max, np.float32)) for s in sizes]
        self._tp = TruePeak(channels) if true_peak else None
        self._true_peak = 0.0
        self.frames = 0

    def add(self, x: np.ndarray) -> None:
        if not len(x):
            return
        self.frames += len(x)
        y, self._zi = self._sosfilt(self._sos, x, axis=0, zi=self._zi)
        sq, pk = (y * y) @ self._weights, abs_peak(x)
        for energies, peaks in self._series:
            energies.add(sq)
            peaks.add(pk)
        if self._tp is not None:
            self._true_peak = max(self._true_peak,
                                  float(self._tp.frame_peaks(x, self._true_peak).max()))

    def result(self) -> Measurement:
        energies, peaks = self._series[0][0].result(), self._series[0][1].result(partial=True)
        detail = {}
        if len(self._series) > 1:
            e, p = self._series[1]
            detail = {"detail_energies": e.result(), "detail_peaks": p.result(),
                      "detail_frames": e.size}
        if self._tp is not None:
            tail = self._tp.frame_peaks(np.zeros((TruePeak.DELAY, len(self._weights)),
                                                 dtype=np.float32), self._true_peak)
            self._true_peak = max(self._true_peak, float(tail.max(initial=0.0)))
        sample_peak = float(peaks.max(initial=0.0))
        return Measurement(
            integrated_lufs=integrated(windowed(energies, BLOCK_SEGMENTS)),
            lra=loudness_range(windowed(energies, SHORT_TERM_SEGMENTS)),
            true_peak_dbtp=float(db(max(self._true_peak, sample_peak))),
            sample_peak_dbfs=float(db(sample_peak)),
            rate=self.rate,
            frames=self.frames,
            short_term=lufs(windowed(energies, SHORT_TERM_SEGMENTS)),
            segment_peaks=peaks,
            segment_energies=energies,
            **detail)


def windowed(energies: np.ndarray, segments: int) -> np.ndarray:
    """Mean squares of windows `segments` long sliding by one segment (BS.1770 blocks)."""
    if len(energies) < segments:
        return np.zeros(0)
    c = np.concatenate([[0.0], np.cumsum(energies)])
    return (c[segments:] - c[:-segments]) / segments


def integrated(blocks: np.ndarray) -> float:
    """Gated integrated loudness (BS.1770-4); -inf when nothing passes the absolute gate."""
    kept = blocks[lufs(blocks) > ABS_GATE_LUFS]
    if not kept.size:
        return -math.inf
    kept = kept[lufs(kept) > lufs(kept.mean()) + REL_GATE_LU]
    return float(lufs(kept.mean()))


def loudness_range(short_term: np.ndarray) -> float:
    """EBU Tech 3342 LRA: spread (10th to 95th percentile) of gated short-term loudness."""
    levels = lufs(short_term)
    kept = short_term[levels > ABS_GATE_LUFS]
    if not kept.size:
        return 0.0
    levels = lufs(kept)
    levels = levels[levels > lufs(kept.mean()) + LRA_REL_GATE_LU]
    lo, hi = np.percentile(levels, [10, 95])
    return float(hi - lo)
