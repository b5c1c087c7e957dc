"""`publish master`: master one recording to MP3 from the command line, without a feed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import ffmpeg
from .config import AudioSettings
from .master import master_to_mp3


@click.command("master")
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="MP3 to write.")
@click.option("--target", type=float, default=AudioSettings().target_lufs, show_default=True,
              help="Integrated loudness target, LUFS.")
@click.option("--true-peak", type=float, default=AudioSettings().true_peak_dbtp,
              show_default=True, help="True-peak ceiling, dBTP.")
@click.option("--bitrate", type=int, default=AudioSettings().bitrate, show_default=True,
              help="MP3 bitrate, kbit/s.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def master_command(input_path: Path, output: Path, target: float, true_peak: float,
                   bitrate: int, as_json: bool) -> None:
    """Bring INPUT to the loudness target with true peaks under the ceiling, as an MP3."""
    try:
        audio = AudioSettings(target_lufs=target, true_peak_dbtp=true_peak, bitrate=bitrate)
    except ValueError as exc:
        raise click.BadParameter(str(exc).splitlines()[-1]) from None
    exe = ffmpeg.find_ffmpeg()
    if as_json or not sys.stderr.isatty():
        report = master_to_mp3(exe, input_path, output, audio)
    else:
        with click.progressbar(length=1000, label="mastering", file=sys.stderr) as bar:
            report = master_to_mp3(exe, input_path, output, audio,
                                   progress=lambda f: bar.update(round(f * 1000) - bar.pos))
    if as_json:
        click.echo(json.dumps({
            "input_lufs": report.input.integrated_lufs, "output_lufs": report.output.integrated_lufs,
            "input_lra": report.input.lra, "output_lra": report.output.lra,
            "input_true_peak_dbtp": report.input.true_peak_dbtp,
            "true_peak_dbtp": report.output.true_peak_dbtp, "gain_db": report.gain_db,
            "limited_s": report.limited_s, "max_reduction_db": report.max_reduction_db,
            "duration_s": report.duration_s, "warnings": report.warnings}))
        return
    click.echo(f"{output}: {report.input.integrated_lufs:.1f} -> "
               f"{report.output.integrated_lufs:.1f} LUFS, true peak "
               f"{report.output.true_peak_dbtp:.1f} dBTP, gain {report.gain_db:+.1f} dB, "
               f"limited {report.limited_s:.1f} s")
    for w in report.warnings:
        click.echo(f"warning: {w}", err=True)
