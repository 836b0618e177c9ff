"""Deposit indicators, and the gap a delaminating deposit opens below the current collector.

The truths are built here by hand (a step profile, a cell whose deposit comes off the collector
by a known width); ndp only simulates the spectra and inverts them.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from ndp.cycling.indicators import indicators
from ndp.demo import hybrid_electrolyte
from ndp.errors import NdpError
from ndp.model.invert import invert
from ndp.model.scale import Scale
from ndp.model.simulate import simulate
from ndp.physics import constants as C
from ndp.physics.detector import Detector
from ndp.physics.materials import Material, Stack
from ndp.spectra.calibration import Calibration

METAL = C.LI_METAL_ATOMS_CM3


def _profiles(density_cm3: np.ndarray, edges_um: np.ndarray, *, scale: str = "beam",
              err_cm3: float | None = None) -> xr.Dataset:  # fmt: skip
    """A minimal profiles Dataset (time, depth) as ndp.model.invert writes it."""
    centres = 0.5 * (edges_um[1:] + edges_um[:-1])
    n = density_cm3.shape[0]
    ds = xr.Dataset(
        {"li_density": (("time", "depth"), density_cm3), "depth_edges": ("depth_edge", edges_um)},
        coords={"time": 600.0 * np.arange(n) + 300.0, "depth": centres},
        attrs={"scale": scale},
    )
    if err_cm3 is not None:
        ds["li_density_err"] = (("time", "depth"), np.full(density_cm3.shape, err_cm3))
    return ds


def test_gap_of_hand_made_steps():
    edges = np.linspace(0.0, 20.0, 201)  # 0.1 µm bins
    x = 0.5 * (edges[1:] + edges[:-1])
    host = 8e20
    rows = [
        np.full(x.size, host),  # before plating: the baseline
        np.where(x < 3.0, 0.5 * METAL, host),  # on the collector
        np.where((x > 2.5) & (x < 5.0), 0.5 * METAL, host),  # 2.5 µm off it
        np.where((x > 1.0) & (x < 4.0), 0.01 * METAL + host, host),  # too thin to count
        np.where(np.abs(x - 3.05) < 0.05, 0.08 * METAL + host, host),  # a bump within the noise
    ]
    ind = indicators(_profiles(np.array(rows), edges, err_cm3=0.02 * METAL))
    gap = ind.gap_um.values
    assert np.isnan(gap[0])
    assert gap[1] == 0.0
    # The step's half height lies between the bins on either side of 2.5 µm.
    assert gap[2] == pytest.approx(2.5, abs=0.05)
    assert np.isnan(gap[3])
    assert np.isnan(gap[4])  # 0.08 is under 5σ = 5 × hypot(0.02, 0.02) = 0.14 of Li metal
    assert ind.gap_um.attrs["units"] == "um"


def test_thickness_and_density_through_noise():
    """A 2 µm deposit at half Li-metal density, with ±2 % noise over 20 µm in every frame."""
    edges = np.linspace(0.0, 20.0, 201)
    x = 0.5 * (edges[1:] + edges[:-1])
    host = 8e20
    noise = 0.02 * METAL * np.where(np.arange(x.size) % 2, 1.0, -1.0)
    rows = np.array([np.full(x.size, host), np.where(x < 2.0, 0.5 * METAL, host) + noise])
    ind = indicators(_profiles(rows, edges))
    # 90 % of a uniform 2 µm deposit lies within 1.8 µm; over it the density is half Li metal.
    assert ind.deposit_thickness_um.values[1] == pytest.approx(1.8, abs=0.1)
    assert ind.deposit_density_rel.values[1] == pytest.approx((0.5 * METAL - host) / METAL, rel=0.05)
    assert ind.centroid_um.values[1] == pytest.approx(1.0, abs=0.1)
    atoms_cm2 = (0.5 * METAL - host) * 2.0 * C.CM_PER_UM
    assert ind.plated_mAh_cm2.values[1] == pytest.approx(atoms_cm2 / C.LI_ATOMS_PER_MAH, rel=0.02)
    assert ind.gap_um.values[1] == 0.0


def test_indicators_need_an_absolute_scale():
    edges = np.linspace(0.0, 5.0, 11)
    with pytest.raises(NdpError, match="absolute"):
        indicators(_profiles(np.ones((2, 10)), edges, scale="relative"))


@pytest.fixture(scope="module")
def delaminating_cell():
    """The demo's bare-Cu measurement of a deposit that comes off the collector while stripping.

    Frames (gap, deposit thickness) in µm: rest, two plating frames on the collector, then three
    stripping frames in which the deposit thins while a gap opens to 2 µm between it and the Cu.
    """
    hse = hybrid_electrolyte()
    stack = Stack((Material("Cu")(10.0), hse(60.0, profiled=True)))
    det = Detector(resolution_keV=20.0, acceptance_half_angle_deg=5.0, solid_angle_sr=1e-2,
                   threshold_keV=50.0)  # fmt: skip
    cal = Calibration.from_linear(-10.0, 0.75)
    scale = Scale.from_beam(1e9, 1.0, det.solid_angle_sr)
    host = hse.li_atoms_cm3
    deposit = 0.6 * METAL + 0.4 * host  # 60 % Li metal, the pores hold electrolyte
    frames = [(0.0, 0.0), (0.0, 2.0), (0.0, 4.0), (0.7, 3.5), (1.4, 3.0), (2.0, 2.5)]
    depth = np.linspace(0.0, 60.0, 2401)
    truth = np.array([np.where((depth >= g) & (depth < g + t), deposit, host) for g, t in frames])
    spectra = simulate(stack, det, cal, xr.DataArray(truth, dims=("frame", "depth"), coords={"depth": depth}),
                       scale=scale, live_time_s=600.0, seed=3)  # fmt: skip
    profiles = invert(spectra, stack, det, cal, scale=scale, depth_step_um=0.25, li_region_um=(0.0, 25.0))
    return profiles, np.array(frames)


def test_delamination_gap_is_found(delaminating_cell):
    profiles, frames = delaminating_cell
    ind = indicators(profiles)
    gap = ind.gap_um.values
    assert np.isnan(gap[0])  # nothing plated yet
    np.testing.assert_allclose(gap[1:], frames[1:, 0], atol=0.5)
    assert abs(gap[-1] - 2.0) <= 0.5, gap
    # While the deposit sits on the collector the gap stays shut; it grows while stripping.
    assert np.all(gap[1:3] <= 0.3)
    assert np.all(np.diff(gap[2:]) > 0)
