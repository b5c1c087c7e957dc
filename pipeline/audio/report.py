"""A loudness report per episode: the numbers as JSON and a before/after plot as PNG."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .master import MasterReport

if TYPE_CHECKING:  # matplotlib loads slowly: only when a report is drawn
    from matplotlib.figure import Figure


def write_report(report: MasterReport, json_path: Path, png_path: Path, target_lufs: float = -16.0,
                 tolerance_lu: float = 1.0) -> None:
    """Write the report's numbers and series as JSON, and the short-term loudness plot."""
    Path(json_path).write_text(json.dumps({**report.to_dict(), "series": report.series},
                                          indent=1), encoding="utf-8")
    figure(report, target_lufs, tolerance_lu).savefig(Path(png_path))


def figure(report: MasterReport, target: float = -16.0, tolerance: float = 1.0) -> Figure:
    """The report's plot: short-term loudness before and after, the target band, where the
    limiter worked, and (leveler on) its gain curve with the speech it heard shaded.

    A Figure of its own, not pyplot's: no global state, so it can be built and inspected
    without drawing, and nothing is left open."""
    from matplotlib.figure import Figure

    step = report.series.get("step_s", [0.1])[0]
    fig = Figure(figsize=(10, 4), dpi=100)
    ax = fig.add_subplot()
    for key, label, colour in (("before_lufs", "before", "0.6"), ("after_lufs", "after", "C0")):
        ys = np.array([np.nan if v is None else v for v in report.series.get(key, [])], float)
        # Short-term values start once the first 3 s window is full.
        ax.plot(3.0 + step * np.arange(len(ys)), ys, color=colour, lw=0.8, label=label)
    ax.axhspan(target - tolerance, target + tolerance, color="C2", alpha=0.15,
               label=f"target {target:.0f} ±{tolerance:.0f} LU")
    gains = np.array(report.series.get("limiter_gain_db", []), float)
    active = np.flatnonzero(gains < -0.01)
    if active.size:
        ax.vlines(step * active, ymin=-70, ymax=-64, color="C3", lw=0.5,
                  label=f"limiter ({report.limited_s:.1f} s, max {report.max_reduction_db:.1f} dB)")
    speech = np.array(report.series.get("speech", []), bool)
    if speech.any():  # shaded where the leveler heard speech
        ax.fill_between(step * np.arange(len(speech)), -70, -66, where=speech, color="C1",
                        alpha=0.35, lw=0, label="speech")
    ax.set_ylim(-70, 0)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("short-term loudness (LUFS)")
    level = np.array([np.nan if v is None else v for v in report.series.get("leveler_gain_db",
                                                                            [])], float)
    if level.size:
        right = ax.twinx()
        right.plot(step * np.arange(len(level)), level, color="C1", lw=0.8,
                   label="leveler gain")
        right.set_ylabel("leveler gain (dB)")
        right.set_ylim(-15, 15)
        right.legend(loc="upper right", fontsize="small")
    ax.set_title(f"{report.input.integrated_lufs:.1f} -> {report.output.integrated_lufs:.1f} LUFS,"
                 f" true peak {report.output.true_peak_dbtp:.1f} dBTP")
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return fig
