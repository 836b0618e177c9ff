"""`ndp simulate`: writes spectra that read back, invert to the truth, refuse to overwrite."""

from __future__ import annotations

import numpy as np
from typer.testing import CliRunner

from ndp.cli.main import app
from ndp.spectra.io import expand, read_spectra

runner = CliRunner()


def _truth(path, frames=2):
    depth = np.linspace(0, 60, 601)
    rows = ["frame,depth_um,li_density_rel"]
    for k in range(frames):
        rows += [f"{k},{x:.2f},{1.0 if x < 3 + 2 * k else 0.0}" for x in depth]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_simulate_then_read(tmp_path, data_dir):
    truth = _truth(tmp_path / "truth.csv")
    out = tmp_path / "sim"
    r = runner.invoke(
        app, ["simulate", str(data_dir / "run_cu_li.toml"), "--truth", str(truth), "-o", str(out)]
    )
    assert r.exit_code == 0, r.output
    ds = read_spectra(expand(str(out / "*.Spe")))
    assert ds.sizes["frame"] == 2 and ds.sizes["channel"] == 4096
    assert ds.counts.values[1].sum() > ds.counts.values[0].sum()  # the second profile holds more Li
    assert ds.attrs["calibration"][:2] == [-10.0, 0.75]
    r = runner.invoke(
        app, ["simulate", str(data_dir / "run_cu_li.toml"), "--truth", str(truth), "-o", str(out)]
    )
    assert r.exit_code == 2 and "use --force" in r.stderr
    r = runner.invoke(app, ["simulate", str(data_dir / "run_cu_li.toml"), "--truth", str(truth), "-o", str(out),
                            "--file-format", "n42", "--seed", "3"])  # fmt: skip
    assert r.exit_code == 0 and (out / "spectra.n42").exists()


def test_bad_truth(tmp_path, data_dir):
    bad = tmp_path / "t.csv"
    bad.write_text("x,y\n1,2\n")
    r = runner.invoke(
        app,
        ["simulate", str(data_dir / "run_cu_li.toml"), "--truth", str(bad), "-o", str(tmp_path)],
    )
    assert r.exit_code == 2 and "expected a 'depth_um' column" in r.stderr
