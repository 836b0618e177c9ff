"""Solvers of a box-bounded :class:`~ndp.model.objective.PoissonObjective` that cannot fail silently.

:func:`solve` runs a projected Newton method (exact Fisher curvature on the free bins, Armijo
backtracking along the projection arc). Convergence is judged on what optimality means here,
not on a stalled objective:

* the Newton decrement over the free bins, gᵀH⁻¹g/2, is below ``tol`` (the objective, a
  log-likelihood, cannot improve by more than that), and
* the Karush–Kuhn–Tucker conditions hold at the bounds: a bin held at its lower bound is pushed
  down by the gradient, one at its upper bound up, each within ``tol`` in units of that bin's own
  curvature.

When Newton stalls (a step that does not lower the objective, ill-conditioning), the solver
falls back to L-BFGS-B (:func:`scipy.optimize.minimize`) from the best point so far, and, if
that fails too, restarts cold from a flat profile. The result always says whether it converged;
a frame that did not is never passed on as a starting point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize

from ndp.model.objective import PoissonObjective

__all__ = ["Solution", "kkt_violation", "solve"]


@dataclass
class Solution:
    """What a solve returns.

    Attributes
    ----------
    c : ndarray of shape (N,)
    converged : bool
    iterations : int
        Newton iterations plus quasi-Newton iterations.
    method : str
        ``"newton"``, ``"newton+lbfgsb"`` or ``"cold-restart"``.
    value : float
    kkt : float
        The largest optimality violation (see :func:`kkt_violation`).
    """

    c: np.ndarray
    converged: bool
    iterations: int
    method: str
    value: float
    kkt: float


def _free(obj: PoissonObjective, c: np.ndarray, g: np.ndarray, eps: np.ndarray) -> np.ndarray:
    at_lo = (c <= obj.lower + eps) & (g > 0)
    at_hi = (c >= obj.upper - eps) & (g < 0)
    return ~(at_lo | at_hi)


def kkt_violation(obj: PoissonObjective, c: np.ndarray, h_diag: np.ndarray | None = None) -> float:
    """Largest first-order optimality violation, in units of each bin's curvature.

    For a free bin |g|/√H; for a bin at its lower bound max(−g, 0)/√H; at its upper bound
    max(g, 0)/√H. Its square is about the objective change that moving the bin would bring.
    """
    g = obj.gradient(c)
    if h_diag is None:
        h_diag = np.diag(obj.fisher(c))
    s = np.sqrt(np.maximum(h_diag, 1e-300))
    tol = obj.bound_tolerance(c, 1e-9)
    v = np.where(
        c <= obj.lower + tol,
        np.maximum(-g, 0.0),
        np.where(c >= obj.upper - tol, np.maximum(g, 0.0), np.abs(g)),
    )
    return float(np.max(v / s)) if v.size else 0.0


def _newton(obj: PoissonObjective, c: np.ndarray, maxiter: int, tol: float):
    f = obj.value(c)
    for it in range(1, maxiter + 1):
        g = obj.gradient(c)
        h = obj.fisher(c)
        # ε-active set (Bertsekas): bins at or next to a bound that the gradient pushes outward
        # are held there; treating them as free makes projected steps zigzag.
        proj = np.clip(c - g / np.maximum(np.diag(h), 1e-300), obj.lower, obj.upper)
        eps = np.minimum(obj.bound_tolerance(c, 1e-6), np.abs(c - proj))
        free = _free(obj, c, g, eps)
        hf = h[np.ix_(free, free)]
        gf = g[free]
        try:
            cho = linalg.cho_factor(hf, check_finite=False)
            step_f = -linalg.cho_solve(cho, gf, check_finite=False)
        except (linalg.LinAlgError, ValueError):
            return c, f, it, False
        decrement = float(-gf @ step_f) / 2.0
        step = np.zeros_like(c)
        step[free] = step_f
        base = np.where(free, c, np.clip(c, obj.lower, obj.upper))
        # Bins held at a bound stay exactly on it.
        base = np.where(~free & (g > 0), np.minimum(base, obj.lower + eps), base)
        base = np.where(~free & (g < 0) & np.isfinite(obj.upper), np.maximum(base, obj.upper - eps), base)
        t = 1.0
        while True:
            c_new = np.clip(base + t * step, obj.lower, obj.upper)
            f_new = obj.value(c_new)
            if f_new <= f + 1e-4 * (g @ (c_new - c)) or t < 1e-8:
                break
            t *= 0.5
        if not f_new <= f:
            # No descent along Newton's direction: let the fallback take over.
            return c, f, it, False
        c, f_old, f = c_new, f, f_new
        if (
            decrement < tol
            and f_old - f < tol
            and kkt_violation(obj, c, np.diag(h)) < np.sqrt(tol) * 10
        ):
            return c, f, it, True
    return c, f, maxiter, False


def _lbfgsb(obj: PoissonObjective, c: np.ndarray, maxiter: int):
    # Diagonally preconditioned: in z = c·√H_ii every bin has unit curvature, which is what
    # a quasi-Newton method's first steps assume (raw gradients span many decades).
    d = np.sqrt(np.maximum(np.diag(obj.fisher(c)), 1e-300))
    res = optimize.minimize(
        lambda z: (obj.value(z / d), obj.gradient(z / d) / d),
        c * d,
        jac=True,
        method="L-BFGS-B",
        bounds=optimize.Bounds(obj.lower * d, obj.upper * d),
        options={"maxiter": maxiter, "ftol": 1e-15, "gtol": 1e-8, "maxcor": 30},
    )
    return np.clip(res.x / d, obj.lower, obj.upper), int(res.nit)


def solve(obj: PoissonObjective, c0: np.ndarray | None = None, *, maxiter: int = 80,
          tol: float = 1e-4) -> Solution:  # fmt: skip
    """Minimise ``obj`` within its bounds.

    Parameters
    ----------
    obj : PoissonObjective
    c0 : ndarray of shape (N,), optional
        Starting point (clipped into the bounds); default flat at the level that accounts for
        the counts.
    maxiter : int
        Newton iterations before the fallback.
    tol : float
        Objective units (log-likelihood): the Newton decrement and the last improvement must be
        below it, and the KKT violation below ~10√tol.

    Returns
    -------
    Solution
    """
    cold = _flat(obj)
    c = cold if c0 is None else np.clip(np.asarray(c0, float), obj.lower, obj.upper)
    total = 0
    for attempt, start in enumerate((c, cold)):
        if attempt == 1 and c0 is None:
            break
        x, f, it, ok = _newton(obj, start, maxiter, tol)
        total += it
        if ok:
            return Solution(
                x,
                True,
                total,
                "newton" if attempt == 0 else "cold-restart",
                f,
                kkt_violation(obj, x),
            )
        x, it = _lbfgsb(obj, x, 10 * maxiter)
        total += it
        # Polish: Newton from the quasi-Newton point usually converges in a step or two.
        x, f, it, ok = _newton(obj, x, maxiter, tol)
        total += it
        k = kkt_violation(obj, x)
        if ok or k < np.sqrt(tol) * 10:
            return Solution(
                x, True, total, "newton+lbfgsb" if attempt == 0 else "cold-restart", f, k
            )
    return Solution(x, False, total, "failed", obj.value(x), kkt_violation(obj, x))


def _flat(obj: PoissonObjective) -> np.ndarray:
    """Flat profile at the level that accounts for all net counts, strictly inside the bounds
    (Newton's curvature 1/μ is finite there)."""
    level = (obj.y.sum() - obj.b.sum()) / max(float(obj.a.sum()), 1e-300)
    c = np.full(obj.a.shape[1], max(level, 1e-300))
    top = np.where(np.isfinite(obj.upper), 0.5 * (obj.lower + obj.upper), np.inf)
    return np.clip(c, obj.lower + obj.bound_tolerance(c, 1e-3), top)
