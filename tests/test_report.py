"""The loudness report's plot shows what the leveler did: its gain curve and the speech it heard."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.audio.master import Loudness, MasterReport
from pipeline.audio.report import figure

STEP_S = 0.1


def _report(leveler: bool) -> MasterReport:
    """20 s at 100 ms steps; with the leveler, speech at 2-8 s and 12-18 s, boosted then cut."""
    n = 200
    series = {"before_lufs": [-24.0] * (n - 30), "after_lufs": [-16.0] * (n - 30),
              "limiter_gain_db": [0.0] * n, "step_s": [STEP_S], "frames_per_step": [4410]}
    if leveler:
        speech = np.zeros(n, int)
        speech[20:80] = speech[120:180] = 1
        series["speech"] = speech.tolist()
        series["leveler_gain_db"] = [6.0] * 100 + [-4.0] * 100
    return MasterReport(input=Loudness(-24.0, 5.0, -6.0), output=Loudness(-16.0, 4.0, -1.5),
                        gain_db=8.0, limited_s=0.0, duration_s=20.0, series=series)


def _labelled(fig, label: str) -> list:
    return [a for ax in fig.axes for a in ax.get_children() if a.get_label() == label]


def test_the_plot_draws_the_leveler_gain_curve():
    report = _report(leveler=True)
    (line,) = _labelled(figure(report), "leveler gain")
    assert line.get_ydata().tolist() == report.series["leveler_gain_db"]
    np.testing.assert_allclose(line.get_xdata(), STEP_S * np.arange(200))


def test_the_plot_shades_the_speech_the_leveler_heard():
    (shading,) = _labelled(figure(_report(leveler=True)), "speech")
    spans = sorted((p.vertices[:, 0].min(), p.vertices[:, 0].max())
                   for p in shading.get_paths())
    assert spans == [pytest.approx((2.0, 7.9)), pytest.approx((12.0, 17.9))]


def test_without_the_leveler_the_plot_has_neither():
    fig = figure(_report(leveler=False))
    assert not _labelled(fig, "leveler gain") and not _labelled(fig, "speech")
    assert _labelled(fig, "after")  # the loudness itself is still drawn
