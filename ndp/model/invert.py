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
from concurrent.futures import Executor

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from ndp.errors import NdpError, NdpWarning
from ndp.model.bounds import density_upper_bound
from ndp.model.forward import depth_edges, sensitive_particles
from ndp.model.instrument import Instrument, Parameter
from ndp.model.instrument import fit_instrument as _fit
from ndp.model.response import FIT_MIN_KEV, build_response
from ndp.model.scale import Scale
from ndp.model.series import fit_series, window_weights
from ndp.physics import constants as C
from ndp.physics import units as U
from ndp.physics.detector import Detector, compile_stack
from ndp.physics.kinematics import depth_from_energy, detected_energy, max_depth
from ndp.physics.materials import Stack
from ndp.physics.resolution import depth_resolution
from ndp.spectra.calibration import Calibration
from ndp.spectra.dataset import check_spectra
from ndp.spectra.reduce import blank_counts, total_counts

__all__ = ["inventory", "invert", "response_and_bound"]


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
    """Expected background counts per frame and channel, shape (frames, channels).

    A blank measurement is scaled to each frame by :func:`ndp.spectra.reduce.blank_counts` (monitor
    when both have one, live time otherwise; mismatched channels or calibration are errors);
    an array is taken as the expected counts themselves.
    """
    shape = (spectra.sizes["frame"], n_channels)
    if background is None:
        return np.zeros(shape)
    if isinstance(background, xr.Dataset):
        background = blank_counts(spectra, background).counts.transpose("frame", "channel")
    b = np.asarray(background, dtype=float)
    try:
        return np.broadcast_to(b, shape).copy()
    except ValueError:
        raise NdpError(
            f"background: expected counts of shape (frames, channels) = {shape}, got {b.shape}"
        ) from None


def _lowest_needed_keV(stack: Stack, detector: Detector, names, window_um) -> float:
    """Default lower end of the fitted energies: :data:`~ndp.model.response.FIT_MIN_KEV`, or
    lower where the inventory window needs it, or higher where the declared stack ends.

    The lowest energies are the least trustworthy (end of range, deepest layers), so they are
    left out, but never those of particles born inside the inventory window or within two
    detector resolutions' worth of energy below its end. Where particles born at the end of
    the profiled region still escape, whatever lies behind it (more electrolyte, a cathode)
    also sends particles, at energies the declared stack cannot produce: those are left out
    too (:func:`_stack_floor_keV`), as long as the inventory window does not need them.
    """

    lowest = max(FIT_MIN_KEV, _stack_floor_keV(stack, detector, names))
    if window_um is None:
        return lowest
    for p in names:
        e = float(detected_energy(stack.to_array(p), min(float(window_um[1]), stack.region_thickness_um)))
        lowest = min(lowest, e - 2.0 * detector.resolution_keV)
    return max(lowest, 0.0)


#: Consecutive channels with counts that mark where a spectrum starts recording.
RECORDED_RUN = 8
#: A start counting at least this share of the channels above it is a discriminator's cut.
STEP_FRACTION = 0.3


def recorded_from_keV(counts, calibration: Calibration) -> float:
    """Lowest energy from which the spectra (summed over frames) record counts without a gap.

    A discriminator set higher than the run file says leaves the channels below it empty while
    the model expects counts there; fitting them would read as a misfit of the whole profile.
    Channels below this energy are not fitted. Where the physics itself sends nothing to the
    low channels (a thick window) the model expects nothing there either, so leaving them out
    loses nothing.

    Parameters
    ----------
    counts : array_like of shape (n_channels,) or (n_frames, n_channels)
    calibration : Calibration

    Returns
    -------
    float
        keV: the lower edge of the first of :data:`RECORDED_RUN` consecutive channels with
        counts, where those already count :data:`STEP_FRACTION` of the channels above them;
        else 0.
    """
    c = np.asarray(counts)
    total = c.sum(axis=0) if c.ndim == 2 else c
    if total.size < RECORDED_RUN:
        return 0.0
    runs = np.convolve((total > 0).astype(int), np.ones(RECORDED_RUN, int), mode="valid")
    first = np.flatnonzero(runs == RECORDED_RUN)
    if not first.size or first[0] == 0:
        return 0.0
    k = int(first[0])
    # A discriminator cuts a continuum: the first channels already count about as much as the
    # ones above them. A spectrum that starts gradually (a resolution tail, the end of the
    # particles' range) is physics the model should see, empty channels included: they are
    # what says there is no Li deeper.
    start = float(total[k : k + RECORDED_RUN].mean())
    above = total[k + RECORDED_RUN : k + 8 * RECORDED_RUN]
    if not above.size or start < STEP_FRACTION * float(np.median(above)):
        return 0.0
    return float(calibration.edges(total.size)[k])


def _stack_floor_keV(stack: Stack, detector: Detector, names) -> float:
    """Energy above which the declared stack explains every particle: 0 when no particle born
    at the end of the profiled region escapes above the threshold, else the highest such
    particle's energy plus two detector resolutions (keV)."""
    floor = 0.0
    for p in names:
        e_end = float(detected_energy(stack.to_array(p), stack.region_thickness_um))
        if e_end > detector.threshold_keV:
            floor = max(floor, e_end + 2.0 * detector.resolution_keV)
    return floor


def _with_tail(stack: Stack, detector: Detector, names, edges: np.ndarray) -> np.ndarray:
    """Edges extended by coarse bins to the deepest depth any particle is seen from.

    Li deeper than the requested range still sends particles (the triton's deep tail reaches
    energies where the α is); the fit must be able to put them somewhere, or it explains them
    with artefacts in the requested range. At most 40 tail bins, at least as wide as the step.
    """

    deepest = max(float(max_depth(stack.to_array(p), detector.threshold_keV)) for p in names)
    end = float(edges[-1])
    step = float(edges[1] - edges[0])
    if deepest <= end + 0.5 * step:
        return edges
    n = int(np.ceil((deepest - end) / max(step, (deepest - end) / 40)))
    return np.concatenate([edges, np.linspace(end, deepest, n + 1)[1:]])


def inventory(density_cm3, edges_um, window_um=None) -> np.ndarray:
    """Li areal content (atoms/cm²) of a depth window: ∫ c dx, partial bins pro rata.

    Parameters
    ----------
    density_cm3 : array_like of shape (..., n_depth)
    edges_um : array_like of shape (n_depth + 1,)
    window_um : (float, float), optional
        Default: the whole grid.
    """
    w = window_weights(np.asarray(edges_um, dtype=float), window_um)
    return np.asarray(density_cm3) @ w


def response_and_bound(stack: Stack, detector: Detector, cal: Calibration, n_ch: int,
                       edges: np.ndarray, names, *, scale: Scale, li_region_um, recorded_from: float,
                       fit_range_keV=None, upper_rel=None) -> tuple:  # fmt: skip
    """The response fitted over its energies and the density's upper bound per depth bin.

    Returns
    -------
    Response, ndarray of shape (depth bins,)
        The bound is ``upper_rel`` where given, else what the stack's matrix can hold
        (:func:`~ndp.model.bounds.density_upper_bound`), unbounded in arbitrary units (Li
        metal's density is then unknown).
    """
    if fit_range_keV is None:
        low = max(_lowest_needed_keV(stack, detector, names, li_region_um), recorded_from)
        fit_range_keV = (low, np.inf)
    resp = build_response(stack, detector, cal, n_ch, edges, names, fit_range_keV=fit_range_keV)
    n_d = edges.size - 1
    if upper_rel is not None:
        upper = np.broadcast_to(np.asarray(upper_rel, dtype=float), (n_d,))
    elif scale.absolute:
        upper = density_upper_bound(stack, edges, names)
    else:
        upper = np.full(n_d, np.inf)
    return resp, upper


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
    regularization: str | float = "evidence",
    smoothness_order: int = 1,
    time_zero=None,
    flux_weights=None,
    instrument: Instrument | None = None,
    upper_rel=None,
    fit_range_keV=None,
    executor: Executor | None = None,
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
        Counts → atoms (:class:`ndp.model.scale.Scale`); default relative (arbitrary units).
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
    background : None, xarray.Dataset or array_like of shape (frames, channels)
        A raw beam-on blank measurement, scaled to each frame by
        :func:`ndp.spectra.reduce.blank_counts`; or the expected background counts of each frame
        (broadcast, e.g. ``blank_counts(...).counts``).
    regularization : "evidence" or float
        λ chosen by the Bayesian evidence once for the series (:mod:`ndp.model.regularization`;
        "discrepancy", the former default, is read as "evidence"), or a fixed λ in units of each
        frame's data-term curvature.
    smoothness_order : {1, 2}
        First (flat layers) or second (smooth slopes) differences in the prior.
    time_zero : datetime64, optional
        Origin of the ``time`` coordinate (default: the first frame's start).
    flux_weights : array_like of shape (frames,), optional
        Each frame's flux relative to the scale's (e.g. beam-monitor rate over its mean), so
        a drifting beam does not read as a changing Li inventory.
    instrument : Instrument, optional
        Fitted instrument corrections (:func:`ndp.model.instrument.fit_instrument`) applied to
        the stack and detector.
    upper_rel : float or array_like of shape (n_depth,), optional
        Upper bound of the density relative to Li metal; default what the matrix can hold
        (:func:`ndp.model.bounds.density_upper_bound`).
    fit_range_keV : (float, float), optional
        Fit only channels in this energy range; default from 200 keV up, or lower where the
        inventory window's depths need it (see ``_lowest_needed_keV``).
    progress : callable, optional
        Called with the number of frames done.
    executor : concurrent.futures.Executor, optional
        Where the inversion's blocks of frames run (:func:`ndp.model.series.fit_series`):
        ``ndp.parallel.executor(jobs)`` for every core. The result does not depend on it.

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
    check_spectra(spectra)
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
    recorded_from = recorded_from_keV(y_all, cal)

    converged = np.ones(n_frames, bool)
    iterations = np.zeros(n_frames, int)
    dens = np.zeros((n_frames, n_d))
    err = np.zeros((n_frames, n_d))
    inv_var = np.zeros(n_frames)
    fit = np.zeros_like(y_all)
    chi2 = np.full(n_frames, np.nan)
    lams = np.full(n_frames, np.nan)
    w_win = window_weights(edges, li_region_um)

    if method == "direct":
        used = names[0]
        # The detector's dead layer is the outermost window, and a channel's energy is what was
        # deposited less the pulse-height defect: the same energy map the model's response uses.
        cs = compile_stack(stack, used, detector)
        e_edges = cal.edges(n_ch)
        x_edges = depth_from_energy(cs, e_edges + detector.pulse_height_defect_keV(used))
        # Higher energy is shallower: channel j spans depths x_edges[j + 1] … x_edges[j].
        x_hi, x_lo = x_edges[:-1], x_edges[1:]
        ok = np.isfinite(x_hi) & np.isfinite(x_lo) & (x_lo >= edges[0]) & (x_hi <= edges[-1])
        ok &= cal.edges(n_ch)[:-1] >= detector.threshold_keV
        mid = 0.5 * (x_lo + x_hi)
        bins = np.clip(np.searchsorted(edges, mid, side="right") - 1, 0, n_d - 1)
        dx_cm = np.abs(x_hi - x_lo) * C.CM_PER_UM
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
        if instrument is not None:
            stack, detector = instrument.apply(stack, detector)
        resp, upper = response_and_bound(stack, detector, cal, n_ch, edges, names, scale=scale,
                                         li_region_um=li_region_um, recorded_from=recorded_from,
                                         fit_range_keV=fit_range_keV, upper_rel=upper_rel)  # fmt: skip
        lam_arg = "evidence" if regularization in ("evidence", "discrepancy") else float(regularization)
        series = fit_series(resp, y_all, k_frame, upper=upper, background=bkg, lam_rel=lam_arg,
                            order=smoothness_order, window_um=li_region_um, executor=executor,
                            progress=progress)  # fmt: skip
        dens = series.c * C.LI_METAL_ATOMS_CM3
        err = np.sqrt(np.maximum(series.variance, 0.0)) * C.LI_METAL_ATOMS_CM3
        inv_var = series.window_var * C.LI_METAL_ATOMS_CM3**2
        fit, chi2 = series.fit, series.chi2
        lams = np.full(n_frames, series.lam_rel)
        converged, iterations = series.converged, series.iterations
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
    absolute = scale.absolute
    start = spectra.start.values
    t0 = start[0] if time_zero is None else np.datetime64(time_zero, "ns")
    t_start = (start - t0) / np.timedelta64(1, "s")
    real = spectra.real_time_s.values
    mid_time = t_start + real / 2
    # Units are spelled once, in ndp.physics.units (UDUNITS, CF-1.10); code never reads them back: the
    # ``scale`` attribute says whether the numbers are absolute (ndp.model.scale.is_absolute). On a
    # relative scale there is no mAh: the inventory stays in li_areal's arbitrary units.
    dens_u, areal_u, cap_u = (U.PER_CM3, U.PER_CM2, U.MAH_PER_CM2) if absolute else (U.ARBITRARY,) * 3
    per_areal = 1.0 / C.LI_ATOMS_PER_MAH if absolute else 1.0
    note = {} if absolute else {"comment": "arbitrary units: no absolute scale (no beam flux or reference sample)"}
    sigma = "standard uncertainty (1 sigma) of "
    ds = xr.Dataset(
        {
            "li_density": (("time", "depth"), dens, U.cf(dens_u, "Li atom density", ancillary_variables="li_density_err", **note)),
            "li_density_err": (("time", "depth"), err, U.cf(dens_u, sigma + "li_density", **note)),
            "li_density_rel": (("time", "depth"), dens / C.LI_METAL_ATOMS_CM3 if absolute else dens * np.nan,
                               U.cf(U.ONE, f"Li density relative to Li metal ({C.LI_METAL_ATOMS_CM3:.5g} cm-3)")),
            "li_areal": ("time", areal, U.cf(areal_u, "Li areal density of the inventory window", ancillary_variables="li_areal_err", **note)),
            "li_areal_err": ("time", areal_err, U.cf(areal_u, sigma + "li_areal", **note)),
            "li_capacity": ("time", areal * per_areal, U.cf(cap_u, "Li inventory of the window, as charge per electrode area",
                                                            ancillary_variables="li_capacity_err", **note)),
            "li_capacity_err": ("time", areal_err * per_areal, U.cf(cap_u, sigma + "li_capacity", **note)),
            "counts": (("time", "channel"), y_all, U.cf(U.COUNT, "measured counts per channel")),
            "fit": (("time", "channel"), fit, U.cf(U.COUNT, "fitted expected counts per channel")),
            "chi2_per_channel": ("time", chi2, U.cf(U.ONE, "chi-square of the fit per channel")),
            "lambda": ("time", lams, U.cf(U.ONE, "regularisation strength (relative)")),
            "converged": ("time", converged.astype("int8"), U.cf(None, "solver converged (1) or not (0)",
                          flag_values=np.array([0, 1], dtype="int8"), flag_meanings="not_converged converged")),
            "iterations": ("time", iterations, U.cf(U.ONE, "solver iterations")),
            "time_bounds": (("time", "nv"), np.stack([t_start, t_start + real], axis=1)),
            "depth_bounds": (("depth", "nv"), np.stack([edges[:-1], edges[1:]], axis=1)),
        },
        coords={
            "time": ("time", mid_time, U.cf(U.SECOND, "frame mid-time from time_zero", bounds="time_bounds")),
            "depth": ("depth", centres, U.cf(U.UM, "depth from the profiled layer's surface", bounds="depth_bounds")),
            "depth_edges": ("depth_edge", edges, U.cf(U.UM, "depth bin edges")),
            "start": ("time", start, U.cf(None, "frame acquisition start", standard_name="time")),
            "live_time_s": ("time", live, U.cf(U.SECOND, "live time")),
            "real_time_s": ("time", real, U.cf(U.SECOND, "real time")),
            "channel": ("channel", spectra.channel.values, U.cf(None, "detector channel")),
            "energy": ("channel", cal(spectra.channel.values), U.cf(U.KEV, "detected particle energy (channel centre)")),
        },
        attrs={
            "Conventions": U.CONVENTIONS,
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
            "recorded_from_keV": recorded_from,
            "threshold_keV": float(detector.threshold_keV),
        },
    )  # fmt: skip
    return ds


#: Surface contact: bins within this fraction of the best depth resolution (FWHM), and at least
#: the first bin, must hold Li.
SURFACE_FRACTION = 0.25


def fit_instrument(spectra: xr.Dataset, stack: Stack, detector: Detector,
                   calibration: Calibration | None = None, *, scale: Scale | None = None,
                   background=None, depth_step_um: float = 0.1, window=None, width=None,
                   flux_weights=None, upper_rel=None, fit_range_keV=None,
                   surface_contact: bool = True):  # fmt: skip
    """Fit the instrument corrections (window energy loss, width) to the sum of all frames.

    The depth grid is the inversion's, coarsened to a tenth of the best depth resolution
    (the sum's profile only has to carry the edges). See :mod:`ndp.model.instrument`.

    Parameters
    ----------
    spectra, stack, detector, calibration, scale, background, depth_step_um, flux_weights, upper_rel, fit_range_keV
        As for :func:`invert`.
    window, width : ndp.model.instrument.Parameter, optional
        Priors and whether each is free (default: free, 1 ± 0.1 and 1 ± 0.3).

    Returns
    -------
    ndp.model.instrument.InstrumentFit
    """

    scale = scale or Scale.relative()
    cal = _calibration(spectra, calibration)
    n_ch = spectra.sizes["channel"]
    names = sensitive_particles(stack, detector, "auto")
    best = min(
        float(depth_resolution(stack.to_array(p), [0.0], detector)["resolution_um"][0])
        for p in names
    )
    step = max(float(depth_step_um), best / 10.0)
    edges = _with_tail(stack, detector, names, depth_edges(stack, detector, step, "auto"))
    live = spectra.live_time_s.values
    k = scale.exposure_cm2(live) * C.LI_METAL_ATOMS_CM3
    if flux_weights is not None:
        k = k * np.asarray(flux_weights, dtype=float)
    bkg = np.zeros(n_ch) if background is None else _background(background, spectra, n_ch).sum(axis=0)
    if upper_rel is not None:
        upper = np.broadcast_to(np.asarray(upper_rel, dtype=float), (edges.size - 1,))
    elif scale.absolute:
        upper = density_upper_bound(stack, edges, names)
    else:
        upper = np.full(edges.size - 1, np.inf)
    total = total_counts(spectra)  # block by block: a long series is not loaded whole
    if fit_range_keV is None:
        # A thinner window than declared lets the stack's end through at higher energy: keep
        # a margin for the window scale's prior.
        floor = _stack_floor_keV(stack, detector, names)
        fit_range_keV = (max(FIT_MIN_KEV, floor + 2.0 * detector.resolution_keV if floor else 0.0,
                             recorded_from_keV(total, cal)), np.inf)  # fmt: skip
    # Small dense problems: one BLAS thread is several times faster than two fighting.
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit(total, float(k.sum()), stack, detector,
                    cal, edges, names, upper=upper, background=bkg, window=window or Parameter(1.0, 0.1),
                    width=width or Parameter(1.0, 0.3), fit_range_keV=fit_range_keV,
                    surface_um=max(SURFACE_FRACTION * best, step) if surface_contact else 0.0)  # fmt: skip
