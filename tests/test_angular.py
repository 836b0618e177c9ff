"""Exact integration of the collimator's acceptance cone in the response matrix.

References share no code with the quadrature: Monte Carlo sampling of isotropic emission
(uniform in cos θ) over the cone, and the half-height of the spectrum of a uniform profile.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ndp import Material
from ndp.model.forward import _cone_nodes, response_matrix
from ndp.physics.detector import Detector
from ndp.physics.kinematics import detected_energy
from ndp.spectra.calibration import Calibration

CU, LI = Material("Cu"), Material("Li")
CAL = Calibration.from_linear(0.0, 0.5)
N_CH = 6000
ENERGY = CAL(np.arange(N_CH))


def half_height_edge_keV(spectrum: np.ndarray) -> float:
    """Energy where a spectrum falls to half its maximum, on its high side (interpolated)."""
    half = spectrum.max() / 2
    i = int(np.flatnonzero(spectrum >= half)[-1])
    f = (spectrum[i] - half) / (spectrum[i] - spectrum[i + 1])
    return float(ENERGY[i] + f * (ENERGY[i + 1] - ENERGY[i]))


@pytest.fixture(scope="module")
def triton_15deg():
    stack = CU(10.0) | LI(60.0, profiled=True)
    det = Detector(resolution_keV=15.0, acceptance_half_angle_deg=15.0)
    edges = np.linspace(0.0, 60.0, 301)
    centres = 0.5 * (edges[1:] + edges[:-1])
    n = _cone_nodes(stack.to_array("triton"), centres, det, (15.0 / 2.3548) ** 2)[0].size
    return stack, det, edges, n


def test_doubling_the_nodes_moves_the_triton_edge_less_than_0p2_keV(triton_15deg):
    stack, det, edges, n = triton_15deg
    assert 2 <= n <= 12
    auto = response_matrix(stack, "triton", det, CAL, N_CH, edges)
    double = response_matrix(stack, "triton", replace(det, cone_nodes=2 * n), CAL, N_CH, edges)
    shift = half_height_edge_keV(double.sum(axis=1)) - half_height_edge_keV(auto.sum(axis=1))
    assert abs(shift) < 0.2
    # The whole matrix, not just the edge, has converged.
    assert np.abs(double - auto).sum() / double.sum() < 2e-3


def test_surface_line_shape_matches_monte_carlo(triton_15deg):
    """The response of the surface bin against isotropic emission sampled over the cone."""
    stack, det, _, _ = triton_15deg
    det = replace(det, straggling_scale=0.0)  # detector resolution only: a known Gaussian
    edges = np.array([0.0, 0.01])
    r = response_matrix(stack, "triton", det, CAL, N_CH, edges)[:, 0]
    rng = np.random.default_rng(3)
    cos = rng.uniform(np.cos(np.radians(15.0)), 1.0, 200_000)
    depth = rng.uniform(0.0, 0.01, cos.size)
    sigma = 15.0 / 2.3548200450309493
    e_mc = detected_energy(stack.to_array("triton"), depth, cos) + sigma * rng.standard_normal(
        cos.size
    )
    cdf_mc = np.searchsorted(np.sort(e_mc), CAL(np.arange(N_CH) + 0.5)) / e_mc.size
    cdf = np.cumsum(r) / r.sum()
    assert np.max(np.abs(cdf - cdf_mc)) < 0.006  # Kolmogorov distance; MC noise ~0.003
    mean = float((r * ENERGY).sum() / r.sum())
    assert mean == pytest.approx(float(e_mc.mean()), abs=0.3)
    # One-sided: the cone only lowers energies, so the line is skewed to low energies.
    skew = float((r * (ENERGY - mean) ** 3).sum() / r.sum())
    assert skew < 0


def test_gaussian_folding_is_symmetric_and_switchable(triton_15deg):
    stack, det, _, _ = triton_15deg
    det = replace(det, straggling_scale=0.0)
    edges = np.array([0.0, 0.01])
    exact = response_matrix(stack, "triton", det, CAL, N_CH, edges)[:, 0]
    folded = response_matrix(stack, "triton", replace(det, cone="gaussian"), CAL, N_CH, edges)[:, 0]
    # Same counts and (nearly) the same mean, but a different shape.
    assert folded.sum() == pytest.approx(exact.sum(), rel=1e-6)
    m = float((folded * ENERGY).sum() / folded.sum())
    assert m == pytest.approx(float((exact * ENERGY).sum() / exact.sum()), abs=0.3)
    assert abs(float((folded * (ENERGY - m) ** 3).sum() / folded.sum())) < 0.2 * abs(
        float((exact * (ENERGY - m) ** 3).sum() / exact.sum())
    )


def test_pencil_beam_uses_one_node():
    stack = CU(0.5) | LI(30.0, profiled=True)
    cos, w = _cone_nodes(stack.to_array("alpha"), np.array([0.5]), Detector(), 10.0)
    assert cos.tolist() == [1.0] and w.tolist() == [1.0]


def test_cone_mean_path_factor_is_analytic():
    """Isotropic emission into a cone: ⟨1/cos θ⟩ = ln(1/cos θmax)/(1 − cos θmax), here for a
    thin layer where the energy loss is proportional to the path."""
    stack = CU(0.01) | LI(10.0, profiled=True)
    det = Detector(resolution_keV=5.0, acceptance_half_angle_deg=20.0, straggling_scale=0.0)
    edges = np.array([0.0, 1e-4])
    cal = Calibration.from_linear(1500.0, 0.05)
    r = response_matrix(stack, "triton", det, cal, 30000, edges)[:, 0]
    e = cal(np.arange(30000))
    loss = 2727.0 - float((r * e).sum() / r.sum())
    normal = 2727.0 - float(detected_energy(stack.to_array("triton"), 0.0))
    c = np.cos(np.radians(20.0))
    assert loss / normal == pytest.approx(np.log(1 / c) / (1 - c), rel=2e-3)
