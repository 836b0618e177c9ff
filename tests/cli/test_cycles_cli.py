"""`ndp cycles`."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ndp.cli.main import app

runner = CliRunner()


def test_cycles_csv_columns(tmp_path):
    t = np.arange(0, 4 * 3600, 60.0)
    i = np.where((t // 3600) % 2 == 0, -0.05, 0.05)
    p = tmp_path / "log.csv"
    pd.DataFrame({"Test_Time(s)": t, "Current(mA)": i, "Voltage(V)": 0.1}).to_csv(p, index=False)
    r = runner.invoke(app, ["cycles", str(p), "--format", "csv", "--area", "2.0"])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(io.StringIO(r.stdout))
    assert list(df.columns[:4]) == [
        "cycle",
        "charge_plated_mAh",
        "charge_stripped_mAh",
        "coulombic_efficiency",
    ]
    assert len(df) == 2 and np.all(np.abs(df.coulombic_efficiency - 1) < 0.02)
    assert df.charge_plated_mAh_cm2.iloc[0] == pytest.approx(
        df.charge_plated_mAh.iloc[0] / 2, rel=1e-5
    )


def test_cycles_errors(tmp_path):
    p = tmp_path / "v.csv"
    pd.DataFrame({"Time(s)": [0, 1], "Voltage(V)": [3.0, 3.0]}).to_csv(p, index=False)
    r = runner.invoke(app, ["cycles", str(p)])
    assert r.exit_code == 2 and "no current column" in r.stderr
    r = runner.invoke(app, ["cycles", str(tmp_path / "missing.csv")])
    assert r.exit_code == 2 and "cannot read the file" in r.stderr
