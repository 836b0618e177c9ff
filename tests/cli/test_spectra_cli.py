"""`ndp info` and `ndp calibrate`."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from spectra_helpers import b10_spectrum, spectra
from typer.testing import CliRunner

from ndp.cli.main import app
from ndp.spectra.calibration import Calibration
from ndp.spectra.dataset import make_spectra
from ndp.spectra.io import n42, spe

runner = CliRunner()


def test_info_table_and_json(tmp_path):
    n42.write(tmp_path / "a.n42", spectra())
    r = runner.invoke(app, ["info", str(tmp_path / "a.n42")])
    assert r.exit_code == 0 and "frames" in r.stdout and "n42" in r.stdout
    r = runner.invoke(app, ["info", str(tmp_path / "a.n42"), "-f", "json"])
    assert json.loads(r.stdout)[0]["channels"] == 512


@pytest.fixture
def b10_file(tmp_path):
    truth = Calibration.from_linear(-12.45, 0.7144)
    counts = b10_spectrum(truth, 22.0)
    ds = make_spectra(
        counts, start=[None], live_time_s=3600.0, real_time_s=3600.0, source="b10", fmt="t"
    )
    return spe.write(tmp_path / "b10.Spe", ds), truth


def test_calibrate_b10(b10_file):
    path, _truth = b10_file
    r = runner.invoke(app, ["calibrate", str(path), "--standard", "b10", "-f", "csv"])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(io.StringIO(r.stdout))
    assert list(df.label) == ["alpha_1472", "alpha_1776", "li7_840", "li7_1013"]
    assert (df.residual_keV.abs() < 1).all()
    r = runner.invoke(app, ["calibrate", str(path), "--standard", "b10"])
    assert "calibration = [ -12." in r.stdout and "FWHM" in r.stdout


def test_calibrate_user_peaks(b10_file):
    path, _truth = b10_file
    r = runner.invoke(app, ["calibrate", str(path), "--peaks", "840,1472"])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [([], "either --standard"), (["--standard", "c12"], "expected b10 or li6"),
     (["--peaks", "1472"], "at least two"), (["--peaks", "a,b"], "--peaks: expected keV"),
     (["--standard", "b10", "--order", "3"], "--order")],
)  # fmt: skip
def test_calibrate_errors(b10_file, args, message):
    r = runner.invoke(app, ["calibrate", str(b10_file[0]), *args])
    assert r.exit_code == 2 and message in r.stderr


def test_info_on_a_cycler_log_and_on_something_else(tmp_path):
    import pandas as pd

    p = tmp_path / "log.csv"
    pd.DataFrame(
        {"Test_Time(s)": [0.0, 60.0, 120.0, 180.0], "Current(mA)": [-1.0, -1.0, 1.0, 1.0]}
    ).to_csv(p, index=False)
    r = runner.invoke(app, ["info", str(p)])
    assert r.exit_code == 0 and "cycler log" in r.stdout and "half_cycles" in r.stdout
    q = tmp_path / "notes.txt"
    q.write_text("just some words\nand more words\n")
    r = runner.invoke(app, ["info", str(q)])
    assert r.exit_code == 2 and "ndp reads spectra (" in r.stderr and "cycler logs (" in r.stderr
