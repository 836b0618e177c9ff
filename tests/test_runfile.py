"""The run file: a good one loads; each kind of mistake names its line and key."""

from __future__ import annotations

import datetime as dt

import pytest

from ndp.errors import ConfigError
from ndp.runfile import load_run, parse_run


@pytest.fixture
def good(data_dir):
    return (data_dir / "run_cu_li.toml").read_text()


def test_the_contract_example_loads(data_dir):
    cfg = load_run(data_dir / "run_cu_li.toml")
    assert cfg.name == "Cu|HSE|Li, 0.05 mA/cm2"
    assert [layer.material.name for layer in cfg.stack] == ["Cu", "Li"]
    assert cfg.stack.profiled.thickness_um == 40.0
    assert cfg.detector.resolution_keV == 25.0
    assert cfg.detector.acceptance_half_angle_deg == 5.0
    assert cfg.calibration == (-10.0, 0.75)
    assert cfg.time_zero == dt.datetime(2020, 3, 1, 9, 0)
    assert cfg.analysis.li_region_um == (0.0, 20.0)
    assert cfg.spectra == ("spectra/*.Spe",)
    assert cfg.resolve("spectra/x.Spe") == data_dir / "spectra" / "x.Spe"
    assert cfg.flux == 1e7 and cfg.li6_abundance == 0.0759


def test_mixture_material(good):
    text = good.replace(
        'material = "Li"\ndensity = 0.534',
        'material = { mix = [["PEO", 0.6], ["LiTFSI", 0.2], ["SN", 0.1], ["LAGP", 0.1]], by = "weight" }',
    )
    cfg = parse_run(text, path="run.toml")
    assert "LAGP" in cfg.stack.profiled.material.name
    assert cfg.stack.profiled.material.li_atoms_cm3 > 0


@pytest.mark.parametrize("method", ["bragg", "corrected"])
def test_a_layer_chooses_its_stopping_method(good, method):
    text = good.replace(
        'material = "Li"\ndensity = 0.534',
        f'material = {{ mix = [["PEO", 0.9], ["LiTFSI", 0.1]], by = "weight" }}\nstopping = "{method}"',
    )
    cfg = parse_run(text, path="run.toml")
    assert cfg.stack.profiled.material.stopping_method == method


BROKEN = [
    ('thickness_um = 40.0', 'thickness_um = -4', 29, "sample.layers.1.thickness_um", "expected a number > 0, got -4"),
    ('thickness_um = 40.0', 'thickness_um = "40"', 29, "sample.layers.1.thickness_um", "expected a number > 0"),
    ('material = "Li"', 'material = "Xy2"', 27, "sample.layers.1.material", "unknown element Xy"),
    ('material = "Li"', 'material = "Unobtainium"', 27, "sample.layers.1.material", "cannot read 'Unobtainium'"),
    ('density = 8.96', 'densty = 8.96', 22, "sample.layers.0.densty", "did you mean 'density'"),
    ('density = 8.96', 'density = 0', 22, "sample.layers.0.density", "expected a number > 0"),
    ('profiled = true', 'profiled = "yes"', 30, "sample.layers.1.profiled", "expected true or false"),
    ('profiled = true', '', 15, "sample.layers", "exactly one layer must have profiled = true, found 0"),
    ('name = "Cu current collector"', 'name = "Cu"\nprofiled = true', 31, "sample.layers.1.profiled", "found 2"),
    ('[beam]', '[beem]', 12, "beem", "did you mean [beam]"),
    ('resolution_keV = 25.0', 'resolution_keV = -25.0', 8, "detector.resolution_keV", "expected a number > 0"),
    ('acceptance_half_angle_deg = 5.0', 'acceptance_half_angle_deg = 95.0', 10, "detector.acceptance_half_angle_deg", "0 <= angle < 90"),
    ('calibration = [ -10.0, 0.75 ]', 'calibration = [ -10.0 ]', 7, "detector.calibration", "[offset_keV, slope_keV_per_channel]"),
    ('li6_abundance = 0.0759', 'li6_abundance = 7.59', 17, "sample.li6_abundance", "a fraction in (0, 1]"),
    ('li_region_um = [0.0, 20.0]', 'li_region_um = [20.0, 0.0]', 36, "analysis.li_region_um", "0 <= start < end"),
    ('method = "inversion"', 'method = "magic"', 34, "analysis.method", "'direct' or 'inversion'"),
    ('time_zero = "2020-03-01T09:00:00"', 'time_zero = "yesterday"', 4, "run.time_zero", "ISO 8601"),
    ('spectra = "spectra/*.Spe"', 'spectra = "a"\nlistmode = "b.h5"', 4, "run.listmode", "not both"),
    ('flux = 1.0e7', 'flux = [1', None, None, "not valid TOML"),
    ('method = "inversion"', 'method = "inversion"\nmatrix = "auto"', 35, "analysis.matrix", "'fixed' or 'self-consistent'"),
    ('time_zero = "2020-03-01T09:00:00"', 'time_zero = "2020-03-01T09:00:00"\nplating = "down"', 5, "run.plating", "'negative' or 'positive'"),
    ('resolution_keV = 25.0', 'resolution_keV = 25.0\ncalibration_standard = "c12"', 9, "detector.calibration_standard", "'b10' or 'li6'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "message"), BROKEN, ids=[b[4][:30] for b in BROKEN]
)
def test_mistakes_name_line_and_key(good, old, new, line, key, message):
    assert old in good
    with pytest.raises(ConfigError) as info:
        parse_run(good.replace(old, new, 1), path="run.toml")
    err = info.value
    text = str(err)
    assert "\n" not in text
    assert message in text
    assert text.startswith("run.toml")
    if line is not None:
        assert err.line == line, text
    if key is not None:
        assert err.key == key, text


def test_missing_sample_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"missing section \[sample\]"):
        parse_run("[run]\nname = 'x'\n", path="r.toml")
    with pytest.raises(ConfigError, match="run file not found"):
        load_run(tmp_path / "nope.toml")
