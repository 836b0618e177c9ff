"""Li efficiency from a simulated operando run with known truth; the frame-averaging fit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from profile_helpers import CAL, CU, detector

from ndp import Material
from ndp.cycling.cycles import cycles, half_cycles
from ndp.cycling.efficiency import align, efficiency_table, fit_inventory
from ndp.cycling.indicators import indicators
from ndp.errors import NdpError
from ndp.model.invert import invert
from ndp.model.scale import Scale
from ndp.model.simulate import simulate
from ndp.synthetic import OperandoCell

HSE = Material.mix(
    [("PEO", 0.6), ("LiTFSI", 0.2), ("SN", 0.1), ("LAGP", 0.1)], by="weight", name="HSE"
)


@settings(max_examples=30, deadline=None)
@given(knot_values=st.lists(st.floats(-5, 5), min_size=4, max_size=4), frame=st.floats(200, 900))
def test_frame_averages_of_a_piecewise_linear_inventory_give_back_its_knots(knot_values, frame):
    knots = np.array([0.0, 3000.0, 4000.0, 8000.0])
    starts = np.arange(0.0, 8000.0 - frame + 1e-9, frame)
    mids = starts + frame / 2
    sub = np.linspace(0, 1, 401)
    avg = [np.interp(a + frame * sub, knots, knot_values).mean() for a in starts]
    avg = np.array(
        [np.trapezoid(np.interp(a + frame * sub, knots, knot_values), sub) for a in starts]
    )
    knots_fit = np.array([starts[0], 3000.0, 4000.0, starts[-1] + frame])
    truth = np.interp(knots_fit, knots, knot_values)
    q, _ = fit_inventory(mids, np.full(mids.size, frame), avg, np.full(mids.size, 1e-3), knots_fit)
    np.testing.assert_allclose(q, truth, atol=2e-3)


@pytest.fixture(scope="module")
def operando():
    cell = OperandoCell(cycles=3, li_efficiency=[0.45, 0.6, 0.8], host_li_cm3=HSE.li_atoms_cm3)
    stack = CU(10.0) | HSE(60.0, profiled=True)
    det = detector(20.0, 5.0)
    scale = Scale.from_beam(1e9, 1.0, 1e-2)
    truth = cell.frame_profiles(600.0, np.linspace(0, 60, 3001))
    spectra = simulate(
        stack,
        det,
        CAL,
        truth,
        scale=scale,
        live_time_s=600.0,
        start=np.datetime64(cell.start),
        seed=7,
    )
    profiles = invert(spectra, stack, det, scale=scale, depth_step_um=0.25, li_region_um=(0, 25))
    log = cell.cycler_log()
    halves = half_cycles(log)
    table = efficiency_table(profiles, halves, cycles(halves), shift_s=align(profiles, log),
                             host_li_cm3=HSE.li_atoms_cm3)  # fmt: skip
    return cell, profiles, table


def test_simulated_operando_run_recovers_the_truth(operando):
    cell, _, table = operando
    truth = cell.truth
    np.testing.assert_allclose(table.plated_mAh_cm2, truth.plated_mAh_cm2, rtol=0.03)
    assert np.all(np.abs(table.li_efficiency - truth.li_efficiency) < 0.02)
    np.testing.assert_allclose(table.coulombic_efficiency, truth.coulombic_efficiency, rtol=1e-3)
    np.testing.assert_allclose(table.charge_plated_mAh_cm2, truth.charge_plated_mAh_cm2, rtol=1e-3)
    np.testing.assert_allclose(table.inactive_li_mAh_cm2, truth.inactive_li_mAh_cm2, atol=0.01)
    assert np.all(table.li_efficiency_err > 0) and np.all(table.li_efficiency_err < 0.02)
    assert list(table.columns[:8]) == ["cycle", "plated_mAh_cm2", "stripped_mAh_cm2", "li_efficiency",
                                      "inactive_li_mAh_cm2", "charge_plated_mAh_cm2",
                                      "charge_stripped_mAh_cm2", "coulombic_efficiency"]  # fmt: skip


def test_indicators_follow_the_deposit(operando):
    cell, profiles, _ = operando
    ind = indicators(profiles, baseline_frames=2)
    t_end_plate = cell.truth.plate_end_s.iloc[0]
    k = int(np.argmin(np.abs(profiles.time.values + 300 - t_end_plate)))
    assert ind.plated_mAh_cm2.values[k] == pytest.approx(
        cell.truth.plated_mAh_cm2.iloc[0] * (1 - HSE.li_atoms_cm3 / 4.63e22), rel=0.1
    )
    assert 0 < ind.deposit_thickness_um.values[k] < 5
    # After three cycles the inactive Li stays: the last frame still holds plated Li.
    assert ind.plated_mAh_cm2.values[-1] > 0.5 * cell.truth.inactive_li_mAh_cm2.sum() * 0.9


def test_log_that_misses_the_frames(operando):
    cell, profiles, _ = operando
    log = cell.cycler_log()
    log.attrs["start"] = log.attrs["start"] + np.timedelta64(30, "D")
    with pytest.raises(NdpError, match="do not overlap"):
        align(profiles, log)


METAL = 4.6e22  # any Li-metal density: host_li only compares with it


@pytest.mark.parametrize(
    ("choice", "declared", "expected", "source"),
    [
        ("auto", 3.0e21, 3.0e21, "declared"),  # a Li-bearing host: its own declaration
        ("auto", METAL, 2.9e21, "measured"),  # the Li-metal shortcut says nothing about the host
        ("declared", 3.0e21, 3.0e21, "declared"),
        ("declared", METAL, 0.0, "none"),
        ("measured", 3.0e21, 2.9e21, "measured"),
        (1.5e21, 3.0e21, 1.5e21, "run file"),
    ],
)
def test_the_host_li_is_taken_as_the_run_file_chooses(choice, declared, expected, source):
    from ndp.cycling.efficiency import host_li

    value, err, said = host_li(choice, declared_cm3=declared, measured=(2.9e21, 1e19, 4), metal_cm3=METAL)
    assert value == expected and source in said
    assert err == (1e19 if source == "measured" else 0.0)


def test_nothing_to_measure_the_host_in_falls_back_to_no_host():
    from ndp.cycling.efficiency import host_li

    value, _, said = host_li("measured", declared_cm3=3.0e21, measured=(np.nan, np.nan, 0), metal_cm3=METAL)
    assert value == 0.0 and "no frame before the first plating" in said


def test_a_declared_host_makes_the_li_columns_linear_in_the_absolute_scale(operando):
    """Area, flux or solid angle scale every density; the displacement factor must not move.

    With the host measured, the factor 1/(1 − c_host/c_metal) would change with the scale (the
    measured host scales, Li metal does not); a declared host keeps the Li columns linear.
    """
    from ndp.cycling.efficiency import host_li, measured_host_li

    cell, profiles, _ = operando
    log = cell.cycler_log()
    halves = half_cycles(log)
    table = cycles(halves)
    shift = align(profiles, log)
    cols = ["plated_mAh_cm2", "stripped_mAh_cm2", "inactive_li_mAh_cm2"]
    out = {}
    for k in (1.0, 0.5):
        scaled = profiles.copy()
        for var in ("li_areal", "li_areal_err", "li_capacity", "li_capacity_err"):
            scaled[var] = profiles[var] * k
        measured = measured_host_li(scaled, halves, shift_s=shift)
        assert measured[2] > 0 and measured[0] == pytest.approx(k * HSE.li_atoms_cm3, rel=0.05)
        host = host_li("auto", declared_cm3=HSE.li_atoms_cm3, measured=measured)[0]
        out[k] = efficiency_table(scaled, halves, table, shift_s=shift, host_li_cm3=host)
    np.testing.assert_allclose(out[0.5][cols], 0.5 * out[1.0][cols], rtol=1e-9)


@pytest.mark.parametrize("extra", [1.0, 2.5])
def test_knot_errors_follow_the_scatter_the_frames_show(extra):
    """Frames that scatter ``extra`` times more than their stated errors: the knots' errors
    grow to match the knots' spread over realisations (Birge ratio), and do not shrink below
    the stated errors when the frames agree with them."""
    rng = np.random.default_rng(4)
    knots = np.array([0.0, 3600.0, 7200.0, 10800.0])
    truth = np.array([0.0, 0.2, 0.2, 0.1])
    starts = np.arange(0.0, 10800.0, 300.0)
    mids, dur = starts + 150.0, np.full(starts.size, 300.0)
    sub = np.linspace(0, 1, 41)
    avg = np.array([np.trapezoid(np.interp(a + 300.0 * sub, knots, truth), sub) for a in starts])
    stated = np.full(starts.size, 0.003)
    fits, errs = [], []
    for _ in range(300):
        q, cov = fit_inventory(mids, dur, avg + rng.normal(0.0, extra * 0.003, avg.size), stated, knots)
        fits.append(q)
        errs.append(np.sqrt(np.diag(cov)))
    ratio = np.mean(errs, axis=0) / np.std(fits, axis=0, ddof=1)
    assert np.all((ratio > 0.85) & (ratio < 1.2)), ratio
