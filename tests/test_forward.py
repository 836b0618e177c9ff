"""The forward model: response matrices conserve probability, match the kinematics, are cached."""

from __future__ import annotations

import numpy as np
import pytest
from profile_helpers import CAL, CU, LI, SCALE, L, detector

from ndp.errors import NdpError, NdpWarning
from ndp.model.forward import depth_edges, expected_counts, response_matrix
from ndp.physics.kinematics import detected_energy
from ndp.spectra.calibration import Calibration


@pytest.fixture(scope="module")
def thin():
    return CU(0.5) | LI(30.0, profiled=True)


def test_each_bin_sends_all_its_particles_somewhere(thin):
    edges = np.linspace(0, 25, 251)
    for p in ("alpha", "triton"):
        r = response_matrix(thin, p, detector(), CAL, 4096, edges)
        per_bin = r.sum(axis=0) / (np.diff(edges) * 1e-4)
        seen = detected_energy(thin.to_array(p), 0.5 * (edges[1:] + edges[:-1])) > 60
        np.testing.assert_allclose(per_bin[seen], 1.0, rtol=1e-6)


def test_counts_land_where_the_kinematics_say(thin):
    edges = np.linspace(0, 10, 101)
    r = response_matrix(thin, "alpha", detector(half_angle=0.0), CAL, 4096, edges)
    centres = 0.5 * (edges[1:] + edges[:-1])
    mean_ch = (np.arange(4096) @ r) / r.sum(axis=0)
    expected = CAL.inverse(detected_energy(thin.to_array("alpha"), centres))
    np.testing.assert_allclose(mean_ch, expected, atol=0.6)  # within a channel


def test_cached_and_read_only(thin):
    edges = np.linspace(0, 5, 51)
    a = response_matrix(thin, "alpha", detector(), CAL, 2048, edges)
    assert response_matrix(thin, "alpha", detector(), CAL, 2048, list(edges)) is a
    with pytest.raises(ValueError):
        a[0, 0] = 1.0


def test_expected_counts_scale_with_density_and_exposure(thin):
    edges = np.linspace(0, 5, 51)
    one = expected_counts(
        thin, detector(), CAL, 4096, edges, np.full(50, L), SCALE.exposure_cm2(100.0)
    )
    two = expected_counts(
        thin, detector(), CAL, 4096, edges, np.full(50, 2 * L), SCALE.exposure_cm2(50.0)
    )
    np.testing.assert_allclose(one, two)
    # Both particles from 5 µm of Li metal: 2 × K × N_Li × 5 µm.
    assert one.sum() == pytest.approx(2 * SCALE.exposure_cm2(100.0) * L * 5e-4, rel=1e-3)


def test_depth_grid_outside_the_stack_and_fine_steps(thin):
    with pytest.raises(NdpError, match="beyond the profiled region"):
        response_matrix(thin, "alpha", detector(), CAL, 4096, np.linspace(0, 40, 11))
    with pytest.warns(NdpWarning, match="finer than a tenth of the best depth resolution"):
        depth_edges(thin, detector(), 0.005)
    with pytest.raises(NdpError, match="energy must increase"):
        response_matrix(
            thin, "alpha", detector(), Calibration((0.0, 0.75, -1e-3)), 4096, np.linspace(0, 5, 11)
        )


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(
    a=st.lists(st.floats(0, 2), min_size=20, max_size=20),
    b=st.lists(st.floats(0, 2), min_size=20, max_size=20),
    k=st.floats(0.1, 10),
)
def test_expected_counts_are_linear_and_conserve_content(a, b, k):
    """μ(a + k·b) = μ(a) + k·μ(b), and total counts = 2 × exposure × Li content where all escapes."""
    stack = CU(0.5) | LI(30.0, profiled=True)
    edges = np.linspace(0, 4, 21)
    exposure = SCALE.exposure_cm2(100.0)
    mu = lambda d: expected_counts(stack, detector(), CAL, 4096, edges, np.asarray(d) * L, exposure)  # noqa: E731
    np.testing.assert_allclose(
        mu(np.add(a, np.multiply(k, b))), mu(a) + k * mu(b), rtol=1e-9, atol=1e-9
    )
    content = L * np.sum(a) * 0.2e-4
    assert mu(a).sum() == pytest.approx(2 * exposure * content, rel=1e-6, abs=1e-6)
