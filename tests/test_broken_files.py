"""Every file in the broken corpus gives one line naming the file (and line), exit 2, no output."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ndp.cli.main import app
from ndp.errors import NdpError
from ndp.io import describe, read_spectra

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
