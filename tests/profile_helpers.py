"""Shared set-ups for the forward-model and inversion tests."""

from __future__ import annotations

import numpy as np

from ndp import Material
from ndp.model.scale import Scale
from ndp.physics.constants import LI_METAL_ATOMS_CM3
from ndp.physics.detector import Detector
from ndp.spectra.calibration import Calibration

L = LI_METAL_ATOMS_CM3  # atoms/cm3
CU, LI, LIPON, PEO = Material("Cu"), Material("Li"), Material("LiPON"), Material("PEO")
CAL = Calibration.from_linear(0.0, 0.75)
SCALE = Scale.from_beam(1e9, 1.0, 1e-2)


def half_crossings(density_rel: np.ndarray, depth: np.ndarray) -> list[float]:
    """Depths where a profile falls through half of Li metal density."""
    d = density_rel
    idx = np.flatnonzero((d[:-1] >= 0.5) & (d[1:] < 0.5))
    return [
        float(depth[i] + (d[i] - 0.5) / (d[i] - d[i + 1]) * (depth[i + 1] - depth[i])) for i in idx
    ]


def detector(fwhm=15.0, half_angle=3.0) -> Detector:
    return Detector(resolution_keV=fwhm, acceptance_half_angle_deg=half_angle)
