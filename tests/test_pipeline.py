"""`ndp run` end to end on the demo's runs: outputs, provenance, errors, atomicity."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

from ndp.cli.main import app
from ndp.demo import build
from ndp.errors import NdpError
from ndp.physics import units as U
from ndp.pipeline import CYCLE_COLUMNS, run

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    return build(folder, cycles=2)


def test_run_writes_the_contract_outputs(demo_runs, tmp_path):
    info = demo_runs["bare-Cu"]
    result = run(info["run_file"], output=tmp_path / "out")
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "cycles.csv",
        "figures",
        "profiles.nc",
        "summary.txt",
    ]
    ds = xr.open_dataset(out / "profiles.nc")
    for var in ("li_density", "li_density_rel", "li_areal", "li_capacity", "counts"):
        assert var in ds
    assert ds.li_density.dims == ("time", "depth") and ds.counts.dims == ("time", "channel")
    assert ds.li_density.attrs["units"] == U.PER_CM3 and ds.depth.attrs["units"] == U.UM
    assert ds.time.attrs["units"] == U.SECOND and ds.energy.attrs["units"] == U.KEV
    assert ds.attrs["ndp_version"] and json.loads(ds.attrs["config"])["run"]["name"]
    hashes = json.loads(ds.attrs["input_sha256"])
    assert any(k.endswith("run.toml") for k in hashes) and any(
        k.endswith("cell.mpt") for k in hashes
    )
    cyc = pd.read_csv(out / "cycles.csv")
    assert list(cyc.columns[:8]) == CYCLE_COLUMNS
    truth = info["truth"]
    assert np.all(np.abs(cyc.li_efficiency - truth.li_efficiency) < 0.02)
    np.testing.assert_allclose(cyc.coulombic_efficiency, truth.coulombic_efficiency, rtol=1e-3)
    assert "Per cycle" in (out / "summary.txt").read_text()
    for name in ("heatmap", "profiles", "inventory", "efficiency", "spectra"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 10_000
        assert (out / "figures" / f"{name}.pdf").exists()
    assert result.indicators is not None


def test_force_and_never_inputs(demo_runs, tmp_path):
    run_file = demo_runs["ZnO-Cu"]["run_file"]
    out = tmp_path / "o"
    run(run_file, output=out, figures=False)
    with pytest.raises(NdpError, match="exists; use --force"):
        run(run_file, output=out, figures=False)
    run(run_file, output=out, force=True, figures=False)
    with pytest.raises(NdpError, match="holds the input"):
        run(run_file, output=run_file.parent, force=True, figures=False)


def test_an_interrupted_run_leaves_nothing(demo_runs, tmp_path, monkeypatch):
    import ndp.plot

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(ndp.plot, "save_run_figures", boom)
    with pytest.raises(KeyboardInterrupt):
        run(demo_runs["bare-Cu"]["run_file"], output=tmp_path / "x")
    assert list(tmp_path.iterdir()) == []


BAD = [
    ('spectra = "spectra/*.Spe"', 'spectra = "nothing/*.Spe"', "[run.spectra]: nothing/*.Spe: no file matches"),
    ('thickness_um = 10.0', 'thickness_um = "ten"', "expected a number > 0"),
    ('material = "Cu"', 'material = "Kryptonite"', "cannot read 'Kryptonite'"),
    ('cycler = "cycler/cell.mpt"', 'cycler = "run.toml"', "unknown cycler format"),
    ('cycler = "cycler/cell.mpt"', 'cycler = "cycler/none.mpt"', "[run.cycler]: cycler/none.mpt: no such file"),
    ('[beam]', '[beams]', "did you mean [beam]"),
    ('depth_step_um = 0.25', 'depth_step_um = -1', "expected a number > 0"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "message"), BAD, ids=[b[2][:25] for b in BAD])
def test_bad_run_files_exit_2_with_one_line(demo_runs, tmp_path, old, new, message):
    src = demo_runs["bare-Cu"]["run_file"]
    cell = tmp_path / "cell"
    shutil.copytree(src.parent, cell, ignore=shutil.ignore_patterns("run-ndp"))
    text = (cell / "run.toml").read_text()
    assert old in text
    (cell / "run.toml").write_text(text.replace(old, new, 1))
    r = runner.invoke(app, ["run", str(cell / "run.toml"), "--no-figures"])
    assert r.exit_code == 2, r.output
    assert message in r.stderr and r.stderr.count("\n") == 1
    assert not (cell / "run-ndp").exists()


def test_cli_run_prints_the_table(demo_runs, tmp_path):
    r = runner.invoke(
        app,
        ["run", str(demo_runs["ZnO-Cu"]["run_file"]), "-o", str(tmp_path / "r"), "--no-figures"],
    )
    assert r.exit_code == 0, r.output
    assert "Per cycle" in r.stdout and "outputs:" in r.stdout


def _variant(demo_runs, tmp_path, edit):
    """A copy of the bare-Cu demo run with its run file edited."""
    src = demo_runs["bare-Cu"]["run_file"]
    cell = tmp_path / "cell"
    shutil.copytree(src.parent, cell, ignore=shutil.ignore_patterns("run-ndp"))
    (cell / "run.toml").write_text(edit((cell / "run.toml").read_text()))
    return cell


def test_listmode_run_matches_the_spectra_run(demo_runs, tmp_path):
    """Events drawn from the demo's spectra, framed by ndp, give the same efficiencies."""
    from ndp.spectra.io import expand, read_spectra
    from ndp.spectra.io.listmode import write_npz

    def edit(text):
        return text.replace('spectra = "spectra/*.Spe"', 'listmode = "events.npz"\nframe_s = 600')

    cell = _variant(demo_runs, tmp_path, edit)
    spectra = read_spectra(expand(str(cell / "spectra" / "*.Spe")))
    rng = np.random.default_rng(0)
    times, channels = [], []
    for k in range(spectra.sizes["frame"]):
        ch = np.repeat(np.arange(spectra.sizes["channel"]), spectra.counts.values[k])
        times.append(np.sort(600.0 * k + rng.uniform(0, 600.0, ch.size)))
        channels.append(rng.permutation(ch))
    order = [np.argsort(t) for t in times]
    write_npz(cell / "events.npz", np.concatenate(times), np.concatenate([c[o] for c, o in zip(channels, order, strict=True)]),
              start_time=str(spectra.start.values[0].astype("datetime64[s]")))  # fmt: skip
    listmode = run(cell / "run.toml", output=tmp_path / "lm", figures=False)
    assert listmode.spectra.sizes["frame"] == spectra.sizes["frame"]
    assert int(listmode.spectra.counts.sum()) == int(spectra.counts.sum())
    truth = demo_runs["bare-Cu"]["truth"]
    assert np.all(np.abs(listmode.cycles.li_efficiency - truth.li_efficiency) < 0.02)


def test_calibration_fitted_from_a_reference_in_the_run_file(demo_runs, tmp_path):
    from spectra_helpers import b10_spectrum

    from ndp.spectra.calibration import Calibration
    from ndp.spectra.dataset import make_spectra
    from ndp.spectra.io import spe

    def edit(text):
        return text.replace(
            "calibration = [ -10.0, 0.75 ]", 'calibration = "b10.Spe"\ncalibration_standard = "b10"'
        )

    cell = _variant(demo_runs, tmp_path, edit)
    counts = b10_spectrum(Calibration.from_linear(-10.0, 0.75), 20.0)
    spe.write(cell / "b10.Spe", make_spectra(counts, start=[None], live_time_s=3600.0, real_time_s=3600.0,
                                             source="b10", fmt="t"))  # fmt: skip
    result = run(cell / "run.toml", output=tmp_path / "cal", figures=False)
    c0, c1 = result.profiles.attrs["calibration"][:2]
    assert abs(c0 + 10.0) < 1.0 and abs(c1 - 0.75) < 1e-3
    assert np.all(
        np.abs(result.cycles.li_efficiency - demo_runs["bare-Cu"]["truth"].li_efficiency) < 0.02
    )


def test_self_consistent_matrix_and_relative_scale(demo_runs, tmp_path):
    cell = _variant(demo_runs, tmp_path, lambda t: t.replace('li_region_um = [0.0, 25.0]',
                                                              'li_region_um = [0.0, 25.0]\nmatrix = "self-consistent"'))  # fmt: skip
    result = run(cell / "run.toml", output=tmp_path / "sc", figures=False)
    assert "self-consistent" in result.profiles.attrs["matrix"] and "phi" in result.profiles
    rel = _variant(
        demo_runs, tmp_path / "rel", lambda t: t.replace("[beam]\nflux = 1.000e+09\n", "")
    )
    result = run(rel / "run.toml", output=tmp_path / "relout", figures=False)
    assert result.profiles.attrs["scale"] == "relative"
    # The Li efficiency is a ratio: it needs no absolute scale.
    assert np.all(
        np.abs(result.cycles.li_efficiency - demo_runs["bare-Cu"]["truth"].li_efficiency) < 0.02
    )


def test_summary_says_when_inventories_are_relative(demo_runs, tmp_path):
    rel = _variant(demo_runs, tmp_path, lambda t: t.replace("[beam]\nflux = 1.000e+09\n", ""))
    run(rel / "run.toml", output=tmp_path / "o", figures=False)
    assert "arbitrary units" in (tmp_path / "o" / "summary.txt").read_text()
