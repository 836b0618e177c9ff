"""Energy ↔ depth: monotonicity, exact inversion, slopes, escape depths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ndp import Material
from ndp.errors import StackError
from ndp.physics.kinematics import (
    depth_from_energy,
    detected_energy,
    energy_slope,
    max_depth,
    require_escape,
)

CU, LI, PEO, ZNO = Material("Cu"), Material("Li"), Material("PEO"), Material("ZnO")

stacks = st.builds(
    lambda w, c, z, prof, particle: (
        (CU(w) | ZNO(z) | prof(60.0, profiled=True))
        if z > 0
        else (CU(w) | prof(60.0, profiled=True)),
        particle if (particle == "triton" or w < 2.5) else "triton",
        c,
    ),
    w=st.floats(min_value=0.05, max_value=10.0),
    c=st.floats(min_value=0.8, max_value=1.0),
    z=st.sampled_from([0.0, 0.1]),
    prof=st.sampled_from([LI, PEO, Material("LLZO")]),
    particle=st.sampled_from(["alpha", "triton"]),
)


@settings(max_examples=60, deadline=None)
@given(case=stacks, data=st.data())
def test_detected_energy_falls_monotonically_with_depth(case, data):
    stack, particle, cos = case
    cs = stack.to_array(particle)
    deepest = float(max_depth(cs, 20.0, cos))
    x = np.sort(data.draw(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=30))) * deepest
    e = detected_energy(cs, x, cos)
    assert np.all(np.diff(e) <= 0)
    assert np.all(np.diff(e)[np.diff(x) > 1e-9] < 0)


@settings(max_examples=80, deadline=None)
@given(case=stacks, frac=st.floats(0.0, 1.0))
def test_depth_of_energy_of_depth_is_depth_within_0_1_nm(case, frac):
    stack, particle, cos = case
    cs = stack.to_array(particle)
    x = frac * float(max_depth(cs, 20.0, cos))
    back = depth_from_energy(cs, detected_energy(cs, x, cos), cos)
    assert abs(float(back) - x) < 1e-4  # µm


@settings(max_examples=40, deadline=None)
@given(case=stacks, frac=st.floats(0.02, 0.9))
def test_slope_matches_finite_difference(case, frac):
    stack, particle, cos = case
    cs = stack.to_array(particle)
    x = frac * float(max_depth(cs, 100.0, cos))
    h = 1e-3
    fd = (detected_energy(cs, x + h, cos) - detected_energy(cs, x - h, cos)) / (2 * h)
    assert float(energy_slope(cs, x, cos)) == pytest.approx(float(fd), rel=5e-3)


def test_thin_layer_loses_s_times_t():
    li = LI(0.01) | LI(5.0, profiled=True)
    cs = li.to_array("alpha")
    loss = cs.energy0_keV - cs.surface_energy_keV
    s = float(LI.stopping("alpha", 2055.0)[0] + LI.stopping("alpha", 2055.0)[1])
    assert loss == pytest.approx(s * 0.01, rel=1e-3)


def test_numbers_quoted_in_physics_md():
    cs = (CU(10.0) | LI(200.0, profiled=True)).to_array("triton")
    assert cs.surface_energy_keV == pytest.approx(1450, rel=0.02)
    assert float(max_depth(cs, 20.0)) == pytest.approx(70, rel=0.06)
    peo = (CU(10.0) | PEO(100.0, profiled=True)).to_array("triton")
    # 27.1 µm with PEO's condensed-phase stopping (issue 11), 26.3 µm with plain Bragg.
    assert 20 <= float(max_depth(peo, 20.0)) <= 28


def test_ten_micron_copper_stops_every_alpha():
    cs = (CU(10.0) | LI(40.0, profiled=True)).to_array("alpha")
    assert detected_energy(cs, 0.0) == 0.0
    with pytest.raises(StackError, match="no alpha escapes"):
        require_escape(cs)


def test_oblique_paths_lose_more():
    cs = (CU(0.5) | LI(30.0, profiled=True)).to_array("alpha")
    e = detected_energy(cs, 2.0, np.array([1.0, 0.95, 0.9]))
    assert np.all(np.diff(e) < 0)


def test_broadcasting_over_energies_and_angles():
    cs = (CU(0.5) | ZNO(0.1) | LI(30.0, profiled=True)).to_array("alpha")
    e = np.linspace(200, 1700, 4096)[:, None]
    cos = np.linspace(0.95, 1.0, 20)[None, :]
    x = depth_from_energy(cs, e, cos)
    assert x.shape == (4096, 20)
    np.testing.assert_allclose(detected_energy(cs, x, cos), np.broadcast_to(e, x.shape), rtol=1e-9)


def test_energies_above_the_edge_map_above_the_surface():
    cs = (CU(0.5) | LI(30.0, profiled=True)).to_array("alpha")
    assert float(depth_from_energy(cs, cs.surface_energy_keV + 50)) < 0


LIPON = Material("LiPON")
region_stacks = st.builds(
    lambda w, a, b, particle: (CU(w) | LI(a, profiled=True) | LIPON(b) | LI(60.0), particle),
    w=st.floats(0.1, 1.0), a=st.floats(0.2, 3.0), b=st.floats(0.2, 3.0),
    particle=st.sampled_from(["alpha", "triton"]),
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(case=region_stacks, frac=st.floats(0.0, 1.0), cos=st.floats(0.85, 1.0))
def test_region_across_interfaces_round_trips_and_falls(case, frac, cos):
    stack, particle = case
    cs = stack.to_array(particle)
    deepest = float(max_depth(cs, 30.0, cos))
    x = np.linspace(0.0, deepest, 50)
    e = detected_energy(cs, x, cos)
    assert np.all(np.diff(e) < 0)
    x0 = frac * deepest
    assert abs(float(depth_from_energy(cs, detected_energy(cs, x0, cos), cos)) - x0) < 1e-4


def test_region_equals_a_single_layer_of_the_same_material():
    """Splitting the profiled layer into two of the same material changes nothing."""
    one = (CU(0.5) | LI(30.0, profiled=True)).to_array("alpha")
    two = (CU(0.5) | LI(2.0, profiled=True) | LI(28.0)).to_array("alpha")
    x = np.linspace(0, 15, 31)
    np.testing.assert_allclose(detected_energy(two, x), detected_energy(one, x), rtol=1e-9)
    np.testing.assert_allclose(energy_slope(two, x), energy_slope(one, x), rtol=1e-6)


def test_slope_jumps_at_an_interface():
    """dE/dx follows the stopping of the layer the particle is born in."""
    cs = (CU(0.5) | LI(1.0, profiled=True) | LIPON(1.0) | LI(20.0)).to_array("alpha")
    s_li, s_lipon = energy_slope(cs, [0.999, 1.001])
    assert abs(s_lipon) > 1.5 * abs(s_li)
