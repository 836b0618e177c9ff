"""The penalised Poisson objective of one spectrum: what a profile costs, not how to find it.

    f(c) = Σ_j (μ_j − y_j log μ_j) + ½ λ cᵀ M c,      μ = A c + b,      lo ≤ c ≤ hi

``A`` (channel groups × depth bins) is the exposure-scaled response, ``b`` the expected
background, ``M`` the smoothness penalty (differences of neighbouring bins) and ``λ`` its
strength. The Poisson term is convex, so with the box it has one minimum; the solvers in
:mod:`ndp.model.solver` find it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PoissonObjective", "difference_penalty"]

#: Floor of the expected counts, so log μ stays finite where the model expects nothing.
MU_FLOOR = 1e-9


def difference_penalty(n: int, order: int = 1) -> np.ndarray:
    """DᵀD for finite differences of ``order`` over ``n`` bins, shape (n, n)."""
    # Banded: each difference row r adds coef ⊗ coef at (r, r); no dense n³ product.
    coef = np.array([1.0])
    for _ in range(order):
        coef = np.convolve(coef, [-1.0, 1.0])
    out = np.zeros((n, n))
    rows = np.arange(max(n - order, 0))
    for i, ci in enumerate(coef):
        for j, cj in enumerate(coef):
            out[rows + i, rows + j] += ci * cj
    return out


@dataclass
class PoissonObjective:
    """One frame's objective.

    Parameters
    ----------
    a : ndarray of shape (G, N)
        Expected counts per unit density in each depth bin.
    y : ndarray of shape (G,)
        Observed counts.
    b : ndarray of shape (G,)
        Expected background counts.
    m : ndarray of shape (N, N)
        Penalty matrix (positive semi-definite).
    lam : float
        Penalty strength, in the units of ``a``'s squared curvature (see :attr:`scale`).
    lower, upper : ndarray of shape (N,)
        Bounds of each bin's density.
    """

    a: np.ndarray
    y: np.ndarray
    b: np.ndarray
    m: np.ndarray
    lam: float
    lower: np.ndarray
    upper: np.ndarray

    def mu(self, c: np.ndarray) -> np.ndarray:
        return self.a @ c + self.b + MU_FLOOR

    def value(self, c: np.ndarray) -> float:
        """f(c), less the saturated model's Σ (y − y log y).

        The constant keeps each term small: a spectrum of millions of counts has Σ y log μ of
        1e8, where float rounding (1e-8) would hide the changes a line search must see.
        """
        mu = self.mu(c)
        y = self.y
        with np.errstate(divide="ignore", invalid="ignore"):
            term = (mu - y) - np.where(y > 0, y * np.log(mu / np.where(y > 0, y, 1.0)), 0.0)
        return float(np.sum(term) + 0.5 * self.lam * c @ self.m @ c)

    def gradient(self, c: np.ndarray) -> np.ndarray:
        return self.a.T @ (1.0 - self.y / self.mu(c)) + self.lam * (self.m @ c)

    def fisher(self, c: np.ndarray) -> np.ndarray:
        """Expected curvature Aᵀ diag(1/μ) A + λM: positive where channels are empty."""
        # Written as WᵀW so that numpy hands it to BLAS's symmetric rank-k update (half the work).
        w = self.a * np.sqrt(1.0 / self.mu(c))[:, None]
        return w.T @ w + self.lam * self.m

    def deviance(self, c: np.ndarray) -> float:
        """Poisson deviance 2 Σ (μ − y + y log(y/μ)); its expectation is about the channel count."""
        lam, self.lam = self.lam, 0.0
        try:
            return 2.0 * self.value(c)
        finally:
            self.lam = lam

    def chi2(self, c: np.ndarray) -> tuple[float, float]:
        """Pearson-type misfit Σ (y − μ)²/max(μ, 1) and its expectation Σ min(μ, 1).

        Where the model expects almost nothing the term is bounded, so one stray count does not
        outweigh the spectrum.
        """
        mu = self.mu(c)
        return (
            float(np.sum((self.y - mu) ** 2 / np.maximum(mu, 1.0))),
            float(np.sum(np.minimum(mu, 1.0))),
        )

    def bound_tolerance(self, c: np.ndarray, rel: float) -> np.ndarray:
        """How close to a bound counts as on it: ``rel`` of the box, or of the profile's size
        where the box is open (relative scales have no upper bound)."""
        size = max(float(np.max(np.abs(c))) if c.size else 0.0, 1e-300)
        span = np.where(np.isfinite(self.upper), self.upper - self.lower, size)
        return rel * span

    @property
    def scale(self) -> float:
        """The data term's mean curvature per bin over the penalty's: λ's natural unit."""
        curv = float(np.mean(np.sum(self.a**2 / np.maximum(self.y, 1.0)[:, None], axis=0)))
        return max(curv / max(float(np.mean(np.diag(self.m))), 1e-30), 1e-30)
