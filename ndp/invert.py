"""Spectra → Li depth profiles, with uncertainties. Two methods behind :func:`invert`.

``direct``
    The classic channel-by-channel map for one particle (α when it escapes, else the triton):
    each channel's counts divided by the depth interval its energy interval maps to, then summed
    into depth bins. Ignores resolution and the other particle; kept as the reference method.

``inversion``
    The profile c ≥ 0 that maximises the Poisson likelihood of every channel in the region of
    interest, α and triton together (μ = K·(R_α + R_t)·c + background), with a smoothness prior
    ½λ‖Dc‖² (D: first differences, favouring flat layers; or second differences). λ is chosen per
    frame by the discrepancy principle: the Pearson χ² of the fit equals the number of channels.
    Uncertainty bands are the square roots of the diagonal of the inverse curvature
    (Aᵀ diag(1/μ) A + λDᵀD) over the free (non-zero) bins, i.e. the posterior of the Gaussian
    smoothness prior; they do not include the bias the prior introduces. Frames of a series are
    warm-started from the previous frame's profile and λ.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import xarray as xr
from scipy import linalg
from threadpoolctl import threadpool_limits

from . import constants as C
from .calibration import Calibration
from .detector import Detector
from .errors import NdpError
from .forward import NdpWarning, depth_edges, response_matrix, sensitive_particles
from .kinematics import depth_from_energy
from .scale import Scale
from .stack import Stack

__all__ = ["inventory", "invert"]


def _difference(n: int, order: int) -> np.ndarray:
    d = np.eye(n)
    for _ in range(order):
        d = np.diff(d, axis=0)
    return d


def _calibration(spectra: xr.Dataset, calibration) -> Calibration:
    if calibration is None:
        cal = spectra.attrs.get("calibration")
        if cal is None:
            raise NdpError(
                "spectra: no energy calibration; give one (run file [detector] calibration)"
            )
        calibration = cal
    return calibration if isinstance(calibration, Calibration) else Calibration(tuple(calibration))


def _check_coverage(
    stack: Stack, detector: Detector, cal: Calibration, n_channels: int, names
) -> None:
    e_lo, e_hi = float(cal(-0.5)), float(cal(n_channels - 0.5))
    for p in names:
        edge = stack.to_array(p).surface_energy_keV
        if not e_lo < edge < e_hi:
            raise NdpError(
                f"calibration: channels span {e_lo:.0f}–{e_hi:.0f} keV, but the {p} surface edge is at "
                f"{edge:.0f} keV; check [detector] calibration"
            )


def _background(background, spectra: xr.Dataset, n_channels: int) -> np.ndarray:
    """Expected background counts per frame and channel, shape (frames, channels)."""
    live = spectra.live_time_s.values
    if background is None:
        return np.zeros((live.size, n_channels))
    if isinstance(background, xr.Dataset):
        if background.sizes["channel"] != n_channels:
            raise NdpError(
                f"background: {background.sizes['channel']} channels, the spectra have {n_channels}"
            )
        rate = background.counts.values.sum(axis=0) / background.live_time_s.values.sum()
        return live[:, None] * rate[None, :]
    rate = np.broadcast_to(np.asarray(background, dtype=float), (n_channels,))
    return live[:, None] * rate[None, :]


class _Problem:
    """One frame's penalised Poisson likelihood in c_rel (Li density / Li metal density).

    f(c) = Σ (μ − y log μ) + ½ λ cᵀMc,  μ = A c + b,  c ≥ 0.

    Solved by projected Newton on the exact Hessian Aᵀ diag(y/μ²) A + λM: the problems are small
    (hundreds of bins, channels grouped to a fraction of the resolution), and the likelihood is
    convex, so a handful of steps reach the optimum where first-order methods crawl.
    """

    def __init__(self, a: np.ndarray, y: np.ndarray, b: np.ndarray, m: np.ndarray):
        self.a, self.y, self.b, self.m = a, y, b, m
        self.eps = 1e-9

    def mu(self, c):
        return self.a @ c + self.b + self.eps

    def value(self, c, lam):
        mu = self.mu(c)
        return float(np.sum(mu - self.y * np.log(mu)) + 0.5 * lam * c @ self.m @ c)

    def solve(self, c0, lam, maxiter=60, tol=1e-4):
        c = np.maximum(c0, 0.0)
        f = self.value(c, lam)
        self.iterations = 0
        for _ in range(maxiter):
            self.iterations += 1
            mu = self.mu(c)
            g = self.a.T @ (1.0 - self.y / mu) + lam * (self.m @ c)
            # ε-active set (Bertsekas): bins at or next to zero that the gradient pushes down
            # stay at zero; treating them as free makes the projected steps zigzag.
            eps = min(
                1e-6 * max(float(c.max()), 1e-30), float(np.linalg.norm(c - np.maximum(c - g, 0.0)))
            )
            free = (c > eps) | (g < 0)
            # Fisher information (1/μ) rather than the observed y/μ²: it stays positive in empty
            # channels, so the steps are well scaled and seldom need backtracking.
            h = (self.a.T * (1.0 / mu)) @ self.a + lam * self.m
            hf = h[np.ix_(free, free)]
            hf[np.diag_indices_from(hf)] += 1e-12 * np.trace(hf) / max(hf.shape[0], 1)
            try:
                step_free = -linalg.solve(hf, g[free], assume_a="pos")
            except (linalg.LinAlgError, ValueError):
                step_free = -g[free] / np.maximum(np.diag(hf), 1e-30)
            step = np.zeros_like(c)
            step[free] = step_free
            c_base = np.where(free, c, 0.0)
            t = 1.0
            while True:  # backtracking along the projected path
                c_new = np.maximum(c_base + t * step, 0.0)
                f_new = self.value(c_new, lam)
                if f_new <= f + 1e-4 * g @ (c_new - c) or t < 1e-6:
                    break
                t *= 0.5
            # An improvement below 1e-4 in log-likelihood changes no profile visibly.
            done = f - f_new <= tol
            if f_new < f:
                c, f = c_new, f_new
            if done:
                break
        return c

    def chi2(self, c) -> tuple[float, float]:
        """Pearson-type misfit and its expectation at the fit.

        Σ (y − μ)²/max(μ, 1): where μ ≥ 1 this is Pearson's χ² (expectation 1 per channel);
        where the model expects almost nothing it is bounded, so one stray count does not
        outweigh the spectrum (expectation μ there). Returns (misfit, Σ min(μ, 1)).
        """
        mu = self.mu(c)
        return float(np.sum((self.y - mu) ** 2 / np.maximum(mu, 1.0))), float(
            np.sum(np.minimum(mu, 1.0))
        )


def _choose_lambda(
    prob: _Problem, c0: np.ndarray, lam0: float, target: float, scale: float, warm: bool
):
    """Discrepancy principle: a λ whose misfit equals its expectation (misfit grows with λ).

    χ² itself scatters by √(2·target) from one measurement to the next, so any λ whose χ² lies
    within two such standard deviations of the target is as good as any other and is accepted:
    along a series, the previous frame's λ usually is, and one solve suffices. Otherwise log λ
    is bracketed from ``lam0`` (steps of two decades, or ¼ decade when warm) and bisected to 0.1
    decade. When even λ → 0 cannot reach the target (the model misses something: the matrix,
    the background, the calibration), the goal becomes the best χ² plus its scatter (the
    modified discrepancy principle), so a model error is not answered with noise amplification.
    """
    band = 2.0 * np.sqrt(2.0 * target)
    floor = -12.0  # log λ/scale: below this only noise is fitted
    fits: dict[float, tuple[np.ndarray, float]] = {}
    state = {"c": c0, "offset": 0.0}

    def miss(log_l):
        if log_l not in fits:
            c = prob.solve(state["c"], scale * 10.0**log_l)
            state["c"] = c
            stat, expected = prob.chi2(c)
            fits[log_l] = (c, stat - expected)
        return fits[log_l][1] - state["offset"]

    def done(log_l):
        return fits[log_l][0], scale * 10.0**log_l

    step = 0.25 if warm else 2.0
    lo = hi = max(float(np.log10(lam0 / scale)), floor)
    if abs(miss(lo)) <= band:
        return done(lo)
    if miss(lo) > 0:  # too smooth: lower λ until the fit is good enough
        while miss(lo) > 0:
            if lo <= floor:
                state["offset"] = fits[lo][1] + band
                if miss(hi) <= 0:
                    return done(hi)
                break
            hi, lo = lo, max(lo - step, floor)
            if abs(miss(lo)) <= band:
                return done(lo)
    else:
        for _ in range(40):
            lo, hi = hi, hi + step
            if abs(miss(hi)) <= band:
                return done(hi)
            if miss(hi) > 0:
                break
        else:
            return done(hi)
    while hi - lo > 0.1:
        mid = 0.5 * (lo + hi)
        if abs(miss(mid)) <= band:
            return done(mid)
        if miss(mid) > 0:
            hi = mid
        else:
            lo = mid
    return done(lo)


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


def _errors(a, mu, dtd, lam, c) -> np.ndarray:
    """Posterior covariance of c_rel over the free bins (zero-bound bins get their marginal)."""
    h = (a.T * (1.0 / mu)) @ a + lam * dtd
    n = c.size
    cov = np.zeros((n, n))
    free = c > 1e-8 * max(float(c.max()), 1e-30)
    idx = np.flatnonzero(free) if free.any() else np.arange(n)
    try:
        hf = linalg.cho_factor(h[np.ix_(idx, idx)] + 1e-12 * np.eye(idx.size))
        cov[np.ix_(idx, idx)] = linalg.cho_solve(hf, np.eye(idx.size))
    except linalg.LinAlgError:
        cov[np.ix_(idx, idx)] = linalg.pinvh(h[np.ix_(idx, idx)])
    fixed = np.flatnonzero(~free)
    if fixed.size:
        cov[fixed, fixed] = 1.0 / np.maximum(np.diag(h)[fixed], 1e-30)
    return cov


def _with_tail(stack: Stack, detector: Detector, names, edges: np.ndarray) -> np.ndarray:
    """Edges extended by coarse bins to the deepest depth any particle is seen from.

    Li deeper than the requested range still sends particles (the triton's deep tail reaches
    energies where the α is); the fit must be able to put them somewhere, or it explains them
    with artefacts in the requested range. At most 40 tail bins, at least as wide as the step.
    """
    from .kinematics import max_depth

    deepest = max(float(max_depth(stack.to_array(p), detector.threshold_keV)) for p in names)
    end = float(edges[-1])
    step = float(edges[1] - edges[0])
    if deepest <= end + 0.5 * step:
        return edges
    n = int(np.ceil((deepest - end) / max(step, (deepest - end) / 40)))
    return np.concatenate([edges, np.linspace(end, deepest, n + 1)[1:]])


def _local_fwhm_keV(stack: Stack, detector: Detector, names, energy_keV: np.ndarray) -> np.ndarray:
    """Energy resolution (FWHM, keV) of the spectrum at each energy: the best particle's there."""
    from .resolution import depth_resolution

    best = np.full(energy_keV.shape, np.inf)
    for p in names:
        cs = stack.to_array(p)
        depth = np.clip(
            np.nan_to_num(depth_from_energy(cs, energy_keV), nan=0.0), 0.0, cs.region_end_um
        )
        fw = depth_resolution(cs, depth, detector, n_angles=8)["resolution_keV"]
        best = np.minimum(best, np.where(np.isfinite(fw), fw, np.inf))
    floor = detector.resolution_keV
    return np.where(np.isfinite(best), np.maximum(best, floor), floor)


def inventory(density_cm3, edges_um, window_um=None) -> np.ndarray:
    """Li areal content (atoms/cm²) of a depth window: ∫ c dx, partial bins pro rata.

    Parameters
    ----------
    density_cm3 : array_like of shape (..., n_depth)
    edges_um : array_like of shape (n_depth + 1,)
    window_um : (float, float), optional
        Default: the whole grid.
    """
    w = _window_weights(np.asarray(edges_um, dtype=float), window_um)
    return np.asarray(density_cm3) @ w


def _window_weights(edges: np.ndarray, window_um) -> np.ndarray:
    lo, hi = (edges[0], edges[-1]) if window_um is None else window_um
    overlap = np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0.0, None)
    return overlap * 1e-4  # cm


def invert(
    spectra: xr.Dataset,
    stack: Stack,
    detector: Detector,
    calibration: Calibration | None = None,
    *,
    scale: Scale | None = None,
    method: str = "inversion",
    particles: str = "auto",
    depth_step_um: float = 0.1,
    max_depth_um: float | None = None,
    li_region_um: tuple[float, float] | None = None,
    background=None,
    regularization: str | float = "discrepancy",
    smoothness_order: int = 1,
    time_zero=None,
    flux_weights=None,
    progress: Callable[[int], None] | None = None,
) -> xr.Dataset:
    """Li depth profiles of every frame of ``spectra``.

    Parameters
    ----------
    spectra : xarray.Dataset
        Raw counts (dims ``frame``, ``channel``) with live times; calibrated or not.
    stack : Stack
    detector : Detector
    calibration : Calibration, optional
        Default: the spectra's own (``attrs["calibration"]``).
    scale : Scale, optional
        Counts → atoms (:class:`ndp.scale.Scale`); default relative (arbitrary units).
    method : {"inversion", "direct"}
    particles : {"auto", "alpha", "triton"}
        The particle the ``direct`` method maps (default: α when it escapes). ``inversion``
        always models every particle that escapes: α and triton come from the same reactions.
    depth_step_um : float
        Depth bin width, µm.
    max_depth_um : float, optional
        Deepest depth to reconstruct (default: the deepest any used particle is seen from).
    li_region_um : (float, float), optional
        Depth window of the Li inventory (default: the whole grid).
    background : None, float, array_like of shape (channels,) or xarray.Dataset
        Expected background, counts per live second per channel, or a blank measurement.
    regularization : "discrepancy" or float
        How λ is chosen, or a fixed λ (in units of the data term's mean curvature).
    smoothness_order : {1, 2}
        First (flat layers) or second (smooth slopes) differences in the prior.
    time_zero : datetime64, optional
        Origin of the ``time`` coordinate (default: the first frame's start).
    flux_weights : array_like of shape (frames,), optional
        Each frame's flux relative to the scale's (e.g. beam-monitor rate over its mean), so
        a drifting beam does not read as a changing Li inventory.
    progress : callable, optional
        Called with the number of frames done.

    Returns
    -------
    xarray.Dataset
        Dims ``time`` and ``depth`` (bin centres, µm): ``li_density`` and ``li_density_err``
        (atoms/cm³, or arbitrary units for a relative scale), ``li_density_rel`` (of Li metal),
        ``li_areal`` and ``li_areal_err`` (atoms/cm²), ``li_capacity`` and ``li_capacity_err``
        (mAh/cm²), ``counts`` and ``fit`` (time, channel), ``chi2_per_channel``, ``lambda``;
        coords ``depth_edges`` and ``energy``; attrs state the method, particles, stack,
        matrix and scale.
    """
    if method not in ("inversion", "direct"):
        raise NdpError(f"method: expected 'inversion' or 'direct', got {method!r}")
    scale = scale or Scale.relative()
    cal = _calibration(spectra, calibration)
    n_ch = spectra.sizes["channel"]
    # Both products of every reaction reach the detector when they escape, so the inversion
    # models all escaping particles; ``particles`` picks the direct method's one.
    names = sensitive_particles(stack, detector, "auto" if method == "inversion" else particles)
    if method == "inversion" and particles not in ("auto", "both"):
        sensitive_particles(stack, detector, particles)  # still refuse one that cannot escape
    _check_coverage(stack, detector, cal, n_ch, names)
    edges = depth_edges(
        stack, detector, depth_step_um, names if len(names) == 1 else "auto", max_depth_um
    )
    n_out = edges.size - 1
    if method == "inversion":
        edges = _with_tail(stack, detector, names, edges)
    centres = 0.5 * (edges[1:] + edges[:-1])
    n_d = centres.size
    y_all = np.asarray(spectra.counts.values, dtype=float)
    if np.any(y_all < 0):
        raise NdpError(
            "spectra: counts must be >= 0 (invert raw counts and pass the blank as background)"
        )
    live = spectra.live_time_s.values
    k_frame = scale.exposure_cm2(live) * C.LI_METAL_ATOMS_CM3  # counts per (c_rel · cm)
    if flux_weights is not None:
        fw = np.broadcast_to(np.asarray(flux_weights, dtype=float), live.shape)
        if not np.all(np.isfinite(fw) & (fw > 0)):
            raise NdpError("flux_weights: expected positive numbers, one per frame")
        k_frame = k_frame * fw
    bkg = _background(background, spectra, n_ch)
    n_frames = y_all.shape[0]

    dens = np.zeros((n_frames, n_d))
    err = np.zeros((n_frames, n_d))
    inv_var = np.zeros(n_frames)
    fit = np.zeros_like(y_all)
    chi2 = np.full(n_frames, np.nan)
    lams = np.full(n_frames, np.nan)
    w_win = _window_weights(edges, li_region_um)

    if method == "direct":
        used = names[0]
        cs = stack.to_array(used)
        e_edges = cal.edges(n_ch)
        x_edges = depth_from_energy(cs, e_edges)
        # Higher energy is shallower: channel j spans depths x_edges[j + 1] … x_edges[j].
        x_hi, x_lo = x_edges[:-1], x_edges[1:]
        ok = np.isfinite(x_hi) & np.isfinite(x_lo) & (x_lo >= edges[0]) & (x_hi <= edges[-1])
        ok &= cal.edges(n_ch)[:-1] >= detector.threshold_keV
        mid = 0.5 * (x_lo + x_hi)
        bins = np.clip(np.searchsorted(edges, mid, side="right") - 1, 0, n_d - 1)
        dx_cm = np.abs(x_hi - x_lo) * 1e-4
        sum_dx = np.bincount(bins[ok], weights=dx_cm[ok], minlength=n_d)
        for i in range(n_frames):
            net = y_all[i] - bkg[i]
            cnt = np.bincount(bins[ok], weights=net[ok], minlength=n_d)
            var = np.bincount(bins[ok], weights=y_all[i][ok], minlength=n_d)
            with np.errstate(invalid="ignore", divide="ignore"):
                # k_frame counts per (c_rel · cm); × Li-metal density gives atoms/cm³.
                dens[i] = (
                    np.where(sum_dx > 0, cnt / (k_frame[i] * sum_dx), np.nan) * C.LI_METAL_ATOMS_CM3
                )
                err[i] = (
                    np.where(sum_dx > 0, np.sqrt(var) / (k_frame[i] * sum_dx), np.nan)
                    * C.LI_METAL_ATOMS_CM3
                )
            inv_var[i] = np.nansum((err[i] * w_win) ** 2)
            if progress is not None:
                progress(i + 1)
        used_names = [used]
    else:
        r = sum(response_matrix(stack, p, detector, cal, n_ch, edges) for p in names)
        signal = r.sum(axis=1)
        energy = cal(np.arange(n_ch))
        roi = np.flatnonzero((signal > 1e-6 * signal.max()) & (energy >= detector.threshold_keV))
        # Group channels to a quarter of the local energy resolution: sums of Poisson counts are
        # Poisson, the response is smooth on that scale, and the problem shrinks many-fold.
        fwhm = _local_fwhm_keV(stack, detector, names, energy[roi])
        per_ch = np.abs(cal.slope(roi))
        group = _channel_groups(roi, np.maximum(np.floor(fwhm / 4.0 / per_ch), 1).astype(int))
        n_g = group[-1] + 1
        a_base = np.zeros((n_g, n_d))
        np.add.at(a_base, group, r[roi])
        d = _difference(n_d, smoothness_order)
        dtd = d.T @ d
        c = None
        lam = None
        # The per-frame matrices are small (hundreds of rows): multi-threaded BLAS spends more
        # time synchronising than computing on them, 8× slower on 2 cores than one thread.
        with threadpool_limits(limits=1, user_api="blas"):
            for i in range(n_frames):
                y = np.bincount(group, weights=y_all[i, roi], minlength=n_g)
                b = np.bincount(group, weights=bkg[i, roi], minlength=n_g)
                a = a_base * k_frame[i]
                prob = _Problem(a, y, b, dtd)
                curv = float(np.mean(np.sum(a**2 / np.maximum(y, 1.0)[:, None], axis=0)))
                scale_l = max(curv / max(float(np.mean(np.diag(dtd))), 1e-30), 1e-30)
                if c is None:
                    # Start flat, at the level that accounts for all counts.
                    c = np.full(n_d, max(float((y.sum() - b.sum()) / max(a.sum(), 1e-30)), 1e-6))
                if regularization == "discrepancy":
                    # λ travels between frames relative to each frame's own curvature scale.
                    warm = lam is not None and np.isfinite(lam) and lam > 0
                    # Cold: the middle of the range seen in practice (1e-8 … 1 of the scale).
                    lam0 = lam * scale_l if warm else 1e-4 * scale_l
                    c, lam_abs = _choose_lambda(prob, c, lam0, float(n_g), scale_l, warm)
                    lam = lam_abs / scale_l
                else:
                    lam = float(regularization)
                    c = prob.solve(c, lam * scale_l)
                mu = prob.mu(c)
                cov = _errors(a, mu, dtd, lam * scale_l, c)
                dens[i] = c * C.LI_METAL_ATOMS_CM3
                err[i] = np.sqrt(np.maximum(np.diag(cov), 0.0)) * C.LI_METAL_ATOMS_CM3
                inv_var[i] = float(w_win @ cov @ w_win) * C.LI_METAL_ATOMS_CM3**2
                fit[i, roi] = k_frame[i] * (r[roi] @ c) + bkg[i, roi]
                stat, expected = prob.chi2(c)
                chi2[i] = stat / max(expected, 1.0)
                lams[i] = lam
                if progress is not None:
                    progress(i + 1)
        used_names = names

    worst = float(np.nanmax(chi2)) if np.any(np.isfinite(chi2)) else 0.0
    if worst > 3.0:
        warnings.warn(
            f"the best fit leaves χ²/channel = {worst:.3g}: the model does not describe the spectra "
            "(check the stack and its matrix, the calibration and the background)",
            NdpWarning, stacklevel=2,
        )  # fmt: skip
    areal = np.nan_to_num(dens) @ w_win
    # Report the requested depth range; the tail bins only absorbed deeper Li.
    dens, err = dens[:, :n_out], err[:, :n_out]
    tail_um = float(edges[-1] - edges[n_out])
    edges, centres = edges[: n_out + 1], centres[:n_out]
    areal_err = np.sqrt(inv_var)
    rel_units = scale.absolute
    start = spectra.start.values
    t0 = start[0] if time_zero is None else np.datetime64(time_zero, "ns")
    mid_time = (start - t0) / np.timedelta64(1, "s") + spectra.real_time_s.values / 2
    dens_units = scale.units
    ds = xr.Dataset(
        {
            "li_density": (("time", "depth"), dens, {"units": dens_units, "long_name": "Li density"}),
            "li_density_err": (("time", "depth"), err, {"units": dens_units, "long_name": "1σ uncertainty"}),
            "li_density_rel": (("time", "depth"), dens / C.LI_METAL_ATOMS_CM3 if rel_units else dens * np.nan,
                               {"units": "1", "long_name": "Li density relative to Li metal (4.63e22 /cm3)"}),
            "li_areal": ("time", areal, {"units": "atoms/cm2" if rel_units else "arb. units"}),
            "li_areal_err": ("time", areal_err, {"units": "atoms/cm2" if rel_units else "arb. units"}),
            "li_capacity": ("time", areal / C.LI_ATOMS_PER_MAH, {"units": "mAh/cm2" if rel_units else "arb. units"}),
            "li_capacity_err": ("time", areal_err / C.LI_ATOMS_PER_MAH, {"units": "mAh/cm2" if rel_units else "arb. units"}),
            "counts": (("time", "channel"), y_all, {"units": "counts"}),
            "fit": (("time", "channel"), fit, {"units": "counts", "long_name": "fitted expected counts"}),
            "chi2_per_channel": ("time", chi2),
            "lambda": ("time", lams, {"long_name": "regularisation strength (relative)"}),
        },
        coords={
            "time": ("time", mid_time, {"units": "s", "long_name": "frame mid-time from time_zero"}),
            "depth": ("depth", centres, {"units": "um", "long_name": "depth from the profiled layer's surface"}),
            "depth_edges": ("depth_edge", edges, {"units": "um"}),
            "start": ("time", start),
            "live_time_s": ("time", live, {"units": "s"}),
            "real_time_s": ("time", spectra.real_time_s.values, {"units": "s"}),
            "channel": spectra.channel.values,
            "energy": ("channel", cal(spectra.channel.values), {"units": "keV"}),
        },
        attrs={
            "method": method,
            "particles": ",".join(used_names),
            "stack": repr(stack),
            "matrix": ", then ".join(f"{lay.material.name} ({lay.material.density_g_cm3:g} g/cm3, {lay.thickness_um:g} um)" for lay in stack.region),
            "scale": scale.kind,
            "scale_per_second_cm2": scale.per_second_cm2,
            "scale_relative_error": scale.relative_error,
            "li_region_um": list(li_region_um) if li_region_um is not None else [float(edges[0]), float(edges[-1])],
            "calibration": list(cal.coefficients),
            "depth_step_um": float(depth_step_um),
            "tail_um": tail_um,
            "time_zero": str(t0),
            "flux_normalisation": "per-frame weights (beam monitor)" if flux_weights is not None else "none",
        },
    )  # fmt: skip
    return ds
