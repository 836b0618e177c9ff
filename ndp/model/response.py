"""The response of one measurement geometry: what a unit of Li in each depth bin puts in each
channel group, built once per (stack, detector, calibration, grid) and reused for every frame.

Channels are grouped to a quarter of the local energy resolution: sums of Poisson counts are
Poisson, the response is smooth on that scale, and the problem shrinks many-fold. Only channels
at or above the detector's threshold (and inside an optional fit range) are fitted.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ndp.errors import NdpError
from ndp.model.forward import response_matrix
from ndp.physics.detector import Detector, compile_stack
from ndp.physics.kinematics import depth_from_energy
from ndp.physics.materials import Stack
from ndp.physics.resolution import depth_resolution
from ndp.spectra.calibration import Calibration

__all__ = ["FIT_MIN_KEV", "Response", "build_response", "regroup", "with_groups"]

#: Lowest energy the instrument fit uses unless the run file says otherwise
#: (``analysis.fit_range_keV``), keV, besides the threshold. The last couple of hundred keV of a particle's path is where published
#: stopping tables differ most (10–20 %), and the particles there come from the deepest, least
#: well declared part of the cell (a run file often declares only the first tens of µm): fitting
#: them bends the instrument and the profile to explain what the declared stack cannot (a window
#: declared 5 % too thick: χ²/channel 5 instead of 0.5). The inversion itself fits every channel:
#: once the instrument is right, the deep Li there belongs to the profile.
FIT_MIN_KEV = 200.0


@dataclass(frozen=True)
class Response:
    """A compiled response.

    Attributes
    ----------
    matrix : ndarray of shape (n_channels, n_depth)
        Counts per channel per unit exposure (cm²) from 1 atom/cm³ in each bin, all particles.
    edges_um : ndarray of shape (n_depth + 1,)
    roi : ndarray of shape (R,)
        The fitted channels.
    group : ndarray of shape (R,)
        Each fitted channel's group.
    grouped : ndarray of shape (G, n_depth)
        ``matrix`` summed over each group's channels.
    particles : tuple of str
    """

    matrix: np.ndarray
    edges_um: np.ndarray
    roi: np.ndarray
    group: np.ndarray
    grouped: np.ndarray
    particles: tuple[str, ...]

    @property
    def n_groups(self) -> int:
        return self.grouped.shape[0]

    def group_counts(self, counts: np.ndarray) -> np.ndarray:
        """Counts (..., n_channels) summed into groups, shape (..., G)."""
        c = np.asarray(counts, dtype=float)[..., self.roi]
        out = np.zeros((*c.shape[:-1], self.n_groups))
        np.add.at(out, (..., self.group), c)
        return out


def build_response(stack: Stack, detector: Detector, calibration: Calibration, n_channels: int,
                   edges_um, particles, *, fit_range_keV=None) -> Response:  # fmt: skip
    """The :class:`Response` of a geometry (cached: equal arguments give the same object).

    Parameters
    ----------
    stack, detector, calibration
    n_channels : int
    edges_um : array_like of shape (n_depth + 1,)
    particles : sequence of str
        The particles that reach the detector (both products of each reaction).
    fit_range_keV : (float, float), optional
        Fit only channels inside this energy range (besides the threshold); default all.
    """
    if fit_range_keV is None:
        fit_range_keV = (0.0, np.inf)
    rng = (float(fit_range_keV[0]), float(fit_range_keV[1]))
    edges = tuple(float(e) for e in np.asarray(edges_um, dtype=float))
    return _build(stack, detector, calibration, int(n_channels), edges, tuple(particles), rng)


def with_groups(resp: Response, stack: Stack, detector: Detector, calibration: Calibration) -> Response:
    """``resp``'s channels grouped to a quarter of another geometry's local resolution."""
    energy = calibration(resp.roi)
    fwhm = _local_fwhm_keV(stack, detector, resp.particles, energy)
    per_ch = np.abs(calibration.slope(resp.roi))
    group = _channel_groups(resp.roi, np.maximum(np.floor(fwhm / 4.0 / per_ch), 1).astype(int))
    grouped = np.zeros((group[-1] + 1, resp.matrix.shape[1]))
    np.add.at(grouped, group, resp.matrix[resp.roi])
    return Response(resp.matrix, resp.edges_um, resp.roi, group, grouped, resp.particles)


def regroup(like: Response, stack: Stack, detector: Detector, calibration: Calibration) -> Response:
    """The response of another geometry on ``like``'s channels and groups.

    Likelihoods are comparable between geometries only on the same groups, e.g. in the
    instrument fit.
    """
    edges = tuple(float(e) for e in like.edges_um)
    n_ch = like.matrix.shape[0]
    r = sum(response_matrix(stack, p, detector, calibration, n_ch, edges) for p in like.particles)
    grouped = np.zeros_like(like.grouped)
    np.add.at(grouped, like.group, r[like.roi])
    return Response(r, like.edges_um, like.roi, like.group, grouped, like.particles)


@functools.lru_cache(maxsize=32)
def _build(stack, detector, calibration, n_channels, edges, particles, rng) -> Response:
    r = sum(response_matrix(stack, p, detector, calibration, n_channels, edges) for p in particles)
    signal = r.sum(axis=1)
    energy = calibration(np.arange(n_channels))
    keep = (signal > 1e-6 * signal.max()) & (energy >= detector.threshold_keV)
    keep &= (energy >= rng[0]) & (energy <= rng[1])
    roi = np.flatnonzero(keep)
    if roi.size == 0:
        raise NdpError(
            "fit range: no channel with signal inside it; check [analysis] fit_range_keV"
        )
    fwhm = _local_fwhm_keV(stack, detector, particles, energy[roi])
    per_ch = np.abs(calibration.slope(roi))
    group = _channel_groups(roi, np.maximum(np.floor(fwhm / 4.0 / per_ch), 1).astype(int))
    grouped = np.zeros((group[-1] + 1, r.shape[1]))
    np.add.at(grouped, group, r[roi])
    for a in (grouped, roi, group):
        a.flags.writeable = False
    return Response(r, np.asarray(edges), roi, group, grouped, particles)


def _channel_groups(roi: np.ndarray, width_ch: np.ndarray) -> np.ndarray:
    """Group consecutive ROI channels so no group is wider than ``width_ch`` at its start."""
    group = np.empty(roi.size, dtype=np.int64)
    g, start = 0, 0
    for i in range(roi.size):
        if i > start and (roi[i] != roi[i - 1] + 1 or i - start >= width_ch[start]):
            g += 1
            start = i
        group[i] = g
    return group


def _local_fwhm_keV(stack: Stack, detector: Detector, names, energy_keV: np.ndarray) -> np.ndarray:
    """Energy resolution (FWHM, keV) of the spectrum at each energy: the best particle's there."""

    best = np.full(energy_keV.shape, np.inf)
    for p in names:
        cs = compile_stack(stack, p, detector)
        deposited = energy_keV + detector.pulse_height_defect_keV(p)
        depth = np.clip(
            np.nan_to_num(depth_from_energy(cs, deposited), nan=0.0), 0.0, cs.region_end_um
        )
        fw = depth_resolution(cs, depth, detector, n_angles=8)["resolution_keV"]
        best = np.minimum(best, np.where(np.isfinite(fw), fw, np.inf))
    floor = detector.resolution_keV
    return np.where(np.isfinite(best), np.maximum(best, floor), floor)
