"""`ndp depth` shows the detector effects and the straggling model a run file chooses."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from ndp.cli.main import app

runner = CliRunner()


def _edge_and_fwhm(stdout: str) -> tuple[float, float]:
    m = re.search(r"triton: surface edge ([\d.]+) keV .*FWHM ([\d.]+) keV", stdout)
    assert m, stdout
    return float(m.group(1)), float(m.group(2))


def test_dead_layer_defect_and_model_move_the_edge(data_dir, tmp_path):
    base = (data_dir / "run_cu_li.toml").read_text()
    r = runner.invoke(app, ["depth", str(data_dir / "run_cu_li.toml"), "--step", "10"])
    assert r.exit_code == 0, r.output
    edge, fwhm = _edge_and_fwhm(r.stdout)
    assert "straggling lindhard-scharff" in r.stdout and "dead layer none" in r.stdout

    extra = (
        'straggling = "bohr"\ndead_layer_material = "Au"\ndead_layer_um = 0.1\n'
        "pulse_height_defect_triton_keV = 9.0\n"
    )
    run = tmp_path / "effects.toml"
    run.write_text(base.replace("[detector]\n", "[detector]\n" + extra))
    r = runner.invoke(app, ["depth", str(run), "--step", "10"])
    assert r.exit_code == 0, r.output
    edge2, fwhm2 = _edge_and_fwhm(r.stdout)
    assert "straggling bohr" in r.stdout and "dead layer 0.1 um Au" in r.stdout
    # 0.1 µm Au takes ~20 keV from a 1.44 MeV triton, the defect 9 keV more.
    assert 20.0 < edge - edge2 < 40.0
    assert fwhm2 > fwhm  # Bohr is wider than Lindhard–Scharff, and the Au straggles too


def test_bad_straggling_key_names_the_line(data_dir, tmp_path):
    run = tmp_path / "bad.toml"
    run.write_text(
        (data_dir / "run_cu_li.toml")
        .read_text()
        .replace("[detector]\n", '[detector]\nstraggling = "landau"\n')
    )
    r = runner.invoke(app, ["depth", str(run)])
    assert r.exit_code == 2
    assert "detector.straggling" in r.output and "line 7" in r.output
