"""Forward model: Li depth profile → expected spectrum, through a response matrix per particle.

For depth bins k (edges in µm) and channels j, ``R[j, k]`` is the expected number of counts in
channel j per unit exposure (cm²) from a Li density of 1 atom/cm³ filling bin k:

    R[j, k] = Δx_k · P(j | k),

where P(j | k) is the probability that a particle born in bin k and emitted toward the detector
lands in channel j. It folds:

* the energy loss through the profiled region and the window (:mod:`ndp.kinematics`), sampled at
  sub-depths fine enough that no bin is wider in energy than half the resolution;
* the collimator's acceptance: the mean detected energy over emission angles, and their spread as
  a variance; angles at which the particle stops do not count;
* the discriminator acts on the *measured* pulse height: particles leaving the stack below the
  threshold still reach channels above it through the resolution, so the threshold is a cut on
  channels (the fitted range), not on particles;
* energy straggling and the detector's resolution (:mod:`ndp.resolution`) as a Gaussian;
* the channel binning: the Gaussian is integrated over each channel's energy interval.

Expected counts: ``μ = K · Σ_p R_p @ c + background``, with K = Φ·A·t_live·σ·a₆·Ω/4π the
exposure (:mod:`ndp.scale`) and c the Li density (atoms/cm³) per bin. Matrices are built once per
(stack, particle, detector, calibration, channels, depth grid) and cached.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
from scipy import special

from . import constants as C
from .calibration import Calibration
from .detector import Detector
from .errors import NdpError, StackError
from .kinematics import detected_energy, energy_slope, max_depth
from .resolution import straggling_variance
from .stack import Stack

__all__ = ["NdpWarning", "depth_edges", "expected_counts", "response_matrix", "sensitive_particles"]


class NdpWarning(UserWarning):
    """Something a user should know about, but not an error."""


def sensitive_particles(stack: Stack, detector: Detector, particles="auto") -> list[str]:
    """Particles that leave the stack above the detector's threshold (``auto``), or those asked for."""
    from .resolution import escaping_particles

    return escaping_particles(
        stack, detector, "auto" if particles in ("auto", "both") else particles
    )


def depth_edges(stack: Stack, detector: Detector, step_um: float, particles="auto",
                max_depth_um: float | None = None) -> np.ndarray:  # fmt: skip
    """Depth-bin edges (µm) from 0 to the deepest depth any used particle is seen from.

    Warns (:class:`NdpWarning`) when the step is finer than a tenth of the best depth resolution:
    a regularised inversion oversamples the resolution usefully a few times, beyond that the
    bins are set by the prior, not the data.
    """
    if not (step_um > 0):
        raise StackError(f"depth_step_um: expected > 0, got {step_um}")
    names = sensitive_particles(stack, detector, particles)
    deepest = max(float(max_depth(stack.to_array(p), detector.threshold_keV)) for p in names)
    top = min(max_depth_um, deepest) if max_depth_um is not None else deepest
    if top <= 0:
        raise StackError("stack: no particle escapes from the profiled region")
    n = max(int(np.ceil(top / step_um - 1e-9)), 1)
    best = _surface_resolution_um(stack, detector, tuple(names))
    if step_um < best / 10:
        warnings.warn(
            f"depth step {step_um:g} µm is finer than a tenth of the best depth resolution "
            f"({best:.3g} µm FWHM): finer detail comes from the regularisation, not the data",
            NdpWarning, stacklevel=2,
        )  # fmt: skip
    edges = np.linspace(0.0, n * step_um, n + 1)
    # The last bin ends with the profiled region when the step does not divide it.
    end = stack.region_thickness_um
    if edges[-1] > end:
        edges = edges[edges < end - 1e-9 * max(end, 1.0)]
        edges = np.append(edges, end)
    return edges


@functools.lru_cache(maxsize=64)
def _surface_resolution_um(stack: Stack, detector: Detector, names: tuple[str, ...]) -> float:
    """Best depth resolution (FWHM, µm) at the profiled region's surface; cached per stack."""
    from .resolution import depth_resolution

    return min(
        float(depth_resolution(stack.to_array(p), [0.0], detector)["resolution_um"][0]) for p in names
    )


def response_matrix(stack: Stack, particle: str, detector: Detector, calibration: Calibration,
                    n_channels: int, edges_um) -> np.ndarray:  # fmt: skip
    """The response matrix of one particle, shape (n_channels, n_depth), in cm (see module doc).

    Cached: the same arguments return the same (read-only) array.
    """
    edges = tuple(float(e) for e in np.asarray(edges_um, dtype=float))
    if len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise NdpError("depth edges: expected at least two increasing depths in µm")
    if edges[-1] > stack.region_thickness_um + 1e-9:
        raise NdpError(
            f"profile: depth grid reaches {edges[-1]:g} µm, beyond the profiled region "
            f"({stack.region_thickness_um:g} µm)"
        )
    return _response(stack, particle, detector, calibration, int(n_channels), edges)


@functools.lru_cache(maxsize=16)
def _response(stack, particle, detector, calibration, n_channels, edges) -> np.ndarray:
    cs = stack.to_array(particle)
    edges = np.asarray(edges)
    n_d = edges.size - 1
    width = np.diff(edges)
    centres = 0.5 * (edges[1:] + edges[:-1])
    e_edges_ch = calibration.edges(n_channels)
    if not np.all(np.diff(e_edges_ch) > 0):
        raise NdpError("calibration: energy must increase with channel over the spectrum")

    # Energy spread at bin centres, interpolated to sub-samples (it varies slowly with depth).
    sig2_strag = np.nan_to_num(straggling_variance(cs, centres), nan=0.0) * detector.straggling_scale**2
    sig2_det = (
        detector.resolution_keV / C.FWHM_PER_SIGMA
    ) ** 2 + detector.channel_width_keV**2 / 12

    slope = np.abs(energy_slope(cs, centres))
    sigma_min = np.sqrt(sig2_det + sig2_strag)
    n_sub = int(np.clip(np.ceil(np.max(2.0 * slope * width / np.maximum(sigma_min, 1e-6))), 1, 32))
    frac = (np.arange(n_sub) + 0.5) / n_sub
    x = (edges[:-1, None] + width[:, None] * frac[None, :]).ravel()  # (n_d * n_sub,)
    k = np.repeat(np.arange(n_d), n_sub)

    cos, w = detector.angles()
    e_ang = detected_energy(cs, x[:, None], cos[None, :])  # (N, n_angles)
    seen = e_ang > 0.0
    w_seen = seen @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(w_seen > 0, (e_ang * seen) @ w / w_seen, 0.0)
        var_ang = np.where(w_seen > 0, (((e_ang - mean[:, None]) ** 2) * seen) @ w / w_seen, 0.0)
    var = sig2_det + np.interp(x, centres, sig2_strag) + var_ang
    sigma = np.sqrt(var)
    weight = w_seen * width[k] * C.CM_PER_UM / n_sub  # cm of depth per sub-sample
    keep = (w_seen > 0) & (mean > 0)
    x, k, mean, sigma, weight = x[keep], k[keep], mean[keep], sigma[keep], weight[keep]

    out = np.zeros(n_channels * n_d)
    if mean.size == 0:
        return out.reshape(n_channels, n_d)
    centre_ch = calibration.inverse(mean)
    dch = np.abs(calibration.slope(np.clip(centre_ch, 0, n_channels - 1)))
    half = int(min(np.ceil(np.max(6.0 * sigma / dch)) + 2, n_channels))
    offsets = np.arange(-half, half + 1)
    # Chunks keep the (samples × band) work arrays small whatever the grid.
    step = max(1, 2_000_000 // offsets.size)
    for a in range(0, mean.size, step):
        sl = slice(a, a + step)
        j = np.floor(centre_ch[sl]).astype(np.int64)[:, None] + offsets[None, :]
        valid = (j >= 0) & (j < n_channels)
        jj = np.clip(j, 0, n_channels - 1)
        lo = (e_edges_ch[jj] - mean[sl, None]) / sigma[sl, None]
        hi = (e_edges_ch[jj + 1] - mean[sl, None]) / sigma[sl, None]
        p = (special.ndtr(hi) - special.ndtr(lo)) * valid
        flat = jj * n_d + k[sl, None]
        out += np.bincount(flat.ravel(), weights=(p * weight[sl, None]).ravel(), minlength=out.size)
    r = out.reshape(n_channels, n_d)
    r.flags.writeable = False
    return r


def expected_counts(stack: Stack, detector: Detector, calibration: Calibration, n_channels: int,
                    edges_um, density_cm3, exposure_cm2: float, particles="auto") -> np.ndarray:  # fmt: skip
    """Expected counts per channel of a Li profile, shape (..., n_channels).

    Parameters
    ----------
    density_cm3 : array_like of shape (..., n_depth)
        Li density per depth bin, atoms/cm³.
    exposure_cm2 : float
        K = Φ·A·t_live·σ·a₆·Ω/4π, cm² (:meth:`ndp.scale.Scale.exposure_cm2`).
    """
    names = sensitive_particles(stack, detector, particles)
    r = sum(response_matrix(stack, p, detector, calibration, n_channels, edges_um) for p in names)
    return exposure_cm2 * np.asarray(density_cm3, dtype=float) @ r.T
