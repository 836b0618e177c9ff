"""Forward model: Li depth profile → expected spectrum, through a response matrix per particle.

For depth bins k (edges in µm) and channels j, ``R[j, k]`` is the expected number of counts in
channel j per unit exposure (cm²) from a Li density of 1 atom/cm³ filling bin k:

    R[j, k] = Δx_k · P(j | k),

where P(j | k) is the probability that a particle born in bin k and emitted toward the detector
lands in channel j. It folds:

* the energy loss through the profiled region, the window and the detector's dead layer
  (:mod:`ndp.physics.kinematics`, :func:`ndp.physics.detector.compile_stack`), sampled at sub-depths fine
  enough that no bin is wider in energy than half the resolution;
* the collimator's acceptance, integrated exactly (``Detector.cone = "exact"``, the default):
  isotropic emission is uniform in cos θ, so Gauss–Legendre nodes on [cos θmax, 1]
  (:func:`ndp.physics.detector.angular_quadrature`) each carry their own path lengths, energy loss and
  straggling, and the one-sided spread of path lengths (1/cos θ ≥ 1) shapes the edge as it
  should. The node count follows the cone's energy spread relative to the resolution
  (:func:`cone_nodes`): one node for a pencil beam or a narrow cone, a handful for 15° behind
  10 µm Cu. ``cone = "gaussian"`` folds the cone in as a variance instead (the model before
  exact quadrature). Angles at which the particle stops do not count;
* the discriminator acts on the *measured* pulse height: particles leaving the stack below the
  threshold still reach channels above it through the resolution, so the threshold is a cut on
  channels (the fitted range), not on particles;
* the pulse-height defect: the calibration maps channels to detected energy, the deposited
  energy minus the particle's defect (:meth:`ndp.physics.detector.Detector.pulse_height_keV`);
* energy straggling (the detector's model, :mod:`ndp.physics.straggling`) and the detector's resolution
  (:mod:`ndp.physics.resolution`) as a Gaussian, with an optional low-energy tail: a fraction of the
  counts spread below by a one-sided exponential (an exponentially modified Gaussian);
* the channel binning: the line shape is integrated over each channel's energy interval.

Expected counts: ``μ = K · Σ_p R_p @ c + background``, with K = Φ·A·t_live·σ·a₆·Ω/4π the
exposure (:mod:`ndp.model.scale`) and c the Li density (atoms/cm³) per bin. Matrices are built once per
(stack, particle, detector, calibration, channels, depth grid) and cached.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
from scipy import special

from ndp.errors import NdpError, NdpWarning, StackError
from ndp.physics import constants as C
from ndp.physics.detector import Detector, angular_quadrature, compile_stack
from ndp.physics.kinematics import detected_energy, energy_slope, max_depth
from ndp.physics.materials import Stack
from ndp.physics.resolution import (
    deposit_threshold_keV,
    depth_resolution,
    escaping_particles,
    straggling_variance,
)
from ndp.spectra.calibration import Calibration

__all__ = [
    "cone_nodes",
    "depth_edges",
    "expected_counts",
    "response_matrix",
    "sensitive_particles",
]


def sensitive_particles(stack: Stack, detector: Detector, particles="auto") -> list[str]:
    """Particles that leave the stack above the detector's threshold (``auto``), or those asked for."""

    return escaping_particles(
        stack, detector, "auto" if particles in ("auto", "both") else particles
    )


def depth_edges(stack: Stack, detector: Detector, step_um: float, particles="auto",
                max_depth_um: float | None = None) -> np.ndarray:  # fmt: skip
    """Depth-bin edges (µm) from 0 to the deepest depth any used particle is seen from.

    Warns (:class:`~ndp.errors.NdpWarning`) when the step is finer than a tenth of the best depth resolution:
    a regularised inversion oversamples the resolution usefully a few times, beyond that the
    bins are set by the prior, not the data.
    """
    if not (step_um > 0):
        raise StackError(f"depth_step_um: expected > 0, got {step_um}")

    names = sensitive_particles(stack, detector, particles)
    deepest = max(
        float(max_depth(compile_stack(stack, p, detector), deposit_threshold_keV(detector, p)))
        for p in names
    )
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

    return min(
        float(depth_resolution(compile_stack(stack, p, detector), [0.0], detector)["resolution_um"][0])
        for p in names
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
    cs = compile_stack(stack, particle, detector)
    edges = np.asarray(edges)
    n_d = edges.size - 1
    width = np.diff(edges)
    centres = 0.5 * (edges[1:] + edges[:-1])
    e_edges_ch = calibration.edges(n_channels)
    if not np.all(np.diff(e_edges_ch) > 0):
        raise NdpError("calibration: energy must increase with channel over the spectrum")

    model, scale2 = detector.straggling, detector.straggling_scale**2
    sig2_det = (
        detector.resolution_keV / C.FWHM_PER_SIGMA
    ) ** 2 + detector.channel_width_keV**2 / 12
    exact = detector.cone == "exact"
    if exact:
        cos, w = _cone_nodes(cs, centres, detector, sig2_det)
    else:
        cos, w = np.ones(1), np.ones(1)
    # Straggling on (bin centres × nodes), interpolated to sub-samples (it varies slowly).
    sig2_grid = np.nan_to_num(
        straggling_variance(cs, centres[:, None], cos[None, :], model=model), nan=0.0
    ) * scale2

    slope = np.abs(energy_slope(cs, centres))
    sigma_min = np.sqrt(sig2_det + sig2_grid[:, -1])
    n_sub = int(np.clip(np.ceil(np.max(2.0 * slope * width / np.maximum(sigma_min, 1e-6))), 1, 32))
    frac = (np.arange(n_sub) + 0.5) / n_sub
    x = (edges[:-1, None] + width[:, None] * frac[None, :]).ravel()  # (n_d * n_sub,)
    k = np.repeat(np.arange(n_d), n_sub)
    sig2_x = np.column_stack([np.interp(x, centres, sig2_grid[:, i]) for i in range(cos.size)])

    if exact:
        # One Gaussian per (sub-sample, node): the cone's one-sided spread of path lengths is
        # kept, and each angle has its own straggling.
        e_ang = detected_energy(cs, x[:, None], cos[None, :])  # (N, n_nodes)
        mean = e_ang.ravel()
        var = (sig2_det + sig2_x).ravel()
        weight = (w[None, :] * (width[k] * C.CM_PER_UM / n_sub)[:, None]).ravel()
        k = np.repeat(k, cos.size)
    else:
        # Variance folding: the mean over the cone and its variance as a Gaussian.
        cos_g, w_g = detector.angles()
        e_ang = detected_energy(cs, x[:, None], cos_g[None, :])
        seen = e_ang > 0.0
        w_seen = seen @ w_g
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(w_seen > 0, (e_ang * seen) @ w_g / w_seen, 0.0)
            var_ang = np.where(
                w_seen > 0, (((e_ang - mean[:, None]) ** 2) * seen) @ w_g / w_seen, 0.0
            )
        var = sig2_det + sig2_x[:, 0] + var_ang
        weight = w_seen * width[k] * C.CM_PER_UM / n_sub
    # The calibration is in detected energy: deposited minus the pulse-height defect.
    mean = np.where(mean > 0, mean - detector.pulse_height_defect_keV(particle), 0.0)
    keep = (weight > 0) & (mean > 0)
    k, mean, sigma, weight = k[keep], mean[keep], np.sqrt(var[keep]), weight[keep]
    return _fold(mean, sigma, weight, k, calibration, e_edges_ch, n_channels, n_d, detector)


def _fold(mean, sigma, weight, k, calibration, e_edges_ch, n_channels, n_d, detector) -> np.ndarray:
    """Spread each sample's weight over the channels: Gaussian (+ tail), integrated per channel."""
    out = np.zeros(n_channels * n_d)
    if mean.size == 0:
        return out.reshape(n_channels, n_d)
    f, lam = float(detector.tail_fraction), float(detector.tail_slope_keV)
    centre_ch = calibration.inverse(mean)
    dch = np.abs(calibration.slope(np.clip(centre_ch, 0, n_channels - 1)))
    hi_half = int(min(np.ceil(np.max(6.0 * sigma / dch)) + 2, n_channels))
    # The tail reaches down until its share falls below 1e-7 of the sample's counts.
    tail_keV = lam * np.log(max(f, 1e-300) * 1e7) if f > 0 else 0.0
    lo_half = int(min(np.ceil(np.max((6.0 * sigma + max(tail_keV, 0.0)) / dch)) + 2, n_channels))
    offsets = np.arange(-lo_half, hi_half + 1)
    # Chunks keep the (samples × band) work arrays small whatever the grid.
    step = max(1, 2_000_000 // offsets.size)
    for a in range(0, mean.size, step):
        sl = slice(a, a + step)
        j = np.floor(centre_ch[sl]).astype(np.int64)[:, None] + offsets[None, :]
        valid = (j >= 0) & (j < n_channels)
        jj = np.clip(j, 0, n_channels - 1)
        m, s = mean[sl, None], sigma[sl, None]
        lo = (e_edges_ch[jj] - m) / s
        hi = (e_edges_ch[jj + 1] - m) / s
        p = special.ndtr(hi) - special.ndtr(lo)
        if f > 0:
            r = s / lam
            p = (1.0 - f) * p + f * (p + _tail_excess(hi, r) - _tail_excess(lo, r))
        p = p * valid
        flat = jj * n_d + k[sl, None]
        out += np.bincount(flat.ravel(), weights=(p * weight[sl, None]).ravel(), minlength=out.size)
    r = out.reshape(n_channels, n_d)
    r.flags.writeable = False
    return r


def _tail_excess(u: np.ndarray, r: np.ndarray) -> np.ndarray:
    """CDF of a Gaussian minus a one-sided exponential, less the Gaussian's: exp(a)·Φ(−b).

    For X = μ + σZ − Y, Y exponential of mean λ: P(X ≤ μ + uσ) = Φ(u) + exp(uσ/λ + σ²/2λ²)
    Φ(−u − σ/λ). With b = u + r (r = σ/λ) the second term is ½ exp(−u²/2) erfcx(b/√2), finite
    for b > 0; for b ≤ 0 the exponent is negative and the direct form is safe.
    """
    b = u + r
    with np.errstate(over="ignore", invalid="ignore"):
        direct = np.exp(u * r + 0.5 * r * r) * special.ndtr(-b)
        scaled = 0.5 * np.exp(-0.5 * u * u) * special.erfcx(b / np.sqrt(2.0))
    return np.where(b > 0, scaled, direct)


#: Nodes per unit of (cone's energy spread / σ), beyond the first. One per σ already keeps the
#: triton edge behind 10 µm Cu at 15° within 0.01 keV of twice as many nodes; two per σ bring
#: the whole matrix within ~1e-5 (L1) of the converged one, so the instrument fit, whose trial
#: widths change the count by a node now and then, sees no step in its objective.
NODES_PER_SIGMA = 2.0
MAX_CONE_NODES = 48


def cone_nodes(spread_keV, sigma_keV) -> int:
    """Gauss–Legendre nodes enough for a cone whose energies spread over ``spread_keV``.

    Each node's Gaussian has width σ; nodes σ/2 apart make the sum of Gaussians
    indistinguishable from the integral, so n = 1 + ⌈2 · max(spread/σ)⌉ (1 for a pencil).

    Parameters
    ----------
    spread_keV, sigma_keV : array_like of shape (N,)
        Detected-energy difference between normal and the widest angle, and the energy spread
        without the cone (detector, straggling), at N depths.
    """
    ratio = np.asarray(spread_keV, dtype=float) / np.maximum(np.asarray(sigma_keV, float), 1e-6)
    ratio = ratio[np.isfinite(ratio)]
    worst = float(np.max(ratio)) if ratio.size else 0.0
    return int(np.clip(1 + np.ceil(NODES_PER_SIGMA * worst), 1, MAX_CONE_NODES))


def _cone_nodes(cs, centres, detector: Detector, sig2_det: float):
    """Quadrature nodes and weights over the cone for a response over depths ``centres``."""
    if detector.acceptance_half_angle_deg <= 0:
        return np.ones(1), np.ones(1)
    n = detector.cone_nodes
    if n == 0:
        cos_max = np.cos(np.radians(detector.acceptance_half_angle_deg))
        e_hi = detected_energy(cs, centres, 1.0)
        e_lo = detected_energy(cs, centres, cos_max)
        sig2 = straggling_variance(cs, centres, model=detector.straggling)
        sigma = np.sqrt(sig2_det + np.nan_to_num(sig2, nan=0.0) * detector.straggling_scale**2)
        # Where the widest angles stop the particle the spread is that of the end of the
        # range, which the threshold cuts anyway: those depths do not set the node count.
        seen = e_lo > 0
        n = cone_nodes((e_hi - e_lo)[seen], sigma[seen])
    return angular_quadrature(detector.acceptance_half_angle_deg, n)


def expected_counts(stack: Stack, detector: Detector, calibration: Calibration, n_channels: int,
                    edges_um, density_cm3, exposure_cm2: float, particles="auto") -> np.ndarray:  # fmt: skip
    """Expected counts per channel of a Li profile, shape (..., n_channels).

    Parameters
    ----------
    density_cm3 : array_like of shape (..., n_depth)
        Li density per depth bin, atoms/cm³.
    exposure_cm2 : float
        K = Φ·A·t_live·σ·a₆·Ω/4π, cm² (:meth:`ndp.model.scale.Scale.exposure_cm2`).
    """
    names = sensitive_particles(stack, detector, particles)
    r = sum(response_matrix(stack, p, detector, calibration, n_channels, edges_um) for p in names)
    return exposure_cm2 * np.asarray(density_cm3, dtype=float) @ r.T
