"""Depth resolution: straggling, detector, angles; the depth-scale table."""

from __future__ import annotations

import numpy as np
import pytest

from ndp import Material
from ndp.errors import NdpError, StackError
from ndp.physics.detector import Detector, angular_quadrature
from ndp.physics.resolution import depth_resolution, depth_scale, straggling_variance

CU, LI = Material("Cu"), Material("Li")


def test_bohr_straggling_of_a_thin_fast_layer():
    """A thin Li layer at MeV energies: full Bohr (χ > 3), Ω² = 4πe⁴ Z1² Z2 N t."""
    cs = (LI(0.5) | LI(10.0, profiled=True)).to_array("triton")
    var = float(straggling_variance(cs, 0.0)[0])
    n_t = LI.atoms_cm3 * 0.5e-4 / 1e15  # 1e15 atoms/cm²
    # e² = 1.439964 eV nm → 4π e⁴ = 2.6057e-13 eV² cm² = 2.6057e-4 keV² per 1e15 atoms/cm².
    bohr = 4 * np.pi * (1.439964e-7) ** 2 * 1e-6 * 1e15 * 1**2 * 3 * n_t
    assert var == pytest.approx(bohr, rel=0.01)


def test_low_velocity_reduction_in_copper():
    """Alphas in Cu are slow compared with Cu's electrons: less straggling than Bohr."""
    cs = (CU(0.2) | LI(10.0, profiled=True)).to_array("alpha")
    var = float(straggling_variance(cs, 0.0)[0])
    bohr = 2.6058e-4 * 4 * 29 * CU.um_to_areal(0.2)
    assert 0.3 * bohr < var < bohr


def test_detector_only_limit():
    """No window, pencil beam, negligible straggling at the surface: FWHM_x = FWHM_E / S."""
    cs = (LI(1e-6) | LI(30.0, profiled=True)).to_array("alpha")
    res = depth_resolution(cs, [0.0], Detector(resolution_keV=20.0, acceptance_half_angle_deg=0))
    s = float(sum(LI.stopping("alpha", 2055.0)))
    assert res["resolution_um"][0] == pytest.approx(20.0 / s, rel=1e-3)
    assert res["sigma2_angular"][0] == 0


def test_angular_spread_grows_with_acceptance():
    cs = (CU(0.5) | LI(30.0, profiled=True)).to_array("alpha")
    narrow = depth_resolution(cs, [1.0], Detector(acceptance_half_angle_deg=2))["sigma2_angular"]
    wide = depth_resolution(cs, [1.0], Detector(acceptance_half_angle_deg=15))["sigma2_angular"]
    assert wide[0] > 10 * narrow[0] > 0


def test_quadrature_is_uniform_in_cos_theta():
    cos, w = angular_quadrature(10.0, 20)
    assert w.sum() == pytest.approx(1.0)
    lo = np.cos(np.radians(10.0))
    assert cos.min() > lo and cos.max() < 1
    assert (cos * w).sum() == pytest.approx((1 + lo) / 2)


def test_resolution_scales_in_physics_md():
    """Alpha near the surface: sub-µm; triton under 10 µm Cu: µm scale."""
    det = Detector(resolution_keV=15.0, acceptance_half_angle_deg=3)
    alpha = depth_resolution(
        (CU(0.1) | Material("LLZO")(20.0, profiled=True)).to_array("alpha"), [0.0], det
    )
    assert 0.01 < alpha["resolution_um"][0] < 0.2
    triton = depth_resolution(
        (CU(10.0) | Material("PEO")(40.0, profiled=True)).to_array("triton"), [0.0], det
    )
    assert 0.5 < triton["resolution_um"][0] < 3.0


def test_depth_scale_dataset():
    stack = CU(0.5) | LI(30.0, profiled=True)
    ds = depth_scale(stack, Detector(), depth_step_um=0.5)
    assert list(ds.particle.values) == ["alpha", "triton"]
    assert ds.depth.attrs["units"] == "um"
    assert ds.energy_keV.attrs["units"] == "keV"
    a = ds.sel(particle="alpha")
    # Beyond the alpha's escape depth the table is empty; the triton reaches the layer's end.
    assert np.isnan(a.energy_keV.sel(depth=25.0))
    assert float(ds.max_depth_um.sel(particle="triton")) == pytest.approx(30.0)
    np.testing.assert_allclose(ds.depth_areal, LI.um_to_areal(ds.depth))


def test_auto_particles_under_a_thick_window():
    ds = depth_scale(CU(10.0) | LI(40.0, profiled=True), depth_step_um=1.0)
    assert list(ds.particle.values) == ["triton"]
    with pytest.raises(StackError, match="no alpha escapes"):
        depth_scale(CU(10.0) | LI(40.0, profiled=True), particles="alpha")
    with pytest.raises(StackError, match="no triton escapes"):
        depth_scale(CU(30.0) | LI(40.0, profiled=True))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"resolution_keV": 0}, "resolution_keV: expected a number > 0"),
     ({"acceptance_half_angle_deg": 95}, "expected < 90"),
     ({"solid_angle_sr": -1}, "solid_angle_sr")],
)  # fmt: skip
def test_bad_detector(kwargs, match):
    with pytest.raises(NdpError, match=match):
        Detector(**kwargs)
