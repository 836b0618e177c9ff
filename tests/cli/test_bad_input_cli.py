"""Issue 12: every listed bad input gives one line on stderr and exit 2 (or a correct result).

Each case reproduces an input that ended in a traceback, a hang or silently accepted nonsense.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from spectra_helpers import spectra
from typer.testing import CliRunner

from ndp.cli.main import app
from ndp.runfile import load_run
from ndp.spectra.io import spe

runner = CliRunner()


def one_line(r, *needles):
    """Exit 2, one line on stderr naming what was wrong, no traceback."""
    assert r.exit_code == 2, (r.exit_code, r.output, r.exception)
    assert r.stderr.startswith("ndp: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.output
    for needle in needles:
        assert needle in r.stderr, r.stderr


def _edit(run_dir, old, new):
    p = run_dir / "run.toml"
    text = p.read_text()
    assert old in text
    p.write_text(text.replace(old, new))
    return p


@pytest.mark.parametrize(
    ("option", "needle"),
    [(["--channels", "0"], "--channels: expected 1 to 65536, got 0"),
     (["--channels", "1000000"], "--channels"),
     (["--frame-s", "-600"], "--frame-s: expected a duration > 0 s, got -600"),
     (["--frame-s", "nan"], "--frame-s")],
)  # fmt: skip
def test_simulate_options(tmp_path, data_dir, option, needle):
    truth = tmp_path / "truth.csv"
    truth.write_text("depth_um,li_density_rel\n0,1\n5,1\n5.1,0\n60,0\n")
    out = tmp_path / "sim"
    r = runner.invoke(app, ["simulate", str(data_dir / "run_cu_li.toml"), "--truth", str(truth),
                            "-o", str(out), *option])  # fmt: skip
    one_line(r, needle)
    assert not out.exists()


def test_simulated_csv_spectra_carry_their_live_time(tmp_path, data_dir):
    """Read back as 1 s, the Li inventory came out 600x too high."""
    truth = tmp_path / "truth.csv"
    truth.write_text("depth_um,li_density_rel\n0,1\n5,1\n5.1,0\n60,0\n")
    r = runner.invoke(app, ["simulate", str(data_dir / "run_cu_li.toml"), "--truth", str(truth),
                            "-o", str(tmp_path / "sim"), "--file-format", "csv", "--frame-s", "600"])  # fmt: skip
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["info", str(tmp_path / "sim" / "frame_0000.csv"), "-f", "json"])
    row = json.loads(r.stdout)[0]
    assert row["live_time_s"] == 600.0 and row["start"] is not None
    assert row["calibration_keV"] == [-10.0, 0.75]


def test_calibrate_without_the_standard(tmp_path):
    flat = np.random.default_rng(0).poisson(5, 4096)
    ds = spectra(n_frames=1, n_channels=4096)
    ds["counts"] = (("frame", "channel"), flat[None, :])
    spe.write(tmp_path / "flat.Spe", ds)
    one_line(
        runner.invoke(app, ["calibrate", str(tmp_path / "flat.Spe"), "--standard", "li6"]),
        "calibration:",
    )
    one_line(runner.invoke(app, ["calibrate", str(tmp_path / "flat.Spe"), "--peaks", "1193:840,2078:1472"]),
             "no clear peak near channel 1193")  # fmt: skip
    one_line(runner.invoke(app, ["calibrate", str(tmp_path / "flat.Spe"), "--peaks", "9000:840,9500:1472"]),
             "channel 9000 is outside the spectrum")  # fmt: skip


def test_cycles_options_and_own_columns(tmp_path):
    p = tmp_path / "log.csv"
    t = np.arange(0, 7200.0, 60.0)
    pd.DataFrame(
        {"time_s": t, "current_mA": np.where(t < 3600, -0.5, 0.5), "voltage_V": 3.0}
    ).to_csv(p, index=False)
    one_line(
        runner.invoke(app, ["cycles", str(p), "--dead-band", "-1"]),
        "dead band: expected a current >= 0 mA",
    )
    # ndp's own column names were "no current column".
    r = runner.invoke(app, ["cycles", str(p), "-f", "csv"])
    assert r.exit_code == 0, r.output
    row = pd.read_csv(pd.io.common.StringIO(r.stdout)).iloc[0]
    assert row.charge_plated_mAh == pytest.approx(0.5, rel=0.02)


def test_cycles_with_unreadable_rows_says_how_many(tmp_path):
    p = tmp_path / "log.csv"
    rows = ["time_s,current_mA"] + [f"{60 * k},{-0.5 if k < 60 else 0.5}" for k in range(120)]
    rows[10] = "540,nan"
    rows[20] = "1140,abc"
    p.write_text("\n".join(rows) + "\n")
    r = runner.invoke(app, ["cycles", str(p)])
    assert r.exit_code == 0, r.output
    assert "2 row(s) without a readable time or current were skipped" in r.stdout


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [("depth_step_um = 0.1", "depth_step_um = 1e-5", "into 4e+06 cells; expected at most 10000"),
     ("li_region_um = [0.0, 20.0]", "li_region_um = [0.0, 200.0]", "inside the profiled region, 0 to 40 µm")],
)  # fmt: skip
def test_run_file_values_at_the_boundary(run_dir, old, new, needle):
    """depth_step_um = 1e-5 ran 134 s and died with MemoryError; a window past the stack was clipped."""
    p = _edit(run_dir, old, new)
    one_line(runner.invoke(app, ["run", str(p)]), needle, "run.toml, line")
    assert sorted(x.name for x in run_dir.iterdir()) == ["run.toml", "spectra"]


def test_run_file_with_a_byte_order_mark(run_dir):
    p = run_dir / "run.toml"
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    assert load_run(p).name.startswith("Cu|HSE|Li")


def test_run_onto_an_existing_file(run_dir):
    target = run_dir / "results"
    target.write_text("not a folder")
    one_line(
        runner.invoke(app, ["run", str(run_dir / "run.toml"), "-o", str(target), "--force"]),
        "is a file",
    )
    assert target.read_text() == "not a folder"


def test_an_os_error_is_one_line(tmp_path, data_dir, monkeypatch):
    """A read-only folder (a non-root user's) gave a traceback from run, demo and simulate."""
    from pathlib import Path

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    truth = tmp_path / "truth.csv"
    truth.write_text("depth_um,li_density_rel\n0,1\n5,1\n5.1,0\n60,0\n")
    monkeypatch.setattr(Path, "mkdir", refuse)
    r = runner.invoke(app, ["simulate", str(data_dir / "run_cu_li.toml"), "--truth", str(truth),
                            "-o", str(tmp_path / "sim")])  # fmt: skip
    one_line(r, "sim: Permission denied")


def test_help_and_version_say_what_they_do():
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0 and "<bool>" not in r.stdout
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.stdout.startswith("ndp ")
    assert "[sample]" in runner.invoke(app, ["depth", "--help"]).stdout
    assert "cycler logs" in runner.invoke(app, ["info", "--help"]).stdout


def test_info_json_keeps_whole_numbers_and_one_time_format(tmp_path):
    ds = spectra(n_frames=1)
    spe.write(tmp_path / "a.Spe", ds)
    log = tmp_path / "log.csv"
    t = np.arange(0, 7200.0, 60.0)
    pd.DataFrame({"time_s": t, "current_mA": np.where(t < 3600, -0.5, 0.5),
                  "Date": pd.date_range("2020-03-01 09:00", periods=t.size, freq="60s")}).to_csv(log, index=False)  # fmt: skip
    r = runner.invoke(app, ["info", str(tmp_path / "a.Spe"), str(log), "-f", "json"])
    assert r.exit_code == 0, r.output
    spec, cyc = json.loads(r.stdout)
    assert isinstance(spec["frames"], int) and isinstance(cyc["rows"], int)
    assert spec["start"] == "2020-03-01T09:00:00" and cyc["start"] == "2020-03-01T09:00:00"
