"""Instrument parameters fitted from the data, as ion-beam analysis codes fit theirs.

A real window is never exactly its nominal thickness, and no stopping table is exact: the
surface edge of a measured spectrum sits a few keV away from where any model puts it, and its
width differs by some per cent. Left alone, such a mismatch makes the inversion invent Li (a
χ²/channel of tens to hundreds, densities far above Li metal). Two parameters absorb it:

``window_scale``
    A factor on the areal density of every layer between the profiled one and the detector:
    the energy the particles lose on their way out (thickness and stopping together).
``width_scale``
    A factor on the detector resolution and on the straggling's standard deviation.

A gap below the surface mimics a thinner window and a graded surface a narrower resolution;
what pins them is the whole spectrum, down to the threshold, whose low-energy end fixes the
overall energy-loss scale (see :data:`ndp.model.response.FIT_MIN_KEV`). They do not change
during a run, so they are fitted once, to the sum of all frames (the sum of
Poisson spectra is the spectrum of the time-averaged profile, with the best statistics the run
has): for trial parameters the profile is optimised (profile likelihood), and the parameters
maximise the evidence (the marginal likelihood of :mod:`ndp.model.regularization`, which
charges a narrower response for the flexibility it gives the profile, where the plain misfit
would always prefer it) times a Gaussian prior (nominal value ± tolerance, from the run file). Their 1σ errors come from the curvature of that profile objective, inflated by the
misfit when the model leaves χ²/channel above 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import optimize

from ndp.model.objective import PoissonObjective, difference_penalty
from ndp.model.response import FIT_MIN_KEV, build_response, regroup, with_groups
from ndp.model.solver import solve
from ndp.physics.detector import Detector
from ndp.physics.materials import Stack
from ndp.spectra.calibration import Calibration

__all__ = ["Instrument", "InstrumentFit", "Parameter", "fit_instrument"]


@dataclass(frozen=True)
class Parameter:
    """An instrument parameter: its prior (nominal ± tolerance) and whether the fit frees it."""

    nominal: float = 1.0
    tolerance: float = 0.1
    free: bool = True


@dataclass(frozen=True)
class Instrument:
    """Instrument corrections applied to a declared stack and detector.

    Parameters
    ----------
    window_scale : float
        Factor on the areal density of the layers in front of the profiled one.
    width_scale : float
        Factor on the detector resolution (FWHM) and the straggling standard deviation.
    """

    window_scale: float = 1.0
    width_scale: float = 1.0

    def apply(self, stack: Stack, detector: Detector) -> tuple[Stack, Detector]:
        """The stack and detector these corrections describe."""
        front = stack.profiled_index
        layers = tuple(
            replace(lay, thickness_um=lay.thickness_um * self.window_scale) if i < front else lay
            for i, lay in enumerate(stack.layers)
        )
        det = replace(
            detector,
            resolution_keV=detector.resolution_keV * self.width_scale,
            straggling_scale=detector.straggling_scale * self.width_scale,
        )
        return Stack(layers), det


@dataclass
class InstrumentFit:
    """The result of :func:`fit_instrument`.

    Attributes
    ----------
    instrument : Instrument
        The best parameters.
    errors : dict of str to float
        1σ of each free parameter (0 for fixed ones).
    free : tuple of str
    chi2_per_channel : float
        Of the summed spectrum at the best parameters (declared: ``chi2_declared``).
    chi2_declared : float
        The same with the declared (nominal) instrument.
    profile : ndarray of shape (n_depth,)
        Time-averaged profile (relative to Li metal) of the summed spectrum at the best fit.
    fit : ndarray of shape (n_channels,)
        Expected counts of the summed spectrum at the best fit (0 outside the fitted channels).
    fit_declared : ndarray of shape (n_channels,)
        The same with the nominal instrument.
    evaluations : int
    """

    instrument: Instrument
    errors: dict
    free: tuple
    chi2_per_channel: float
    chi2_declared: float
    profile: np.ndarray
    fit: np.ndarray
    fit_declared: np.ndarray
    evaluations: int = 0
    notes: list = field(default_factory=list)


def fit_instrument(counts: np.ndarray, exposure: float, stack: Stack, detector: Detector,
                   calibration: Calibration, edges_um, particles, *, upper: np.ndarray,
                   background: np.ndarray | None = None,
                   window: Parameter | None = None, width: Parameter | None = None,
                   fit_range_keV=None, lam_rel: float = 1e-2,
                   surface_um: float = 0.0) -> InstrumentFit:  # fmt: skip
    """Fit the instrument corrections to a (summed) spectrum.

    Parameters
    ----------
    counts : ndarray of shape (n_channels,)
        Counts of all frames summed.
    exposure : float
        Their summed exposure K (counts per unit relative density per cm of depth).
    stack, detector, calibration
        As declared in the run file.
    edges_um : array_like of shape (n_depth + 1,)
    particles : sequence of str
    upper : ndarray of shape (n_depth,)
        Upper bound of the relative density per bin.
    background : ndarray of shape (n_channels,), optional
        Expected background counts of the sum.
    window, width : Parameter
    fit_range_keV : (float, float), optional
        Energies fitted; default from :data:`~ndp.model.response.FIT_MIN_KEV` up.
    lam_rel : float
        Smoothness of the summed profile, relative to its curvature scale (weak: the sum has
        the best statistics of the run).
    surface_um : float
        Surface contact: the bins within ``surface_um`` of the surface must hold at least
        :data:`SURFACE_LOWER` of the densest Li within the next few µm (as fitted with the
        declared instrument). 0 leaves the profile free.

    Returns
    -------
    InstrumentFit
    """
    fit_range_keV = fit_range_keV if fit_range_keV is not None else (FIT_MIN_KEV, np.inf)
    window = window or Parameter(1.0, 0.1, True)
    width = width or Parameter(1.0, 0.3, True)
    counts = np.asarray(counts, dtype=float)
    n_ch = counts.size
    bkg = np.zeros(n_ch) if background is None else np.asarray(background, dtype=float)
    names = [n for n, p in (("window_scale", window), ("width_scale", width)) if p.free]
    priors = {"window_scale": window, "width_scale": width}
    state = {"c": None, "evals": 0}
    cache: dict[tuple, tuple] = {}
    # The fitted channels are those the widest-reaching trial could fill (thinnest window,
    # widest response): a thinner window moves counts above the nominal edge, and on the
    # nominal channels alone those counts would cost nothing, so the fit would drift thin.
    reach = Instrument(
        _lowest(window) if window.free else window.nominal,
        width.nominal + 4 * width.tolerance if width.free else width.nominal,
    )
    wide = build_response(*reach.apply(stack, detector), calibration, n_ch, edges_um, particles,
                          fit_range_keV=fit_range_keV)  # fmt: skip
    # ... grouped as finely as the nominal resolution asks, so the edge's shape stays measured.
    nominal = regroup(with_groups(wide, *Instrument(window.nominal, width.nominal).apply(stack, detector),
                                  calibration), stack, detector, calibration)  # fmt: skip

    upper = np.asarray(upper, dtype=float)
    lower = np.zeros(upper.size)

    def evaluate(inst: Instrument):
        key = (round(inst.window_scale, 9), round(inst.width_scale, 9))
        if key in cache:
            return cache[key]
        resp = regroup(nominal, *inst.apply(stack, detector), calibration)
        y = resp.group_counts(counts)
        b = resp.group_counts(bkg)
        n = upper.size
        obj = PoissonObjective(resp.grouped * exposure, y, b, difference_penalty(n), 0.0,
                               lower, upper)  # fmt: skip
        obj.lam = lam_rel * obj.scale
        sol = solve(obj, state["c"])
        if sol.converged:
            state["c"] = sol.c
        state["evals"] += 1
        stat, expected = obj.chi2(sol.c)
        c = sol.c
        full = np.zeros(n_ch)
        np.add.at(full, resp.roi, (resp.matrix[resp.roi] @ c) * exposure + bkg[resp.roi])
        out = (0.5 * obj.deviance(sol.c), stat / max(expected, 1.0), c, full)
        cache[key] = out
        return out

    def make(x) -> Instrument:
        values = {"window_scale": window.nominal, "width_scale": width.nominal}
        values.update(dict(zip(names, np.atleast_1d(x), strict=True)))
        return Instrument(**values)

    def cost(x) -> float:
        # The evidence, not the deviance: a narrower response makes the profile more flexible
        # and always lowers the misfit; the evidence charges for that flexibility.
        neg_log_z = evaluate(make(x))[0]
        pen = sum(
            ((v - priors[n].nominal) / priors[n].tolerance) ** 2
            for n, v in zip(names, np.atleast_1d(x), strict=True)
        )
        return neg_log_z + 0.5 * pen

    declared = evaluate(make([priors[n].nominal for n in names]))
    if surface_um > 0:
        centres = 0.5 * (np.asarray(edges_um)[1:] + np.asarray(edges_um)[:-1])
        near = declared[2][centres < 8.0 * surface_um]
        floor = min(SURFACE_LOWER * float(near.max()) if near.size else 0.0, 0.5 * float(upper[0]))
        lower[centres < surface_um] = floor
        cache.clear()
        state["c"] = None
        declared = evaluate(make([priors[n].nominal for n in names]))
    notes: list[str] = []
    x_best = np.array([priors[n].nominal for n in names])
    if names:
        lo = np.array([_lowest(priors[n]) for n in names])
        if "window_scale" in names:
            k = names.index("window_scale")
            floor = _visible_window_floor(stack, detector, calibration, n_ch, particles, window)
            if floor > lo[k]:
                lo[k] = floor
                notes.append(f"instrument fit: window_scale kept >= {floor:.3f}, where the surface edge "
                             "stays two resolutions below the spectrum's last channel")  # fmt: skip
        hi = np.array([priors[n].nominal + 4 * priors[n].tolerance for n in names])
        # Coordinate-wise bounded Brent: the two parameters act on different features (edge
        # position, edge width), so two sweeps reach the joint optimum in few evaluations.
        for _sweep in range(2):
            for i in range(len(names)):

                def along(v, i=i):
                    x = x_best.copy()
                    x[i] = v
                    return cost(x)

                r = optimize.minimize_scalar(along, bounds=(lo[i], hi[i]), method="bounded",
                                             options={"xatol": 0.01 * priors[names[i]].tolerance})  # fmt: skip
                x_best[i] = r.x
        x_best = np.clip(x_best, lo, hi)
    best = evaluate(make(x_best))
    errors = {"window_scale": 0.0, "width_scale": 0.0}
    if names:
        # Steps of a tenth of each tolerance: well above the solver's noise in the objective,
        # well inside the range where the objective is quadratic.
        h = _hessian(cost, x_best, np.array([0.1 * priors[n].tolerance for n in names]))
        vals, vecs = np.linalg.eigh(0.5 * (h + h.T))
        if np.any(vals <= 0):
            # A flat or noisy direction: its error is as large as the prior allows, not zero.
            notes.append("instrument fit: a direction is not constrained by the data; its error is the prior's")
            vals = np.maximum(vals, 1.0 / max(priors[n].tolerance for n in names) ** 2)
        cov = (vecs / vals) @ vecs.T
        inflate = max(best[1], 1.0)
        for i, n in enumerate(names):
            errors[n] = float(np.sqrt(cov[i, i] * inflate))
        for i, n in enumerate(names):
            if abs(x_best[i] - priors[n].nominal) > 3.5 * priors[n].tolerance:
                notes.append(f"instrument fit: {n} = {x_best[i]:.4f} is far outside its prior "
                             f"{priors[n].nominal:g} ± {priors[n].tolerance:g}")  # fmt: skip
    return InstrumentFit(make(x_best), errors, tuple(names), best[1], declared[1], best[2], best[3],
                         declared[3], state["evals"], notes)  # fmt: skip


#: Surface contact: share of the densest near-surface Li the surface bins must hold.
SURFACE_LOWER = 1.0 / 3.0


def _visible_window_floor(stack: Stack, detector: Detector, calibration: Calibration, n_channels: int,
                          particles, window: Parameter) -> float:  # fmt: skip
    """Thinnest window scale whose surface edge the spectrum still shows.

    A thinner window moves the surface edge up; beyond the last channel (plus two detector
    resolutions) Li at the surface would send its particles where nothing is recorded, and the
    fit could hide a gap between the window and the Li there, trading window thickness for
    depth at no cost.
    """
    top = float(calibration(n_channels - 0.5)) - 2.0 * detector.resolution_keV

    def excess(scale: float) -> float:
        trial, _ = Instrument(scale, 1.0).apply(stack, detector)
        return max(trial.to_array(p).surface_energy_keV for p in particles) - top

    lo = _lowest(window)
    if excess(lo) <= 0:
        return lo
    if excess(window.nominal) >= 0:
        return window.nominal
    return float(optimize.brentq(excess, lo, window.nominal, xtol=1e-4))


def _lowest(p: Parameter) -> float:
    """Lowest value the fit tries: four tolerances below nominal, and above zero."""
    return max(p.nominal - 4 * p.tolerance, 0.05)


def _hessian(f, x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Central-difference Hessian of a scalar function."""
    n = x.size
    out = np.zeros((n, n))
    f0 = f(x)
    for i in range(n):
        ei = np.zeros(n)
        ei[i] = h[i]
        out[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h[i] ** 2
        for j in range(i + 1, n):
            ej = np.zeros(n)
            ej[j] = h[j]
            out[i, j] = out[j, i] = (
                f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
            ) / (4 * h[i] * h[j])
    return out
