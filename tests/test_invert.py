"""Simulate → invert round trips with Poisson noise (fixed seeds) and known truth."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from profile_helpers import CAL, CU, LI, LIPON, PEO, SCALE, L, detector, half_crossings

from ndp.errors import NdpError, NdpWarning, StackError
from ndp.model.invert import inventory, invert
from ndp.model.scale import Scale
from ndp.model.simulate import simulate
from ndp.physics import units as U
from ndp.spectra.calibration import Calibration


@pytest.fixture(scope="module")
def alpha_step():
    stack = CU(0.5) | LI(30.0, profiled=True)
    det = detector(15.0, 3.0)
    spectra = simulate(
        stack, det, CAL, lambda x: np.where(x < 3.0, L, 0.0), scale=SCALE, live_time_s=3600, seed=1
    )
    return stack, det, spectra


def test_alpha_step_edge_within_50_nm_and_inventory_within_1_percent(alpha_step):
    stack, det, spectra = alpha_step
    out = invert(
        spectra, stack, det, scale=SCALE, depth_step_um=0.05, max_depth_um=8.0, li_region_um=(0, 8)
    )
    assert out.attrs["particles"] == "alpha,triton"  # both escape a 0.5 µm window
    edges = half_crossings(out.li_density_rel.values[0], out.depth.values)
    assert len(edges) == 1 and abs(edges[0] - 3.0) < 0.05
    truth = L * 3.0e-4
    got, err = float(out.li_areal[0]), float(out.li_areal_err[0])
    assert abs(got - truth) < max(0.01 * truth, 2 * err)
    assert out.chi2_per_channel.values[0] == pytest.approx(1.0, abs=0.3)
    assert out.li_capacity.attrs["units"] == U.MAH_PER_CM2


def test_triton_only_edge_within_0_3_um():
    stack = CU(10.0) | LI(60.0, profiled=True)
    det = detector(20.0, 5.0)
    spectra = simulate(
        stack, det, CAL, lambda x: np.where(x < 5.0, L, 0.0), scale=SCALE, live_time_s=600, seed=2
    )
    out = invert(spectra, stack, det, scale=SCALE, depth_step_um=0.4, li_region_um=(0, 20))
    assert out.attrs["particles"] == "triton"
    edges = half_crossings(out.li_density_rel.values[0], out.depth.values)
    assert len(edges) == 1 and abs(edges[0] - 5.0) < 0.3
    truth = L * 5.0e-4
    assert abs(float(out.li_areal[0]) - truth) < max(0.01 * truth, 2 * float(out.li_areal_err[0]))


def test_two_layers_behind_lipon_are_resolved_and_direct_does_worse():
    """Two 1 µm Li layers with 1 µm LiPON between them (made from ⁷Li: no signal) under 0.5 µm Cu."""
    stack = CU(0.5) | LI(1.0, profiled=True) | LIPON(1.0) | LI(1.0) | LIPON(20.0)
    det = detector(20.0, 5.0)

    def truth(x):
        return np.where((x < 1.0) | ((x >= 2.0) & (x < 3.0)), L, 0.0)

    spectra = simulate(stack, det, CAL, truth, scale=SCALE, live_time_s=600, seed=3)
    errors = {}
    for method in ("inversion", "direct"):
        out = invert(
            spectra, stack, det, scale=SCALE, method=method, depth_step_um=0.05, max_depth_um=5.0
        )
        d, x = out.li_density_rel.values[0], out.depth.values
        peaks = np.nanmean(d[((x > 0.2) & (x < 0.8)) | ((x > 2.2) & (x < 2.8))])
        dip = np.nanmin(d[(x > 1.2) & (x < 1.8)])
        if method == "inversion":
            assert dip < 0.5 * peaks
        errors[method] = float(np.sqrt(np.nanmean((d - truth(x) / L) ** 2)))
    assert errors["inversion"] < 0.6 * errors["direct"]


def test_time_series_warm_started_inventories():
    stack = CU(10.0) | PEO(40.0, profiled=True)
    det = detector(20.0, 5.0)
    scale = Scale.from_beam(1e8, 1.0, 1e-2)
    thick = np.linspace(0.5, 8.0, 12)
    depth = np.linspace(0, 40, 4001)
    truth = xr.DataArray(np.where(depth[None, :] < thick[:, None], L, 0.02 * L), dims=("frame", "depth"),
                         coords={"depth": depth})  # fmt: skip
    spectra = simulate(stack, det, CAL, truth, scale=scale, live_time_s=600, seed=5)
    out = invert(spectra, stack, det, scale=scale, depth_step_um=0.2, li_region_um=(0, 20))
    expected = inventory(np.where(depth[None, :-1] < thick[:, None], L, 0.02 * L), depth, (0, 20))
    pulls = (out.li_areal.values - expected) / out.li_areal_err.values
    assert np.all(np.abs(out.li_areal.values / expected - 1) < 0.05)
    assert np.median(np.abs(pulls)) < 3
    assert np.all(np.diff(out.li_areal.values) > 0)  # the deposit grows
    np.testing.assert_allclose(out.time.values, 300 + 600 * np.arange(12))


def test_relative_scale_needs_no_beam(alpha_step):
    stack, det, spectra = alpha_step
    out = invert(spectra, stack, det, depth_step_um=0.1, max_depth_um=6.0)
    assert out.attrs["scale"] == "relative" and out.li_density.attrs["units"] == U.ARBITRARY
    assert np.all(np.isnan(out.li_density_rel))


def test_bad_inputs(alpha_step):
    stack, det, spectra = alpha_step
    wrong = Calibration.from_linear(0.0, 0.2)  # 4096 channels reach only 819 keV
    with pytest.raises(NdpError, match="surface edge is at"):
        invert(spectra, stack, det, wrong)
    uncalibrated = spectra.copy()
    uncalibrated.attrs = {}
    with pytest.raises(NdpError, match="no energy calibration"):
        invert(uncalibrated, stack, det)
    with pytest.raises(StackError, match="no triton escapes"):
        invert(spectra, CU(30.0) | LI(30.0, profiled=True), det)
    with pytest.raises(NdpError, match="method"):
        invert(spectra, stack, det, method="magic")
    with pytest.raises(NdpError, match="truth profile: defined to 2"):
        da = xr.DataArray([L, L], dims="depth", coords={"depth": [0.0, 2.0]})
        simulate(stack, det, CAL, da, scale=SCALE)


def test_flux_weights_follow_a_drifting_beam():
    """The same Li under a beam that drifts by ±20 %: with monitor weights the inventory is flat.

    The deposit is at 0.7 × Li metal so the unweighted frame at +20 % (read as 0.84) stays
    below the Li-metal bound; see the next test for a drift that would cross it.
    """
    stack = CU(10.0) | LI(60.0, profiled=True)
    det = detector(20.0, 5.0)
    drift = np.array([0.8, 1.0, 1.2])
    frames = [
        simulate(stack, det, CAL, lambda x: np.where(x < 5.0, 0.7 * L, 0.0), scale=Scale(SCALE.per_second_cm2 * f),
                 live_time_s=600, seed=i)
        for i, f in enumerate(drift)
    ]  # fmt: skip
    spectra = xr.concat(
        [f.drop_vars("expected") for f in frames], dim="frame", combine_attrs="override"
    )
    plain = invert(spectra, stack, det, scale=SCALE, depth_step_um=0.5, li_region_um=(0, 20))
    weighted = invert(
        spectra,
        stack,
        det,
        scale=SCALE,
        depth_step_um=0.5,
        li_region_um=(0, 20),
        flux_weights=drift,
    )
    np.testing.assert_allclose(plain.li_areal / plain.li_areal[1], drift, rtol=0.02)
    np.testing.assert_allclose(weighted.li_areal / weighted.li_areal[1], 1.0, rtol=0.02)


def test_li_denser_than_li_metal_is_not_invented_but_flagged():
    """A beam 30 % stronger than declared makes Li metal read 1.3 × Li metal: the bound holds
    the profile at Li metal (plus the scale's 10 % allowance) and the misfit says the model does
    not describe the data."""
    stack = CU(10.0) | LI(60.0, profiled=True)
    det = detector(20.0, 5.0)
    spectra = simulate(stack, det, CAL, lambda x: np.where(x < 5.0, L, 0.0),
                       scale=Scale(SCALE.per_second_cm2 * 1.3), live_time_s=600, seed=4)  # fmt: skip
    with pytest.warns(NdpWarning, match="does not describe"):
        out = invert(spectra, stack, det, scale=SCALE, depth_step_um=0.5, li_region_um=(0, 20))
    assert float(out.li_density_rel.max()) <= 1.0 + 1e-9
    assert float(out.chi2_per_channel[0]) > 3.0


def test_recorded_from_is_where_the_spectra_start_counting():
    from ndp.model.invert import RECORDED_RUN, recorded_from_keV

    counts = np.zeros((3, 200), int)
    counts[:, 40:] = 5
    counts[1, 10] = 1  # a stray count below the discriminator does not start a run
    assert recorded_from_keV(counts, CAL) == pytest.approx(float(CAL.edges(200)[40]))
    assert recorded_from_keV(np.ones(200), CAL) == 0.0  # counts from the first channel
    gappy = np.zeros(200)
    gappy[50 : 50 + RECORDED_RUN - 1] = 3  # too short a run to say anything
    assert recorded_from_keV(gappy, CAL) == 0.0
    # A spectrum that rises gradually (a resolution tail) is not cut: its empty channels say
    # that there is no deeper Li.
    rising = np.round(1000 * np.exp(-0.5 * ((np.arange(200) - 150) / 12.0) ** 2))
    assert recorded_from_keV(rising, CAL) == 0.0
