import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from mutagen.mp3 import MP3

from cli import cli
from conversation import steady_voice
from conversation import write_wav as write_f32_wav
from pipeline.audio import ffmpeg
from pipeline.audio.master import master_to_mp3
from pipeline.audio.report import write_report
from pipeline.errors import PublishError
from pipeline.project.config import AudioSettings
from tests.signals import sine, speech_like, write_wav

EXE = ffmpeg.find_ffmpeg()


def ebur128(path: Path) -> dict:
    """The independent meter: ffmpeg's ebur128 summary of the file."""
    err = subprocess.run([EXE, "-hide_banner", "-nostdin", "-i", str(path), "-af",
                          "ebur128=peak=true:framelog=quiet", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    s = err[err.rfind("Summary:"):]
    return {k: float(re.search(p, s).group(1)) for k, p in
            (("I", r"I:\s+(-?[\d.]+) LUFS"), ("LRA", r"LRA:\s+(-?[\d.]+) LU"),
             ("TP", r"Peak:\s+(-?[\d.]+) dBFS"))}


def mp3_source(tmp: Path, x: np.ndarray) -> Path:
    wav = write_wav(tmp / "pre.wav", x, 44100)
    subprocess.run([EXE, "-v", "error", "-i", str(wav), "-b:a", "192k", str(tmp / "src.mp3")],
                   check=True)
    return tmp / "src.mp3"


SOURCES = {
    "quiet": lambda tmp: write_wav(tmp / "s.wav", speech_like(40, peak=0.05), 44100),
    "loud": lambda tmp: write_wav(tmp / "s.wav", speech_like(40, peak=0.99), 44100),
    "clipped": lambda tmp: write_wav(tmp / "s.wav", np.clip(speech_like(40, peak=3.0), -1, 1),
                                     44100),
    "mono 48k 24-bit": lambda tmp: write_wav(tmp / "s.wav",
                                             speech_like(40, 48000, channels=1, peak=0.3),
                                             48000, width=3),
    "mp3": lambda tmp: mp3_source(tmp, speech_like(40, peak=0.2)),
}


@pytest.mark.parametrize("kind", SOURCES)
def test_mastered_mp3_meets_target_by_an_independent_meter(tmp_path, kind):
    src = SOURCES[kind](tmp_path)
    dst = tmp_path / "out.mp3"
    audio = AudioSettings()
    report = master_to_mp3(EXE, src, dst, audio)
    after = ebur128(dst)
    assert after["I"] == pytest.approx(audio.target_lufs, abs=0.2)
    assert after["TP"] <= audio.true_peak_dbtp + 0.05  # ebur128 prints 0.1 dB steps
    if report.limited_s == 0:
        assert after["LRA"] == pytest.approx(ebur128(src)["LRA"], abs=1.0)
    assert report.output.integrated_lufs == pytest.approx(after["I"], abs=0.3)
    assert not list(tmp_path.glob("*.part"))


def test_limiter_leaves_a_modest_source_alone(tmp_path):
    src = write_wav(tmp_path / "s.wav", speech_like(30, peak=0.05), 44100)
    report = master_to_mp3(EXE, src, tmp_path / "o.mp3", AudioSettings(target_lufs=-23))
    assert report.limited_s == 0 and report.max_reduction_db == 0


def test_intro_and_outro_are_levelled_and_added(tmp_path):
    body = write_wav(tmp_path / "body.wav", speech_like(20, peak=0.3), 44100)
    intro = write_wav(tmp_path / "intro.wav", sine(440, -35, 4, 44100), 44100)
    outro = write_wav(tmp_path / "outro.wav", sine(660, -8, 3, 44100), 44100)
    audio = AudioSettings(intro=intro, outro=outro, crossfade_ms=1000, fade_ms=200)
    dst = tmp_path / "o.mp3"
    report = master_to_mp3(EXE, body, dst, audio)
    assert report.duration_s == pytest.approx(20 + 4 + 3 - 2, abs=0.1)
    # Measure the intro alone: its first 3 s, far from the crossfade, at the body's target.
    head = tmp_path / "head.wav"
    subprocess.run([EXE, "-v", "error", "-i", str(dst), "-t", "2.9", "-ss", "0.3", str(head)],
                   check=True)
    assert ebur128(head)["I"] == pytest.approx(-16, abs=1.0)


def test_trimming_cuts_leading_and_trailing_silence(tmp_path):
    x = np.concatenate([np.zeros((44100 * 5, 2), np.float32), speech_like(20, peak=0.3),
                        np.zeros((44100 * 7, 2), np.float32)])
    src = write_wav(tmp_path / "s.wav", x, 44100)
    report = master_to_mp3(EXE, src, tmp_path / "o.mp3", AudioSettings(trim_silence=True))
    assert report.trimmed_s == pytest.approx(12, abs=0.6)
    assert report.duration_s == pytest.approx(20, abs=0.6)


def test_very_quiet_source_publishes_with_a_warning(tmp_path):
    src = write_wav(tmp_path / "s.wav", speech_like(20, peak=0.002), 44100, width=3)
    report = master_to_mp3(EXE, src, tmp_path / "o.mp3", AudioSettings())
    assert report.gain_db > 30
    assert any("quiet" in w for w in report.warnings)


def _silent(tmp: Path) -> Path:
    return write_wav(tmp / "s.wav", np.zeros((44100 * 5, 2), np.float32), 44100)


def _garbage(tmp: Path) -> Path:
    (tmp / "s.wav").write_bytes(b"this is not audio at all" * 100)
    return tmp / "s.wav"


def _empty(tmp: Path) -> Path:
    (tmp / "s.wav").write_bytes(b"")
    return tmp / "s.wav"


def _header_only(tmp: Path) -> Path:
    path = write_wav(tmp / "s.wav", speech_like(5), 44100)
    path.write_bytes(path.read_bytes()[:44])
    return path


@pytest.mark.parametrize("make", [_silent, _garbage, _empty, _header_only])
def test_bad_source_is_one_error_and_leaves_no_file(tmp_path, make):
    src = make(tmp_path)
    dst = tmp_path / "out.mp3"
    with pytest.raises(PublishError) as err:
        master_to_mp3(EXE, src, dst, AudioSettings())
    assert "\n" not in str(err.value) and str(src) in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.wav"]


def test_master_command_json_contract(tmp_path):
    src = write_wav(tmp_path / "s.wav", speech_like(20, peak=0.2), 44100)
    dst = tmp_path / "o.mp3"
    result = CliRunner().invoke(cli, ["master", str(src), "-o", str(dst), "--json",
                                      "--target", "-19", "--bitrate", "96"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("input_lufs", "output_lufs", "input_lra", "output_lra", "true_peak_dbtp",
                "gain_db", "limited_s", "duration_s"):
        assert isinstance(data[key], float | int), key
    assert data["output_lufs"] == pytest.approx(-19, abs=0.2)
    assert ebur128(dst)["I"] == pytest.approx(-19, abs=0.2)


def test_master_command_error_is_one_line_and_no_json(tmp_path):
    result = CliRunner().invoke(cli, ["master", str(_silent(tmp_path)), "-o",
                                      str(tmp_path / "o.mp3"), "--json"])
    assert result.exit_code != 0 and not isinstance(result.exception, PublishError)
    assert result.stdout == ""
    assert result.stderr.startswith("publish: error: ") and result.stderr.count("\n") == 1


def test_report_writes_json_and_png(tmp_path):
    src = write_wav(tmp_path / "s.wav", speech_like(15, peak=0.9), 44100)
    report = master_to_mp3(EXE, src, tmp_path / "o.mp3", AudioSettings())
    write_report(report, tmp_path / "r.json", tmp_path / "r.png")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["output"]["integrated_lufs"] == report.output.integrated_lufs
    assert len(data["series"]["before_lufs"]) > 100
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "series" not in report.to_dict()
    json.dumps(report.to_dict())


def test_hard_limited_speech_is_encoded_only_once(tmp_path):
    # The limiter's loudness model and the codec headroom land the first MP3 on target, so
    # the corrective second encode (twice the time) stays a safety net.
    src = write_wav(tmp_path / "s.wav", speech_like(40, peak=0.99), 44100)
    report = master_to_mp3(EXE, src, tmp_path / "o.mp3", AudioSettings())
    assert report.max_reduction_db > 3
    assert report.first_encode is None


def _decoded(path: Path, start: float, seconds: float) -> np.ndarray:
    raw = subprocess.run([EXE, "-v", "error", "-ss", str(start), "-t", str(seconds), "-i",
                          str(path), "-f", "f32le", "-ac", "1", "-ar", "44100", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.float32)


def _tone_share(x: np.ndarray, hz: float) -> float:
    """How much of the window's energy sits within 20 Hz of `hz`."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / 44100)
    return float(spectrum[np.abs(freqs - hz) < 20].sum() / spectrum.sum())


def test_bumpers_pause_the_recording_where_they_belong(tmp_path):
    body = write_wav(tmp_path / "body.wav", speech_like(12, peak=0.3), 44100)
    bumper = write_wav(tmp_path / "bumper.wav", sine(1000, -30, 2, 44100), 44100)
    dst = tmp_path / "o.mp3"
    report = master_to_mp3(EXE, body, dst, AudioSettings(), bumpers=[(4.0, bumper),
                                                                      (9.0, bumper)])
    assert report.duration_s == pytest.approx(12 + 2 + 2, abs=0.1)
    # 4.0-6.0 s and 11.0-13.0 s are the bumpers (the second one is later by the first's 2 s).
    for start in (4.3, 11.3):
        assert _tone_share(_decoded(dst, start, 1.4), 1000) > 0.9
    for start, seconds in ((0.5, 3.3), (6.3, 4.5), (13.3, 2.5)):  # before, between, after
        x = _decoded(dst, start, seconds)
        assert np.abs(x).max() > 0.01  # the recording, not a pause in it
        assert _tone_share(x, 1000) < 0.1
    # The bumper was levelled to the target like the body, not left at -30 dBFS.
    clip = tmp_path / "clip.wav"
    subprocess.run([EXE, "-v", "error", "-ss", "4.2", "-t", "1.6", "-i", str(dst), str(clip)],
                   check=True)
    assert ebur128(clip)["I"] == pytest.approx(-16, abs=1.5)


def _decoded_frames(path: Path) -> int:
    """How many sample frames ffmpeg's decoder gives (it trims what the Info header says)."""
    raw = subprocess.run([EXE, "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-"],
                         capture_output=True, check=True).stdout
    return len(raw) // 2


def test_mp3_has_an_info_header_with_its_exact_length(tmp_path):
    """LAME's Info header needs a seekable output: without it players estimate the duration
    and cannot drop the encoder's delay and padding."""
    seconds = 7.3
    src = write_wav(tmp_path / "s.wav", speech_like(seconds, peak=0.3), 44100)
    dst = tmp_path / "a folder's [odd] name: x|y" / "o.mp3"
    dst.parent.mkdir()
    master_to_mp3(EXE, src, dst, AudioSettings())
    first_frame = dst.read_bytes()[:MP3(dst).info.bitrate // 8 * 1152 // 44100 + 1]
    assert b"Info" in first_frame
    frame_s = 1152 / 44100
    decoded = _decoded_frames(dst)
    assert MP3(dst).info.length == pytest.approx(decoded / 44100, abs=frame_s)
    assert decoded / 44100 == pytest.approx(seconds, abs=frame_s)  # delay and padding dropped


def _band_db(x: np.ndarray, lo_hz: float, hi_hz: float) -> float:
    """Energy (dB) of the decoded audio between lo_hz and hi_hz."""
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / 44100)
    return float(10 * np.log10(spectrum[(freqs >= lo_hz) & (freqs < hi_hz)].sum()))


@pytest.mark.parametrize("highpass_hz", [80.0, 0.0])
def test_rumble_is_filtered_out_unless_the_high_pass_is_off(tmp_path, highpass_hz):
    """Traffic or air-conditioning rumble at 31 and 37 Hz, as loud as the voice in energy
    (a K-weighted meter barely hears it, a listener's speakers do): the default 80 Hz
    high-pass takes it down by far more than 10 dB against the voice; 0 keeps it."""
    rec = steady_voice(6, seed=2)
    t = np.arange(len(rec.audio))[:, None] / rec.rate
    x = rec.audio + 0.05 * (np.sin(2 * np.pi * 31 * t) + np.sin(2 * np.pi * 37 * t + 1.0))
    src = write_f32_wav(tmp_path / "rumble.wav", x.astype(np.float32), rec.rate)
    dst = tmp_path / "o.mp3"
    master_to_mp3(EXE, src, dst, AudioSettings(highpass_hz=highpass_hz))
    before, after = _decoded(src, 0, 6), _decoded(dst, 0, 6)
    rumble_cut = (_band_db(before, 25, 45) - _band_db(before, 200, 4000)) \
        - (_band_db(after, 25, 45) - _band_db(after, 200, 4000))
    if highpass_hz:
        assert rumble_cut > 10
    else:
        assert abs(rumble_cut) < 1.5
    # The voice itself is untouched: its band sits where the loudness target puts it,
    # within the little loudness the rumble takes when it stays in.
    assert _band_db(after, 200, 4000) - _band_db(before, 200, 4000) == pytest.approx(
        -16 - ebur128(src)["I"], abs=1.0)
