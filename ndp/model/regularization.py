"""How strongly to smooth: λ chosen by the Bayesian evidence, once for a whole series.

The smoothness penalty ½λ‖Dc‖² is a Gaussian prior; the evidence (marginal likelihood) of the
data under it, in the Laplace approximation about the optimum ĉ,

    log Z(λ) ≈ −f(ĉ) + ½ log det(λM) − ½ log det(H + λM)      (over the free bins),

rewards fitting the data and penalises the prior volume the fit needs. Unlike the discrepancy
principle it has a maximum even when the model cannot reach χ² = 1 (a real instrument always
differs from the model by a few keV), so λ cannot collapse to a floor and amplify noise. It is
maximised on a few frames spread over the series and the median is used for every frame, in
units of each frame's own curvature scale, so smoothing is the same from frame to frame.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ndp.model.objective import PoissonObjective
from ndp.model.solver import solve

__all__ = ["LOG_LAMBDA_GRID", "LambdaChoice", "choose_lambda", "log_evidence"]

#: Candidate log10(λ / curvature scale), strongest first.
LOG_LAMBDA_GRID = np.arange(4.0, -9.01, -1.0)
#: Where the search starts: a typical best λ for NDP spectra.
START_LOG_LAMBDA = -3.0


def log_evidence(obj: PoissonObjective, c: np.ndarray) -> float:
    """Laplace approximation of log Z at the optimum ``c`` (up to a λ-independent constant)."""
    tol = obj.bound_tolerance(c, 1e-6)
    free = (c > obj.lower + tol) & (c < obj.upper - tol)
    if not free.any():
        return -obj.value(c)
    idx = np.flatnonzero(free)
    m = obj.m[np.ix_(idx, idx)]
    # A whisper of ridge makes the flat-profile direction proper; it cancels between the terms.
    ridge = 1e-6 * max(float(np.mean(np.diag(obj.m))), 1e-30)
    prior = obj.lam * (m + ridge * np.eye(idx.size))
    post = obj.fisher(c)[np.ix_(idx, idx)] + obj.lam * ridge * np.eye(idx.size)
    s1, ld_prior = np.linalg.slogdet(prior)
    s2, ld_post = np.linalg.slogdet(post)
    if s1 <= 0 or s2 <= 0:
        return -np.inf
    return -obj.value(c) + 0.5 * ld_prior - 0.5 * ld_post


class LambdaChoice(NamedTuple):
    """What :func:`choose_lambda` found."""

    #: The median over frames of each frame's best λ (relative to its curvature scale).
    lam_rel: float
    #: log Z per frame and grid point, shape (frames, len(grid)); -inf where not evaluated.
    log_z: np.ndarray
    #: Each frame's optimum at its own best λ (None where no solve converged): a warm start
    #: that spares the fit at the chosen λ a cold start.
    solutions: list


def choose_lambda(objectives: list[PoissonObjective], grid=LOG_LAMBDA_GRID) -> LambdaChoice:
    """The λ (relative to each objective's :attr:`~PoissonObjective.scale`) of largest evidence.

    Parameters
    ----------
    objectives : list of PoissonObjective
        Sample frames; their ``lam`` is overwritten.
    grid : array_like
        Candidate log10 relative λ, strongest first, searched outwards from
        :data:`START_LOG_LAMBDA` (each solve warm-starts the next); the best is then refined
        half a step either side.

    Returns
    -------
    LambdaChoice
    """
    grid = np.asarray(grid, dtype=float)
    log_z = np.full((len(objectives), grid.size), -np.inf)
    best = []
    solutions = []
    start = int(np.argmin(np.abs(grid - START_LOG_LAMBDA)))
    for i, obj in enumerate(objectives):
        scale = obj.scale
        optima = {}
        # Walk out from a typical λ, towards weaker smoothing and then stronger, each solve
        # warm-started from its neighbour, until the evidence has fallen well below its best:
        # it has one broad maximum, and far from it each solve costs more (the problem grows
        # ill-conditioned one way and the profile far from the data the other).
        for direction in (range(start, grid.size), range(start - 1, -1, -1)):
            c = optima.get(start)
            for j in direction:
                obj.lam = scale * 10.0**grid[j]
                sol = solve(obj, c)
                if sol.converged:
                    c = optima[j] = sol.c
                    log_z[i, j] = log_evidence(obj, sol.c)
                if np.isfinite(log_z[i, j]) and np.nanmax(log_z[i]) - log_z[i, j] > 10.0:
                    break
        if np.isfinite(log_z[i]).any():
            k = int(np.argmax(log_z[i]))
            step = abs(grid[1] - grid[0]) / 2 if grid.size > 1 else 0.0
            cands = {grid[k]: (log_z[i, k], optima[k])}
            for lg in (grid[k] - step, grid[k] + step):
                obj.lam = scale * 10.0**lg
                sol = solve(obj, optima[k])
                if sol.converged:
                    cands[lg] = (log_evidence(obj, sol.c), sol.c)
            lg_best = max(cands, key=lambda key: cands[key][0])
            best.append(lg_best)
            solutions.append(cands[lg_best][1])
        else:
            solutions.append(None)
    lg = float(np.median(best)) if best else -4.0
    return LambdaChoice(10.0**lg, log_z, solutions)
