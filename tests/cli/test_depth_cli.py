"""`ndp depth RUN.toml`."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from typer.testing import CliRunner

from ndp.cli.main import app
from ndp.physics.resolution import depth_scale
from ndp.runfile import load_run

runner = CliRunner()


def test_csv_columns_and_agreement_with_the_library(data_dir):
    run = data_dir / "run_cu_li.toml"
    r = runner.invoke(app, ["depth", str(run), "--format", "csv", "--step", "1"])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(io.StringIO(r.stdout))
    assert list(df.columns[:5]) == [
        "particle",
        "depth_um",
        "energy_keV",
        "dE_dx_keV_um",
        "resolution_um",
    ]
    assert set(df.particle) == {"triton"}  # 10 µm Cu stops the alphas
    cfg = load_run(run)
    ds = depth_scale(cfg.stack, cfg.detector, depth_step_um=1.0)
    assert df.energy_keV.iloc[5] == pytest.approx(
        float(ds.energy_keV.sel(particle="triton", depth=5.0)), rel=1e-5
    )
    assert (df.dE_dx_keV_um < 0).all() and (df.resolution_um > 0).all()


def test_table_and_particle_choice(data_dir, tmp_path):
    text = (
        (data_dir / "run_cu_li.toml")
        .read_text()
        .replace("thickness_um = 10.0", "thickness_um = 0.5")
    )
    run = tmp_path / "thin.toml"
    run.write_text(text)
    r = runner.invoke(app, ["depth", str(run), "--step", "2"])
    assert r.exit_code == 0, r.output
    assert "alpha: surface edge" in r.stdout and "triton: surface edge" in r.stdout
    r = runner.invoke(app, ["depth", str(run), "-p", "alpha", "-f", "json", "--step", "2"])
    assert r.exit_code == 0 and '"triton"' not in r.stdout


def test_errors(data_dir, tmp_path):
    r = runner.invoke(app, ["depth", str(tmp_path / "none.toml")])
    assert r.exit_code == 2 and "run file not found" in r.stderr
    r = runner.invoke(app, ["depth", str(data_dir / "run_cu_li.toml"), "-p", "alpha"])
    assert r.exit_code == 2 and "no alpha escapes" in r.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(
        (data_dir / "run_cu_li.toml").read_text().replace('material = "Cu"', 'material = "Cx"')
    )
    r = runner.invoke(app, ["depth", str(bad)])
    assert r.exit_code == 2 and "line 21 [sample.layers.0.material]" in r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--step", "0"], "--step: expected a depth step > 0"),
        (["--step", "-1"], "--step: expected a depth step > 0"),
        (["--step", "1e-7"], "expected at most 10000"),  # once hung, allocating 7e8 depths
        (["--max-depth", "0"], "--max-depth: expected a depth > 0"),
    ],
)
def test_a_step_that_cannot_be_listed_is_one_line(data_dir, args, message):
    r = runner.invoke(app, ["depth", str(data_dir / "run_cu_li.toml"), *args])
    assert r.exit_code == 2 and message in r.output, r.output
    assert len(r.output.strip().splitlines()) == 1
