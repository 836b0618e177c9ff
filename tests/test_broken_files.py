"""Every file in the broken corpus gives one line naming the file (and line), exit 2, no output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ndp.cli.main import app
from ndp.describe import describe
from ndp.errors import NdpError
from ndp.spectra.io import read_spectra

BROKEN = Path(__file__).parent / "data" / "broken"

CASES = {
    "empty.Spe": (None, "the file is empty"),
    "truncated.Spe": (48, "declares channels 0..63 (64) but holds 40 values"),
    "negative_counts.Spe": (19, "counts of channel 10 must be >= 0"),
    "nonnumeric_counts.Spe": (14, "expected counts of channel 5 (a whole number), got '12a'"),
    "zero_live_time.Spe": (6, "live time must be > 0 s"),
    "live_gt_real.Spe": (6, "live time 700 s exceeds real time 600 s"),
    "truncated.mca": (70, "no <<END>>"),
    "nonnumeric_counts.mca": (14, "got 'x'"),
    "live_gt_real.mca": (3, "live time 610.5 s exceeds real time 600 s"),
    "missing_live_time.txt": (None, "no 'Live Time:' line"),
    "skipped_channel.txt": (36, "expected channel 30, got 31"),
    "nonnumeric.csv": (19, "got 'ten'"),
    "malformed.n42": (4, "not well-formed XML"),
    "backwards_time.csv": (5, "event 3: time goes backwards"),
    "truncated.Chn": (None, "declares 4096 channels but the file holds 100"),
    # Issue 12: each of these gave a traceback or was read as nonsense.
    "nan_counts.Spe": (14, "expected counts of channel 5 (a whole number below 2^53), got 'nan'"),
    "inf_counts.Spe": (14, "got 'inf'"),
    "huge_counts.Spe": (14, "got '1e30'"),
    "year_9999.Spe": (4, "is outside 1950-2200"),
    "nan_live_time.mca": (3, "expected live time (a finite number), got 'nan'"),
    "counted_zeroes.n42": (None, "CountedZeroes run of 1e+12 zeros"),
    "bad_cell_early.csv": (5, "expected counts of channel 2 (a whole number), got 'x3'"),
    "no_live_time.csv": (None, "no live time"),
    "huge_current.csv": (None, "data row 2: current -1e+30 mA"),
    "cut_last_row.csv": (5, "the file ends mid-row"),
    "garbage.h5": (None, "not a readable hdf5 list-mode file"),
    "garbage.parquet": (None, "list-mode file"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_library_error_names_file_and_line(name):
    line, message = CASES[name]
    with pytest.raises(NdpError) as info:
        describe(BROKEN / name)
    text = str(info.value)
    assert name in text and message in text
    assert "\n" not in text
    if line is not None:
        assert f"line {line}:" in text


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_prints_one_line_exit_2_and_writes_nothing(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = sorted(BROKEN.iterdir())
    r = CliRunner().invoke(app, ["info", str(BROKEN / name)])
    assert r.exit_code == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("ndp: error: ")
    assert "Traceback" not in r.output
    assert sorted(BROKEN.iterdir()) == before
    assert list(tmp_path.iterdir()) == []


def test_frames_with_different_channel_counts():
    with pytest.raises(NdpError, match=r"2048 channels, but .*frames_1024ch\.Spe has 1024"):
        read_spectra([BROKEN / "frames_1024ch.Spe", BROKEN / "frames_2048ch.Spe"])


@pytest.mark.parametrize(
    ("name", "message"),
    [("channel_1e15.npz", "event 1: channel 1000000000000000; expected 0 <= channel < 65536"),
     ("time_1e12.npz", "event 1: time 1e+12 s makes 1e+11 frames of 10 s; expected at most 100000")],
)  # fmt: skip
def test_framing_refuses_before_allocating(name, message):
    from ndp.spectra.framing import frame_events
    from ndp.spectra.io.listmode import iter_events

    with pytest.raises(NdpError, match=re.escape(message)):
        frame_events(iter_events(BROKEN / name), frame_s=10.0, source=name)


def test_the_same_frame_twice(tmp_path):
    """A copy of a spectrum under another name would count its Li twice."""
    import shutil

    a = tmp_path / "a.Spe"
    shutil.copy(BROKEN / "frames_1024ch.Spe", a)
    shutil.copy(a, tmp_path / "a_copy.Spe")
    with pytest.raises(NdpError, match="two frames of one detector cannot start together"):
        read_spectra([a, tmp_path / "a_copy.Spe"])
