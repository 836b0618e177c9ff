"""Metamorphic tests: change an input in a way whose effect on the outputs is known exactly.

Each test runs ``ndp run`` end to end on a small simulated operando run (two cycles, 17 frames,
a coarse depth grid) and on a variant of it, and compares the written ``cycles.csv`` and
``profiles.nc``. Absolute truths are not needed, so these relations catch bookkeeping bugs
(a unit divided twice, a scale applied in one place and not another) that a round trip with
every factor equal to 1 cannot see.

The host of the simulated cell (PEO) holds only a trace of Li (10¹⁹ cm⁻³, 2×10⁻⁴ of Li metal):
the host-displacement correction, which mixes in the absolute density of Li metal and so does
not scale with the data, is then 1 to within 2×10⁻⁴, and every scaling relation holds to the
inversion's own rounding. The tolerance, 0.5 %, is far below the factor 2 of any bookkeeping
error. (A host with no Li at all would leave the frames before the first plating without a
single count.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ndp import Material
from ndp.cli.main import app
from ndp.cycling.cycler import write_mpt
from ndp.cycling.cycles import cycles, half_cycles
from ndp.cycling.efficiency import COLUMNS, efficiency_table
from ndp.model.scale import Scale
from ndp.model.simulate import simulate
from ndp.physics import constants as C
from ndp.physics import units as U
from ndp.physics.detector import Detector
from ndp.physics.materials import Stack
from ndp.spectra import reduce as R
from ndp.spectra.calibration import Calibration
from ndp.spectra.dataset import make_spectra
from ndp.spectra.io import spe
from ndp.synthetic import OperandoCell

runner = CliRunner()

CAL = Calibration.from_linear(-10.0, 0.75)
DET = Detector(resolution_keV=20.0, acceptance_half_angle_deg=5.0, solid_angle_sr=1e-2,
               threshold_keV=50.0)  # fmt: skip
FLUX = 1e8
FRAME_S = 1200.0
LIVE_S = 600.0  # half the real time: 50 % dead time
RTOL = 5e-3

RUN_TOML = """\
[run]
name = "metamorphic"
spectra = "spectra/*.Spe"
cycler = "cycler/cell.mpt"
time_zero = "2020-03-01T09:00:00"
cycler_offset_s = 0.0

[detector]
calibration = [ -10.0, 0.75 ]
resolution_keV = 20.0
solid_angle_sr = 0.01
acceptance_half_angle_deg = 5.0
threshold_keV = 50.0

[beam]
flux = 1.0e8

[sample]
area_cm2 = 1.0
li6_abundance = 0.0759

[[sample.layers]]
name = "Cu current collector"
material = "Cu"
thickness_um = 10.0

[[sample.layers]]
name = "polymer host (a trace of Li)"
material = "PEO"
thickness_um = 40.0
profiled = true

[analysis]
depth_step_um = 0.25
li_region_um = [0.0, 15.0]
"""


def _cell() -> OperandoCell:
    return OperandoCell(cycles=2, current_mA_cm2=0.2, plate_h=1.0, li_efficiency=[0.5, 0.7],
                        rest_h=0.5, host_li_cm3=1e19)  # fmt: skip


def _write_spectra(folder: Path, ds: xr.Dataset) -> None:
    (folder / "spectra").mkdir(parents=True, exist_ok=True)
    for p in (folder / "spectra").glob("*.Spe"):
        p.unlink()
    for i in range(ds.sizes["frame"]):
        spe.write(folder / "spectra" / f"frame_{i:04d}.Spe", ds, i)


def _respectra(ds: xr.Dataset, counts, live, real, start) -> xr.Dataset:
    return make_spectra(counts, start=start, live_time_s=live, real_time_s=real, source="variant",
                        fmt="simulated", calibration=list(CAL.coefficients))  # fmt: skip


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The simulated run's folder, its spectra and cycler log, and its `ndp run` outputs."""
    folder = tmp_path_factory.mktemp("metamorphic") / "cell"
    cell = _cell()
    stack = Stack((Material("Cu")(10.0), Material("PEO")(40.0, profiled=True)))
    truth = cell.frame_profiles(FRAME_S, np.linspace(0.0, 40.0, 801))
    spectra = simulate(stack, DET, CAL, truth, scale=Scale.from_beam(FLUX, 1.0, DET.solid_angle_sr),
                       n_channels=2048, live_time_s=LIVE_S, real_time_s=FRAME_S, frame_s=FRAME_S,
                       start=np.datetime64(cell.start), seed=5).drop_vars("expected")  # fmt: skip
    _write_spectra(folder, spectra)
    (folder / "cycler").mkdir()
    log = cell.cycler_log()
    write_mpt(folder / "cycler" / "cell.mpt", log)
    (folder / "run.toml").write_text(RUN_TOML, encoding="utf-8")
    return {"folder": folder, "spectra": spectra, "log": log, "truth": cell.truth,
            "out": _run(folder / "run.toml", folder.parent / "base-out")}  # fmt: skip


def _run(run_file: Path, out: Path) -> dict:
    r = runner.invoke(app, ["run", str(run_file), "-o", str(out), "--no-figures", "--force"])
    assert r.exit_code == 0, r.output
    return {"cycles": pd.read_csv(out / "cycles.csv"), "profiles": xr.load_dataset(out / "profiles.nc"),
            "dir": out}  # fmt: skip


def _variant(base, tmp_path, *, toml=None, spectra=None, log=None) -> dict:
    """Copy the base run, change one thing, run it."""
    folder = tmp_path / "cell"
    shutil.copytree(base["folder"], folder)
    if toml is not None:
        text = (folder / "run.toml").read_text()
        for old, new in toml:
            assert old in text
            text = text.replace(old, new)
        (folder / "run.toml").write_text(text)
    if spectra is not None:
        _write_spectra(folder, spectra)
    if log is not None:
        write_mpt(folder / "cycler" / "cell.mpt", log)
    return _run(folder / "run.toml", tmp_path / "out")


def _li_columns(table: pd.DataFrame) -> list[str]:
    """The NDP inventory columns per cm² (values and errors), not the cycler's charges."""
    return [c for c in table.columns if c.endswith("_mAh_cm2") and not c.startswith("charge_")]


EFFICIENCIES = ["li_efficiency", "li_efficiency_err", "coulombic_efficiency", "efficiency_gap"]


def _assert_li_scaled(variant: dict, base: dict, factor: float, charge_factor: float = 1.0):
    """NDP columns × factor, charges × charge_factor, every efficiency unchanged."""
    v, b = variant["cycles"], base["cycles"]
    assert list(v.columns) == list(b.columns) and list(v.columns[:8]) == COLUMNS
    for col in _li_columns(b):
        np.testing.assert_allclose(v[col], factor * b[col], rtol=RTOL, err_msg=col)
    for col in ("charge_plated_mAh_cm2", "charge_stripped_mAh_cm2"):
        np.testing.assert_allclose(v[col], charge_factor * b[col], rtol=1e-5, err_msg=col)  # %.6g
    for col in EFFICIENCIES:
        # The gap is a difference of two efficiencies near each other: it carries their
        # absolute tolerance, not RTOL of its own small value.
        atol = RTOL * float(np.abs(b["li_efficiency"]).max()) if col == "efficiency_gap" else 1e-6
        np.testing.assert_allclose(v[col], b[col], rtol=RTOL, atol=atol, err_msg=col)
    # The inventories in profiles.nc too. (Not every depth bin: an inversion may bound the density
    # by what the matrix can hold, an absolute limit that rightly does not scale with the data.)
    pv, pb = variant["profiles"], base["profiles"]
    for var in ("li_areal", "li_areal_err", "li_capacity", "li_capacity_err"):
        np.testing.assert_allclose(pv[var], factor * pb[var], rtol=RTOL, atol=1e-9 * float(pb[var].max()),
                                   err_msg=var)  # fmt: skip
    np.testing.assert_array_equal(pv.counts, pb.counts)


def _assert_within_errors(t: pd.DataFrame, b: pd.DataFrame, n_sigma: float = 2.0) -> None:
    for col, err in (("plated_mAh_cm2", "plated_err_mAh_cm2"), ("stripped_mAh_cm2", "stripped_err_mAh_cm2"),
                     ("inactive_li_mAh_cm2", "inactive_li_err_mAh_cm2"), ("li_efficiency", "li_efficiency_err")):  # fmt: skip
        assert np.all(np.abs(t[col] - b[col]) <= n_sigma * np.hypot(t[err], b[err])), col


def test_the_base_run_recovers_its_truth(base):
    """The relations below are only worth checking on a run that works."""
    t, truth = base["out"]["cycles"], base["truth"]
    np.testing.assert_allclose(t.plated_mAh_cm2, truth.plated_mAh_cm2, rtol=0.05)
    assert np.all(np.abs(t.li_efficiency - truth.li_efficiency) <= np.maximum(0.02, 2 * t.li_efficiency_err))
    np.testing.assert_allclose(t.charge_plated_mAh_cm2, truth.charge_plated_mAh_cm2, rtol=1e-3)
    # ndp's own simulator and declared instrument: the fit must find the window it was given.
    # (The spectrum ends 80 keV above the surface edge; a window fitted thinner once hid the
    # surface Li beyond the last channel and read the deposit 8 µm deep.)
    attrs = base["out"]["profiles"].attrs
    assert abs(attrs["instrument_window_scale"] - 1.0) < 0.01, attrs["instrument_window_scale"]


def test_doubling_the_area_halves_every_per_cm2_column(base, tmp_path):
    v = _variant(base, tmp_path, toml=[("area_cm2 = 1.0", "area_cm2 = 2.0")])
    _assert_li_scaled(v, base["out"], 0.5, charge_factor=0.5)


def test_doubling_the_flux_halves_the_li(base, tmp_path):
    v = _variant(base, tmp_path, toml=[("flux = 1.0e8", "flux = 2.0e8")])
    _assert_li_scaled(v, base["out"], 0.5)


def test_doubling_the_live_time_halves_the_li(base, tmp_path):
    """Same counts in twice the live time (no dead time instead of 50 %): half the Li."""
    s = base["spectra"]
    doubled = _respectra(s, s.counts.values, 2 * s.live_time_s.values, s.real_time_s.values,
                         s.start.values)  # fmt: skip
    v = _variant(base, tmp_path, spectra=doubled)
    _assert_li_scaled(v, base["out"], 0.5)


def test_doubling_the_li6_abundance_halves_the_li(base, tmp_path):
    v = _variant(base, tmp_path, toml=[("li6_abundance = 0.0759", "li6_abundance = 0.1518")])
    _assert_li_scaled(v, base["out"], 0.5)


def test_shifting_the_cycler_clock_by_a_known_offset_gives_the_same_table(base, tmp_path):
    offset = 1234.5  # the cycler's computer runs 20 min 34.5 s ahead
    log = base["log"].copy()
    log.attrs = dict(base["log"].attrs, start=base["log"].attrs["start"] + pd.Timedelta(seconds=offset))
    v = _variant(base, tmp_path, log=log, toml=[("cycler_offset_s = 0.0", f"cycler_offset_s = {-offset}")])
    pd.testing.assert_frame_equal(v["cycles"], base["out"]["cycles"], rtol=1e-9, atol=1e-9)
    # Without the offset the half cycles land 1234.5 s later on the NDP clock.
    w = _variant(base, tmp_path / "no-offset", log=log)
    np.testing.assert_allclose(w["cycles"].plate_start_s - base["out"]["cycles"].plate_start_s, offset)


def test_splitting_every_frame_in_two_keeps_the_inventory(base, tmp_path):
    """The same cell measured in half-length frames: each pair sums to a whole frame.

    The half frames are simulated as what they are (each the average over its own half of the
    time, with half the live time), and the whole frames are their sums, so both runs are
    physically valid measurements of the same counts. (Thinning a whole frame's counts into
    two would not be: both halves would carry the whole frame's time average.) The inventory
    is a rate, so each pair's mean is its whole frame's; and the per-cycle results agree
    within their errors (the frame-averaging fit resolves plating and stripping better with
    the shorter frames, so not exactly).
    """
    cell = _cell()
    stack = Stack((Material("Cu")(10.0), Material("PEO")(40.0, profiled=True)))
    truth = cell.frame_profiles(FRAME_S / 2, np.linspace(0.0, 40.0, 801))
    halves = simulate(stack, DET, CAL, truth, scale=Scale.from_beam(FLUX, 1.0, DET.solid_angle_sr),
                      n_channels=2048, live_time_s=LIVE_S / 2, real_time_s=FRAME_S / 2,
                      frame_s=FRAME_S / 2, start=np.datetime64(cell.start), seed=9).drop_vars("expected")  # fmt: skip
    n = halves.sizes["frame"] // 2 * 2
    halves = halves.isel(frame=slice(0, n))
    pair = lambda a: a.reshape(n // 2, 2, *a.shape[1:]).sum(axis=1)  # noqa: E731
    whole = _respectra(halves, pair(halves.counts.values), pair(halves.live_time_s.values),
                       pair(halves.real_time_s.values), halves.start.values[::2])  # fmt: skip
    assert int(whole.counts.sum()) == int(halves.counts.sum())
    h = _variant(base, tmp_path / "halves", spectra=halves)
    w = _variant(base, tmp_path / "whole", spectra=whole)
    ph, pw = h["profiles"], w["profiles"]
    assert ph.sizes["time"] == 2 * pw.sizes["time"]
    pairs = ph.li_capacity.values.reshape(-1, 2).mean(axis=1)
    full = pw.li_capacity.values
    err = np.hypot(pw.li_capacity_err.values, ph.li_capacity_err.values.reshape(-1, 2).mean(axis=1))
    assert np.all(np.abs(pairs - full) <= np.maximum(0.01 * full, 2 * err))
    _assert_within_errors(h["cycles"], w["cycles"])
    # And both find the truth.
    for t in (h["cycles"], w["cycles"]):
        np.testing.assert_allclose(t.plated_mAh_cm2, cell.truth.plated_mAh_cm2, rtol=0.05)


def test_rerunning_gives_identical_outputs(base, tmp_path):
    again = _run(base["folder"] / "run.toml", tmp_path / "again")
    first = base["out"]["dir"]
    assert (again["dir"] / "cycles.csv").read_bytes() == (first / "cycles.csv").read_bytes()
    assert (again["dir"] / "summary.txt").read_text() == (first / "summary.txt").read_text()
    xr.testing.assert_equal(again["profiles"], base["out"]["profiles"])


# -- the blank, through ndp.spectra.reduce -----------------------------------------------------------


def _blank_run(base, tmp_path, blank: xr.Dataset, background_cps: float = 0.002) -> dict:
    """The base run with a flat beam-on background added to every frame and a blank measured."""
    s = base["spectra"]
    rng = np.random.default_rng(3)
    counts = s.counts.values + rng.poisson(background_cps * s.live_time_s.values[:, None],
                                           size=s.counts.shape)  # fmt: skip
    noisy = _respectra(s, counts, s.live_time_s.values, s.real_time_s.values, s.start.values)
    folder = tmp_path / "cell"
    shutil.copytree(base["folder"], folder)
    _write_spectra(folder, noisy)
    (folder / "blank").mkdir()
    for i in range(blank.sizes["frame"]):
        spe.write(folder / "blank" / f"blank_{i}.Spe", blank, i)
    text = (folder / "run.toml").read_text().replace('cycler = "cycler/cell.mpt"',
                                                     'cycler = "cycler/cell.mpt"\nbackground = "blank/*.Spe"')  # fmt: skip
    (folder / "run.toml").write_text(text)
    return folder


def _blank(live_s: float, counts_scale: int = 1, background_cps: float = 0.002, calibration=None):
    rng = np.random.default_rng(4)
    counts = rng.poisson(background_cps * live_s / counts_scale, size=2048) * counts_scale
    return make_spectra(counts, start=[np.datetime64("2020-03-02T00:00:00")], live_time_s=live_s,
                        real_time_s=live_s, source="blank", fmt="simulated",
                        calibration=list(calibration or CAL.coefficients))  # fmt: skip


def test_a_blank_scaled_by_live_time_is_what_it_measures_per_second(base, tmp_path):
    """The same blank rate recorded over 2× the time (2× the counts) subtracts the same."""
    one = _blank_run(base, tmp_path / "a", _blank(20_000.0))
    two = _blank_run(base, tmp_path / "b", _blank(40_000.0, counts_scale=2))
    a, b = _run(one / "run.toml", tmp_path / "a-out"), _run(two / "run.toml", tmp_path / "b-out")
    pd.testing.assert_frame_equal(a["cycles"], b["cycles"], rtol=1e-6)
    # With its blank subtracted, the run with background gives what the clean run gives.
    _assert_within_errors(a["cycles"], base["out"]["cycles"])


def test_a_blank_with_another_calibration_is_refused(base, tmp_path):
    folder = _blank_run(base, tmp_path, _blank(20_000.0, calibration=(-12.0, 0.75)))
    r = runner.invoke(app, ["run", str(folder / "run.toml"), "--no-figures"])
    assert r.exit_code == 2, r.output
    assert "[run.background]" in r.stderr and "calibration" in r.stderr
    assert r.stderr.count("\n") == 1


# -- property tests on the pieces ------------------------------------------------------------


def _profiles(cell: OperandoCell, frame_s: float, scale: float, absolute: bool = True) -> xr.Dataset:
    """Frame-averaged inventories of a cell (mAh/cm², × scale), as invert would report them."""
    starts = np.arange(0.0, cell.end_s - 1e-9, frame_s)
    sub = (np.arange(16) + 0.5) / 16 * frame_s
    active, inactive = cell._state(starts[:, None] + sub[None, :])
    inv = scale * (active + inactive).mean(axis=1)
    return xr.Dataset(
        {"li_capacity": ("time", inv), "li_capacity_err": ("time", 1e-3 * scale + 0 * inv)},
        coords={"time": starts + frame_s / 2, "real_time_s": ("time", np.full(starts.size, frame_s))},
        attrs={"scale": "beam" if absolute else "relative"},
    )  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(area=st.floats(0.1, 20.0), k=st.floats(0.1, 10.0), frame_s=st.sampled_from([300.0, 600.0, 900.0]))
def test_efficiency_table_scales_like_its_inputs(area, k, frame_s):
    """Inventory × k → Li columns × k; area × a → charges / a; efficiencies never move."""
    cell = _cell()
    log = cell.cycler_log()
    halves = half_cycles(log)
    table = cycles(halves)
    ref = efficiency_table(_profiles(cell, frame_s, 1.0), halves, table, area_cm2=1.0)
    got = efficiency_table(_profiles(cell, frame_s, k), halves, table, area_cm2=area)
    for col in _li_columns(ref):
        np.testing.assert_allclose(got[col], k * ref[col], rtol=1e-9, atol=1e-15, err_msg=col)
    for col in ("charge_plated_mAh_cm2", "charge_stripped_mAh_cm2"):
        np.testing.assert_allclose(got[col], ref[col] / area, rtol=1e-12)
    for col in ("li_efficiency", "li_efficiency_err", "coulombic_efficiency"):
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-9)
    assert got.attrs["absolute"]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 9), live=st.floats(10.0, 1e4), monitor=st.booleans(), seed=st.integers(0, 99))
def test_blank_counts_depend_on_the_blank_rate_only(n, live, monitor, seed):
    """A blank n times longer with n times the counts subtracts the same, with 1/n the variance."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(5.0, size=(3, 64))
    mon = [1e4, 2e4, 4e4] if monitor else None
    ds = make_spectra(counts, start=[None] * 3, live_time_s=[100.0, 200.0, 300.0], real_time_s=400.0,
                      monitor=mon, source="s", fmt="t")  # fmt: skip
    b = rng.poisson(3.0, size=64)
    blank = make_spectra(b, start=[None], live_time_s=live, real_time_s=live, monitor=1e5 if monitor else None,
                         source="b", fmt="t")  # fmt: skip
    longer = make_spectra(n * b, start=[None], live_time_s=n * live, real_time_s=n * live,
                          monitor=n * 1e5 if monitor else None, source="b", fmt="t")  # fmt: skip
    one, many = R.blank_counts(ds, blank), R.blank_counts(ds, longer)
    assert one.attrs["by"] == many.attrs["by"] == ("monitor" if monitor else "live_time")
    np.testing.assert_allclose(many.counts, one.counts, rtol=1e-12)
    np.testing.assert_allclose(many.variance, one.variance / n, rtol=1e-12)
    sub = R.subtract_background(ds, longer)
    np.testing.assert_allclose(sub.counts, ds.counts - one.counts, rtol=1e-12)


def test_flux_weights_follow_the_monitor_rate():
    ds = make_spectra(np.ones((3, 8)), start=[None] * 3, live_time_s=[90.0, 80.0, 70.0],
                      real_time_s=[100.0, 100.0, 200.0], monitor=[1e4, 2e4, 3e4], source="s", fmt="t")  # fmt: skip
    rate = np.array([1e2, 2e2, 1.5e2])
    np.testing.assert_allclose(R.flux_weights(ds), rate / rate.mean())
    assert R.flux_weights(ds.assign_coords(monitor=("frame", [1e4, np.nan, 3e4]))) is None


# -- outputs follow their readers' conventions -----------------------------------------------


def test_profiles_nc_is_cf_and_opens_with_cf_xarray(base):
    import cf_xarray  # noqa: F401  (registers ds.cf)

    ds = xr.open_dataset(base["out"]["dir"] / "profiles.nc")
    try:
        assert ds.attrs["Conventions"] == U.CONVENTIONS == "CF-1.10"
        known = {U.KEV, U.UM, U.SECOND, U.PER_CM3, U.PER_CM2, U.MAH_PER_CM2, U.COUNT, U.ONE}
        for name, var in ds.variables.items():
            if name.endswith("_bounds") or np.issubdtype(var.dtype, np.datetime64):
                continue
            assert "long_name" in var.attrs, name
            if "units" in var.attrs:
                assert var.attrs["units"] in known, (name, var.attrs["units"])
        assert ds.li_density.attrs["units"] == U.PER_CM3
        assert ds.li_capacity.attrs["units"] == U.MAH_PER_CM2
        # Each value points at its 1σ error, and cf_xarray follows the link.
        for var in ("li_density", "li_areal", "li_capacity"):
            assert ds[var].attrs["ancillary_variables"] == f"{var}_err"
            assert ds.cf.get_associated_variable_names(var)["ancillary_variables"] == [f"{var}_err"]
        assert ds.cf.bounds == {"time": ["time_bounds"], "depth": ["depth_bounds"]}
        np.testing.assert_allclose(ds.depth_bounds.values[:, 1] - ds.depth_bounds.values[:, 0],
                                   np.diff(ds.depth_edges.values))  # fmt: skip
        assert ds.cf.standard_names["time"] == ["start"]
        assert ds.cf["li_density"].dims == ("time", "depth")
    finally:
        ds.close()


def test_cycles_csv_columns_carry_their_units(base):
    cols = list(base["out"]["cycles"].columns)
    assert cols[:8] == COLUMNS
    for c in cols:
        assert c == "cycle" or c.endswith(("_mAh_cm2", "_s")) or "efficiency" in c or c == "valid", c


def test_one_li_metal_density():
    li = Material("Li")
    assert li.li_atoms_cm3 == C.LI_METAL_ATOMS_CM3 == Material("Li metal").li_atoms_cm3
    assert li.li_density_rel == 1.0
    assert abs(C.LI_METAL_ATOMS_CM3 / 4.6338e22 - 1) < 1e-4
    assert round(C.LI_METAL_ATOMS_CM3 / 1e22, 2) == 4.63  # the README's rounded value
    assert li.density_g_cm3 == C.LI_METAL_DENSITY_G_CM3 == 0.534


def test_no_code_branches_on_a_unit_string():
    """Unit strings are written into attrs, never read back to decide anything."""
    import re

    import ndp

    pkg = Path(ndp.__file__).parent
    reading = re.compile(r"""attrs(\.get\(\s*|\[\s*)["'](units|inventory_units)["']\s*(\)|\](?!\s*=[^=]))""")
    literal = re.compile(r"4\.63e22|4\.6338e22|\b0\.534\b")
    for path in pkg.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not reading.search(text), f"{path.name} reads a unit attribute"
        if path.name != "constants.py":
            assert not literal.search(text), f"{path.name} spells a Li-metal constant"
