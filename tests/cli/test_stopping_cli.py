"""`ndp stopping`: formats, columns, errors."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from srim_files import srim_text
from typer.testing import CliRunner

from ndp import Material
from ndp.cli.main import app

runner = CliRunner()
COLUMNS = ["particle", "energy_keV", "S_electronic_keV_um", "S_nuclear_keV_um", "range_um"]


def test_csv_has_the_contract_columns_and_library_numbers():
    r = runner.invoke(app, ["stopping", "Cu", "--format", "csv", "--energies", "100,500,2055"])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(io.StringIO(r.stdout))
    assert list(df.columns) == COLUMNS
    assert list(df.particle.unique()) == ["alpha", "triton"]
    a = df[(df.particle == "alpha") & (df.energy_keV == 2055)].iloc[0]
    assert a.range_um == pytest.approx(float(Material("Cu").range_um("alpha")), rel=1e-5)


def test_json_and_density_override():
    r = runner.invoke(
        app, ["stopping", "Li", "-p", "triton", "-d", "0.267", "-f", "json", "-e", "2727"]
    )
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert rows[0]["particle"] == "triton"
    # Half the density, twice the range.
    assert rows[0]["range_um"] == pytest.approx(
        2 * float(Material("Li").range_um("triton")), rel=1e-6
    )


def test_table_for_people_and_list():
    r = runner.invoke(app, ["stopping", "LLZO"])
    assert r.exit_code == 0
    assert "# LLZO" in r.stdout and "range of the 2055 keV alpha" in r.stdout
    r = runner.invoke(app, ["stopping", "--list", "-f", "csv"])
    assert r.exit_code == 0 and "stainless steel" in r.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [(["stopping", "Xy2"], "cannot read 'Xy2'"),
     (["stopping", "C2H4O"], "density of 'C2H4O': required"),
     (["stopping", "Cu", "-d", "-1"], "expected a positive number"),
     (["stopping", "Cu", "-p", "neutron"], "unknown particle"),
     (["stopping", "Cu", "-e", "abc"], "--energies"),
     (["stopping", "import-srim", "missing.txt"], "cannot read the file")],
)  # fmt: skip
def test_user_errors_are_one_line_and_exit_2(args, message):
    r = runner.invoke(app, args)
    assert r.exit_code == 2
    assert message in r.stderr
    assert r.stderr.count("\n") == 1
    assert "Traceback" not in r.output


def test_import_srim_prints_the_table_and_the_run_file_line(tmp_path):
    f = tmp_path / "he_in_lipon.txt"
    f.write_text(srim_text(Material("LiPON")))
    r = runner.invoke(app, ["stopping", "import-srim", str(f), "-f", "csv"])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(io.StringIO(r.stdout))
    assert list(df.columns) == COLUMNS and set(df.particle) == {"alpha"}
    table = runner.invoke(app, ["stopping", "import-srim", str(f)])
    assert f'srim = ["{f.resolve()}"]' in table.stdout
    # Nothing was stored anywhere: a name is not a material until a run file says what it is.
    r = runner.invoke(app, ["stopping", "he_in_lipon", "-p", "alpha"])
    assert r.exit_code == 2
