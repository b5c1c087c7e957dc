"""Offline speech leveler: one gain per stretch of speech, so every speaker ends up equally loud.

It plugs into the two-pass mastering chain with bounded memory:

- pass 1: the loudness meter keeps the K-weighted mean square every 5 ms (`detail_energies`);
  `VoicingAnalyser` optionally adds one voicing value per 20 ms, from the same chunks;
- between the passes: `gain_curve` turns those into a gain in dB per 5 ms step;
- pass 2: `apply` multiplies each decoded chunk by that curve, interpolated per sample.

How the curve is made (all offline, so it looks both ways):
1. speech is where the 50 ms level stands `snr_db` over the local noise floor (the lowest
   200 ms level within +-10 s), gaps under `join_gap_s` closed; with voicing features, runs
   with almost no voiced frames (breaths, clicks, rustle) are not speech;
2. runs are cut into units of at most `unit_max_s`; each unit has a loudness (power mean);
3. the units are split into stretches of steady loudness by optimal partitioning (PELT):
   least squares on the units' levels plus `change_penalty` per new stretch, so a stretch
   starts only where a level change is big or long enough to be a new speaker or a real
   move, never for the rise and fall of a sentence;
4. each stretch gets one gain to the reference (the middle of the speakers' range, or an
   absolute target), within the boost and cut bounds;
5. the gain changes only in the pause between stretches (or over `switch_s` when a speaker
   jumps in without one); across pauses it is held, never raised: in a pause it dips to the
   lower of its two sides, and no higher than a linear normalizer would put the noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

STEP_S = 0.005  # the meter's detail step (meter.DETAIL_S)
_TINY = 1e-20


@dataclass(frozen=True)
class LevelerSettings:
    """Defaults were tuned on generated conversations (tests/conversation.py); each says why.

    Measured by bench/leveling.py (the levelled result) and bench/speech_detection.py (the
    speech detector against where the conversation really talks), in bench/RESULTS.md."""

    # None: bring speech to the middle of the file's own speakers (the linear gain that follows
    # sets the absolute loudness); a number: bring every stretch to that many LUFS.
    target_lufs: float | None = None
    # 12 dB either way covers 24 dB between the quietest and the loudest speaker, because the
    # reference sits in the middle of them; more would raise a whisper or a far mic's room.
    max_boost_db: float = 12.0
    max_cut_db: float = -12.0
    # Cost of a new stretch in dB^2 x s of speech. Splitting a stretch in two pays when
    # (level difference)^2 x T1*T2/(T1+T2) exceeds it: 30 follows 6 dB between two turns
    # with 2 s of speech each and 12 dB for a 0.3 s interjection (both sides of it count),
    # but leaves alone a 3 s phrase 3 dB off its neighbours (27 < 30): natural dynamics.
    change_penalty: float = 30.0
    # Speech: the 50 ms level this far over the local noise floor (lowest 200 ms level
    # within +-floor_window_s / 2). 10 dB keeps the quiet ends of words and rejects the room.
    snr_db: float = 10.0
    floor_window_s: float = 20.0
    # Never count as speech what is more than this far under the loudest speech (LU).
    range_db: float = 40.0
    join_gap_s: float = 0.15  # gaps between words and stop closures stay inside speech
    min_run_s: float = 0.05  # shorter bursts are clicks
    unit_max_s: float = 0.6  # longest unit: where a speaker can take over without a pause
    # A stretch costs this many times more when it would start at a dip between words (a gap
    # under join_gap_s), or inside continuous sound: speakers take turns in pauses, so a
    # level change is put in the nearest pause unless the evidence against that is strong
    # (otherwise the quiet last word of a phrase goes with the next, quieter speaker).
    dip_penalty: float = 1.5
    inside_penalty: float = 2.5
    # With voicing features: a word (a loud run before gaps are closed) needs this share of
    # voiced steps to be speech, and loses unvoiced ends longer than unvoiced_edge_s
    # (fricatives last up to ~150 ms; breaths, clicks and rustle are dropped).
    voiced_share: float = 0.2
    voicing_threshold: float = 0.5
    unvoiced_edge_s: float = 0.15
    # With features, a change of pitch counts too: 1 semitone weighs sqrt(pitch_weight) dB.
    pitch_weight: float = 0.25
    # Pauses at least this long get the pause gain; shorter ones keep the gain held.
    pause_min_s: float = 0.25
    # In pauses the gain may stand at most this far over what a linear normalizer would give
    # (so the room is not raised between sentences of a quiet speaker).
    pause_boost_db: float = 0.0
    hold_s: float = 0.1  # the gain stays this long after speech (decays, reverb)...
    fall_s: float = 0.2  # ...then eases to the pause gain over this long...
    rise_s: float = 0.1  # ...and comes back over this long...
    pre_s: float = 0.03  # ...to be in place this long before the next speech starts.
    switch_s: float = 0.06  # gain change between stretches with no pause between them
    spread_window_s: float = 3.0  # speech time per window for the spread statistics


@dataclass
class LevelerStats:
    speech_s: float
    stretches: int
    max_boost_db: float
    max_cut_db: float
    reference_lufs: float  # where speech was brought (before the linear gain)
    speech_lufs: float  # power mean of all speech before levelling
    spread_before_db: float  # std of speech loudness per spread_window_s of speech
    spread_after_db: float


class Leveling(NamedTuple):
    curve: np.ndarray  # dB per detail step, float32
    stats: LevelerStats
    speech: np.ndarray  # bool per detail step: where speech was found


class VoicingFeatures(NamedTuple):
    voicing: np.ndarray  # 0..1 per hop: peak of the normalised autocorrelation at 70-400 Hz
    pitch: np.ndarray  # where that peak is, in semitones over 100 Hz (meaningful if voiced)
    hop_steps: int  # detail steps per value


class VoicingAnalyser:
    """Pass-1 voicing detector on a ~4 kHz mono downmix, fed chunks of any size.

    Why voicing: vowels are periodic, breaths, clicks and room noise are not, and level alone
    cannot tell a loud breath from a quiet word. Cheap enough for pass 1: the downmix and
    decimation are one matrix-vector product (a box average of R frames, a crude but
    adequate anti-alias filter for pitch), and the autocorrelation is one 256-point FFT per
    20 ms (a run of speech is judged by its share of voiced frames, so 20 ms is fine enough). Each frame is first differenced, which whitens room noise (pink or brown noise is
    strongly correlated at pitch lags, a voice stays periodic). Frame j covers the detail
    steps [j * hop_steps, (j + 1) * hop_steps) with a 40 ms window centred on them, so the
    results do not depend on how the audio was chunked.
    """

    WINDOW_S = 0.04
    F0_RANGE = (70.0, 400.0)
    OCTAVE_COST = 0.2  # per octave of lag, for the pitch only (not the voicing)

    def __init__(self, rate: int, channels: int, detail_frames: int, hop_steps: int = 4):
        self.hop_steps = hop_steps
        hop = detail_frames * hop_steps
        divisors = [d for d in range(1, hop + 1) if hop % d == 0]
        self.factor = min(divisors, key=lambda d: abs(d - rate / 4000))
        self.rate_d = rate / self.factor
        self.hop_d = hop // self.factor
        self.win = 2 * round(self.WINDOW_S * self.rate_d / 2)
        self.lags = (math.ceil(self.rate_d / self.F0_RANGE[1]),
                     math.floor(self.rate_d / self.F0_RANGE[0]))
        self.nfft = 1 << math.ceil(math.log2(self.win + self.lags[1] + 1))
        self._mix = np.full(self.factor * channels, 1.0 / (self.factor * channels), np.float32)
        self._window = np.hanning(self.win + 2)[1:-1].astype(np.float32)
        w_acf = np.correlate(self._window, self._window, "full")[self.win - 1:]
        self._w_norm = (w_acf[0] / w_acf[self.lags[0]:self.lags[1] + 1]).astype(np.float32)
        self._channels = channels
        self._rest = np.zeros((0, channels), dtype=np.float32)  # frames short of a block
        # Decimated samples from the start of the next window; the first window starts
        # before the audio (centred on the first hop), so it is padded with zeros.
        self._buf = np.zeros((self.win - self.hop_d) // 2, dtype=np.float32)
        lag = np.arange(self.lags[0], self.lags[1] + 1)
        # A periodic signal correlates at 2 and 3 periods as well as at one: a small cost per
        # octave of lag makes the shortest of near-equal peaks win (no octave errors down).
        self._octave = (1 - self.OCTAVE_COST * np.log2(lag / lag[0])).astype(np.float32)
        self._pitch = (12 * np.log2(self.rate_d / lag / 100.0)).astype(np.float32)
        self._voicing: list[np.ndarray] = []
        self._pitches: list[np.ndarray] = []
        self._frames = 0

    def add(self, x: np.ndarray) -> None:
        self._frames += len(x)
        if len(self._rest):
            x = np.concatenate([self._rest, x])
        whole = len(x) // self.factor * self.factor
        self._rest = x[whole:].copy()
        if whole:
            blocks = np.ascontiguousarray(x[:whole], dtype=np.float32).reshape(-1, self._mix.size)
            self._buf = np.concatenate([self._buf, blocks @ self._mix])
            self._analyse()

    def result(self) -> VoicingFeatures:
        """Voicing for every hop that began in the audio (the last windows padded)."""
        hops = -(-self._frames // (self.hop_d * self.factor))
        done = sum(len(v) for v in self._voicing)
        if hops > done:
            self._buf = np.concatenate([self._buf, np.zeros(self.win, dtype=np.float32)])
            self._analyse(limit=hops - done)
        v, p = (np.concatenate(x) if x else np.zeros(0, dtype=np.float32)
                for x in (self._voicing, self._pitches))
        self._voicing, self._pitches = [v], [p]
        return VoicingFeatures(v[:hops], p[:hops], self.hop_steps)

    def _analyse(self, limit: int | None = None) -> None:
        n = (len(self._buf) - self.win) // self.hop_d + 1 if len(self._buf) >= self.win else 0
        if limit is not None:
            n = min(n, limit)
        if n <= 0:
            return
        frames = np.lib.stride_tricks.sliding_window_view(
            self._buf[:(n - 1) * self.hop_d + self.win], self.win)[::self.hop_d]
        d = np.diff(frames, axis=1, prepend=frames[:, :1])  # whitening
        self._buf = self._buf[n * self.hop_d:]
        d -= d.mean(axis=1, keepdims=True)
        d *= self._window
        spec = np.fft.rfft(d, self.nfft, axis=1)
        acf = np.fft.irfft(spec.real ** 2 + spec.imag ** 2, self.nfft, axis=1)
        lo, hi = self.lags
        r0 = acf[:, 0]
        norm = acf[:, lo:hi + 1] * self._w_norm
        peak = norm.max(axis=1)
        best = (norm * self._octave).argmax(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(r0 > 1e-12, peak / r0, 0.0)
        self._voicing.append(np.clip(v, 0.0, 1.0).astype(np.float32))
        self._pitches.append(self._pitch[best])


def gain_curve(detail_energies: np.ndarray, features: VoicingFeatures | None, rate: int,
               detail_frames: int, settings: LevelerSettings = LevelerSettings()) -> Leveling:
    """Gain in dB per detail step (see the module docstring), with what it did."""
    s = settings
    energies = np.asarray(detail_energies, dtype=np.float64)
    n = len(energies)
    step = detail_frames / rate
    raw, speech_mask = _speech_mask(energies, features, step, s)
    units, kind = _units(raw, speech_mask, step, s)
    if not len(units):
        return Leveling(np.zeros(n, dtype=np.float32),
                        LevelerStats(0.0, 0, 0.0, 0.0, math.nan, math.nan, 0.0, 0.0),
                        np.zeros(n, dtype=bool))
    # Units tile the speech in order and the steps between them are not loud, so reduceat
    # (which sums up to the next unit's start) gives each unit's own sums.
    power = np.add.reduceat(energies * raw, units[:, 0])
    count = np.add.reduceat(raw.astype(np.float64), units[:, 0])
    level = _lufs(power / count)
    weight = count * step
    penalty = s.change_penalty * np.array([1.0, s.dip_penalty, s.inside_penalty])[kind]
    series = [(level, weight)]
    if features is not None and s.pitch_weight > 0:
        pitch, voiced = _unit_pitch(features, raw, units, n)
        series.append((pitch * math.sqrt(s.pitch_weight), voiced * step))
    bounds = _partition(series, penalty)
    stretch = np.repeat(np.arange(len(bounds) - 1), np.diff(bounds))  # stretch of each unit
    s_power = np.bincount(stretch, power)
    s_count = np.bincount(stretch, count)
    s_level = _lufs(s_power / s_count)
    speech = float(_lufs(power.sum() / count.sum()))
    if s.target_lufs is None:
        lo, hi = _weighted_quantiles(s_level, s_count, [0.1, 0.9])
        reference = (lo + hi) / 2
    else:
        reference = s.target_lufs
    gains = np.clip(reference - s_level, s.max_cut_db, s.max_boost_db)[stretch]
    # The pause ceiling is relative to what a linear normalizer would do: it raises the file
    # by target - I(source), the chain after us by target - I(levelled), so a pause gain g
    # ends up g + I(source) - I(levelled) over the linear result. I(levelled) barely depends
    # on the pause gains (gated out), so one redraw settles it.
    per_segment = max(1, round(0.1 * rate / detail_frames))
    source_i = _integrated(energies, per_segment)
    ceiling = reference - speech + s.pause_boost_db
    curve = _draw(units, gains, n, step, ceiling, s)
    if math.isfinite(source_i):
        levelled_i = _integrated(energies * 10 ** (curve / 10), per_segment)
        ceiling = levelled_i - source_i + s.pause_boost_db
        curve = _draw(units, gains, n, step, ceiling, s)
    stats = LevelerStats(
        speech_s=float(weight.sum()), stretches=len(bounds) - 1,
        max_boost_db=float(max(gains.max(), 0.0)), max_cut_db=float(min(gains.min(), 0.0)),
        reference_lufs=float(reference), speech_lufs=speech,
        spread_before_db=_spread(power, count, weight, None, s.spread_window_s),
        spread_after_db=_spread(power, count, weight, gains, s.spread_window_s))
    return Leveling(curve, stats, np.asarray(speech_mask, dtype=bool))


def apply(frames: np.ndarray, start_frame: int, curve: np.ndarray,
          detail_frames: int) -> np.ndarray:
    """Frames times the curve, interpolated linearly between the middles of the steps.

    Step k's value holds at frame k * detail_frames + detail_frames // 2; frames before the
    first or after the last middle get the first or last value. The gain of a frame depends
    only on its absolute index, so chunk boundaries do not matter.
    """
    n = len(frames)
    if not n:
        return frames.copy()
    d = detail_frames
    u0 = start_frame - d // 2
    first, last = u0 // d, (u0 + n - 1) // d
    k = np.clip(np.arange(first, last + 2), 0, len(curve) - 1)
    g = np.power(np.float32(10.0), curve[k].astype(np.float32) / np.float32(20.0))
    ramp = np.arange(d, dtype=np.float32) / np.float32(d)
    gain = (g[:-1, None] + (g[1:] - g[:-1])[:, None] * ramp[None, :]).ravel()
    gain = gain[u0 - first * d:u0 - first * d + n]
    if frames.ndim == 1:
        return (frames * gain).astype(frames.dtype, copy=False)
    out = np.empty(frames.shape, dtype=np.result_type(frames.dtype, np.float32))
    for c in range(frames.shape[1]):  # column by column: numpy broadcasts over a short
        np.multiply(frames[:, c], gain, out=out[:, c])  # last axis about 5x slower
    return out


def _lufs(mean_square: np.ndarray | float) -> np.ndarray:
    return _level(np.array(mean_square, dtype=np.float64))


def _box(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average (edges averaged over what there is), in two arrays of len(x):
    a 3-hour file has 2 million steps, and index arrays would triple the leveler's memory."""
    n, h = len(x), width // 2
    c = np.empty(n + 1)
    c[0] = 0.0
    np.cumsum(x, out=c[1:])
    out = np.empty(n)
    inner = max(0, n - width + 1)  # steps whose whole window lies inside: h .. h + inner - 1
    np.subtract(c[width:width + inner], c[:inner], out=out[h:h + inner])
    out[h:h + inner] /= width
    edge = np.r_[0:min(h, n), min(h + inner, n):n] if inner else np.arange(n)
    lo, hi = np.clip(edge - h, 0, n), np.clip(edge - h + width, 0, n)
    out[edge] = (c[hi] - c[lo]) / np.maximum(hi - lo, 1)
    return out


def _level(mean_square: np.ndarray) -> np.ndarray:
    """_lufs in place, for arrays as long as the file."""
    np.maximum(mean_square, _TINY, out=mean_square)
    np.log10(mean_square, out=mean_square)
    mean_square *= 10
    mean_square -= 0.691
    return mean_square


def _speech_mask(energies: np.ndarray, features: VoicingFeatures | None, step: float,
                 s: LevelerSettings) -> tuple[np.ndarray, np.ndarray]:
    """Steps that are speech: (loud steps, the runs they make with short gaps closed).

    Loud is over the local noise floor (and, with features, voiced); runs shorter than
    min_run_s are dropped from both.
    """
    n = len(energies)
    if not n:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    # Noise floor: per second, the lowest 200 ms level; then the lowest within the window.
    # (Arrays as long as the file are freed as soon as they are used: see _box.)
    per_s = max(1, round(1.0 / step))
    smooth = _level(_box(energies, max(1, round(0.2 / step))))
    whole = n // per_s * per_s
    lows = smooth[:whole].reshape(-1, per_s).min(axis=1)
    if whole < n:
        lows = np.append(lows, smooth[whole:].min())
    del smooth
    half = max(1, round(s.floor_window_s / 2))
    padded = np.concatenate([np.full(half, np.inf), lows, np.full(half, np.inf)])
    floor = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1).min(axis=1)
    short = _level(_box(energies, max(1, round(0.05 / step))))
    top = float(np.percentile(short, 99))
    loud = short > max(top - s.range_db, -70.0)
    loud &= short > np.repeat(np.maximum(floor, -100.0) + s.snr_db, per_s)[:n]
    del short
    if features is not None:
        loud = _voiced_only(loud, features, n, step, s)
    runs = _runs(_close_gaps(loud, round(s.join_gap_s / step)))
    runs = runs[(runs[:, 1] - runs[:, 0]) * step >= s.min_run_s]
    mask = np.zeros(n, dtype=bool)
    for a, b in runs:
        mask[a:b] = True
    return loud & mask, mask


def _voiced_only(loud: np.ndarray, features: VoicingFeatures, n: int, step: float,
                 s: LevelerSettings) -> np.ndarray:
    """Keep the loud runs (words, before gaps are closed) that are voiced enough, less any
    unvoiced head or tail longer than unvoiced_edge_s: a breath just before a phrase is
    dropped, the 's' at the end of a word is kept."""
    voiced = np.repeat(features.voicing >= s.voicing_threshold, features.hop_steps)
    voiced = np.concatenate([voiced, np.zeros(max(0, n - len(voiced)), dtype=bool)])[:n]
    edge = round(s.unvoiced_edge_s / step)
    out = np.zeros(n, dtype=bool)
    for a, b in _runs(loud):
        v = np.flatnonzero(voiced[a:b])
        if len(v) >= s.voiced_share * (b - a) and len(v):
            out[max(a, a + v[0] - edge):min(b, a + v[-1] + 1 + edge)] = True
    return out


def _runs(mask: np.ndarray) -> np.ndarray:
    """(start, end) of each run of True, as an (n, 2) int array."""
    padded = np.zeros(len(mask) + 2, dtype=np.int8)  # int8 throughout: see _box
    padded[1:-1] = mask
    edges = np.diff(padded)
    return np.stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)], axis=1)


def _close_gaps(mask: np.ndarray, gap: int) -> np.ndarray:
    runs = _runs(mask)
    out = mask.copy()
    for (_, b), (a, _) in zip(runs[:-1], runs[1:]):
        if a - b < gap:
            out[b:a] = True
    return out


def _units(raw: np.ndarray, mask: np.ndarray, step: float,
           s: LevelerSettings) -> tuple[np.ndarray, np.ndarray]:
    """Runs of speech cut into units of at most unit_max_s: at the dips between words where
    there are any (the dip then lies between two units), evenly where there are none.

    Returns (start, end) steps per unit, and how each unit begins: 0 after a gap of
    join_gap_s or more, 1 after a dip between words, 2 at an even cut in continuous sound.
    """
    longest = max(1, round(s.unit_max_s / step))
    units: list[tuple[int, int]] = []
    kinds: list[int] = []
    words = _runs(raw)
    w = 0
    for _, b in _runs(mask):
        start, end, kind = -1, -1, 0
        while w < len(words) and words[w, 0] < b:
            wa, wb = (int(v) for v in words[w])
            w += 1
            if start < 0:
                start = wa
            elif wb - start > longest:  # close the unit at the dip before this word
                units.append((start, end))
                kinds.append(kind)
                start, kind = wa, 1
            if wb - start > longest:  # one word longer than a unit: cut it evenly
                pieces = -(-(wb - start) // longest)
                cuts = np.linspace(start, wb, pieces + 1).round().astype(int)
                for c0, c1 in zip(cuts[:-2], cuts[1:-1]):
                    units.append((int(c0), int(c1)))
                    kinds.append(kind)
                    kind = 2
                start = int(cuts[-2])
            end = wb
        units.append((start, end))
        kinds.append(kind)
    return np.array(units, dtype=np.int64).reshape(-1, 2), np.array(kinds, dtype=np.int64)


def _partition(series: list[tuple[np.ndarray, np.ndarray]], penalty: np.ndarray) -> np.ndarray:
    """Optimal piecewise-constant fit of per-unit values (PELT, Killick et al. 2012).

    Minimises, over (values, weights) series, sum(weights * (values - stretch mean)^2) plus
    the penalty of each stretch's first unit, exactly; PELT drops start points that can no
    longer win, so it runs in about linear time. Returns the unit indices where stretches
    start, and the number of units at the end.
    """
    m = len(penalty)
    sums = []
    for values, weights in series:
        v = np.where(weights > 0, values, 0.0)
        sums.append([np.concatenate([[0.0], np.cumsum(x)])
                     for x in (weights, weights * v, weights * v * v)])
    start = np.empty(m + 1)  # best cost of units [0, j) plus the penalty of starting at j
    start[0] = 0.0
    prev = np.zeros(m + 1, dtype=np.int64)
    cands = np.array([0], dtype=np.int64)
    for j in range(1, m + 1):
        cost = start[cands].copy()
        for w, s1, s2 in sums:
            dw = w[j] - w[cands]
            d1 = s1[j] - s1[cands]
            cost += (s2[j] - s2[cands]) - d1 * d1 / np.maximum(dw, 1e-9)
        i = int(np.argmin(cost))
        prev[j] = cands[i]
        start[j] = cost[i] + (penalty[j] if j < m else 0.0)
        # A start that already costs more than starting afresh at j never wins later.
        cands = np.append(cands[cost <= start[j]], j)
    bounds = [m]
    while bounds[-1] > 0:
        bounds.append(int(prev[bounds[-1]]))
    return np.array(bounds[::-1], dtype=np.int64)


def _unit_pitch(features: VoicingFeatures, raw: np.ndarray, units: np.ndarray,
                n: int) -> tuple[np.ndarray, np.ndarray]:
    """Median pitch (semitones) of each unit's voiced speech steps, and how many there are."""
    def per_step(x: np.ndarray, fill: float) -> np.ndarray:
        y = np.repeat(x, features.hop_steps)[:n]
        return np.concatenate([y, np.full(n - len(y), fill, dtype=y.dtype)])

    pitch = per_step(features.pitch, 0.0)
    use = per_step(features.voicing, 0.0) >= LevelerSettings.voicing_threshold
    use &= raw
    out = np.zeros(len(units))
    count = np.zeros(len(units))
    for i, (a, b) in enumerate(units):
        p = pitch[a:b][use[a:b]]
        if len(p):
            out[i], count[i] = np.median(p), len(p)
    return out, count


def _integrated(energies: np.ndarray, per_segment: int) -> float:
    """BS.1770 gated loudness from the detail energies (100 ms segments, 400 ms blocks).
    In the package: meter.integrated(meter.windowed(segments, BLOCK_SEGMENTS))."""
    whole = len(energies) // per_segment * per_segment
    seg = energies[:whole].reshape(-1, per_segment).mean(axis=1)
    if len(seg) < 4:
        return -math.inf
    c = np.concatenate([[0.0], np.cumsum(seg)])
    blocks = (c[4:] - c[:-4]) / 4
    kept = blocks[_lufs(blocks) > -70.0]
    if not kept.size:
        return -math.inf
    kept = kept[_lufs(kept) > _lufs(kept.mean()) - 10.0]
    return float(_lufs(kept.mean()))


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: list[float]) -> list[float]:
    order = np.argsort(values)
    c = np.cumsum(weights[order])
    return [float(values[order][min(np.searchsorted(c, q * c[-1]), len(c) - 1)]) for q in qs]


def _draw(units: np.ndarray, gains: np.ndarray, n: int, step: float, ceiling: float,
          s: LevelerSettings) -> np.ndarray:
    """The curve from per-unit gains: held through speech and short gaps, changed in pauses.

    Built as breakpoints (time in steps, dB) joined linearly, then sampled per step.
    """
    t: list[float] = []
    g: list[float] = []

    def point(at: float, value: float) -> None:
        t.append(at)
        g.append(value)

    pause = s.pause_min_s / step
    shape = np.array([s.hold_s, s.fall_s, s.rise_s, s.pre_s]) / step
    switch = s.switch_s / step
    first = gains[0]
    if units[0, 0] >= pause:  # lead-in: the pause gain, rising before the first word
        lead = min(first, ceiling)
        point(0.0, lead)
        point(max(0.0, units[0, 0] - shape[3] - shape[2]), lead)
        point(max(0.0, units[0, 0] - shape[3]), first)
    point(float(units[0, 0]), first)
    for i in range(len(units) - 1):
        end, start, a, b = float(units[i, 1]), float(units[i + 1, 0]), gains[i], gains[i + 1]
        gap = start - end
        if gap >= pause:
            low = min(a, b, ceiling)
            k = min(1.0, gap / shape.sum())  # short pauses get the same shape, quicker
            h, f, r, p = shape * k
            point(end, a)
            point(end + h, a)
            point(end + h + f, low)
            point(start - p - r, low)
            point(start - p, b)
            point(start, b)
        elif a != b:  # a new stretch without a pause: change over the gap, or switch_s
            mid, half = (end + start) / 2, max(gap, switch) / 2
            point(mid - half, a)
            point(mid + half, b)
        else:
            continue
    last = gains[-1]
    point(float(units[-1, 1]), last)
    if n - units[-1, 1] >= pause:  # tail: hold, then ease to the pause gain
        point(units[-1, 1] + shape[0], last)
        point(units[-1, 1] + shape[0] + shape[1], min(last, ceiling))
    # Breakpoints can tie or, for a switch inside speech, run back a little: keep order.
    tt = np.maximum.accumulate(np.array(t))
    gg = np.array(g)
    out = np.empty(n, dtype=np.float32)
    for a in range(0, n, 1 << 18):  # in pieces, so no float64 arrays as long as the file
        b = min(n, a + (1 << 18))
        out[a:b] = np.interp(np.arange(a, b) + 0.5, tt, gg)
    return out


def _spread(power: np.ndarray, count: np.ndarray, weight: np.ndarray,
            gains: np.ndarray | None, window_s: float) -> float:
    """Std (weighted by speech time) of the loudness of consecutive ~window_s of speech."""
    p = power if gains is None else power * 10 ** (gains / 10)
    group = np.floor(np.cumsum(weight) / window_s).astype(np.int64)
    gp, gc, gw = (np.bincount(group, x) for x in (p, count, weight))
    ok = gc > 0
    lv = _lufs(gp[ok] / gc[ok])
    mean = np.average(lv, weights=gw[ok])
    return float(np.sqrt(np.average((lv - mean) ** 2, weights=gw[ok])))
