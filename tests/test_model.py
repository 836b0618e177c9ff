"""The pieces of ``ndp.model`` on their own: objective, penalty, solver, choice of λ, series.

References are independent of the code under test: finite differences for derivatives, dense
differencing for the penalty, scipy's own bounded optimiser for the optimum, a brute-force
evidence curve for the choice of λ.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from ndp.model.objective import PoissonObjective, difference_penalty
from ndp.model.regularization import LOG_LAMBDA_GRID, choose_lambda, log_evidence
from ndp.model.solver import kkt_violation, solve


def _problem(seed: int, n: int = 30, g: int = 80, lam: float = 1e-2, upper: float = np.inf):
    """A blurred step seen through Poisson noise: a small NDP-like inverse problem."""
    rng = np.random.default_rng(seed)
    x = np.arange(g)[:, None]
    centre = np.linspace(5, g - 5, n)[None, :]
    a = 200.0 * np.exp(-0.5 * ((x - centre) / 3.0) ** 2)
    truth = np.where(np.arange(n) < n // 2, 1.0, 0.0)
    b = np.full(g, 0.5)
    y = rng.poisson(a @ truth + b).astype(float)
    m = difference_penalty(n, 1)
    obj = PoissonObjective(a, y, b, m, 0.0, np.zeros(n), np.full(n, upper))
    obj.lam = lam * obj.scale
    return obj, truth


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("n", [1, 2, 3, 7, 40])
def test_difference_penalty_is_dtd_of_dense_differences(n, order):
    d = np.eye(n)
    for _ in range(order):
        d = np.diff(d, axis=0)
    np.testing.assert_array_equal(difference_penalty(n, order), d.T @ d)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_gradient_and_curvature_match_finite_differences(seed):
    obj, truth = _problem(seed)
    c = np.abs(np.random.default_rng(seed).normal(0.5, 0.2, truth.size)) + 0.05
    h = 1e-6
    fd = np.array([(obj.value(c + h * e) - obj.value(c - h * e)) / (2 * h) for e in np.eye(c.size)])
    np.testing.assert_allclose(obj.gradient(c), fd, rtol=1e-4, atol=1e-3)
    # The Fisher curvature is the Hessian's expectation: Aᵀ diag(1/μ) A + λM, symmetric, positive.
    f = obj.fisher(c)
    expected = obj.a.T @ np.diag(1.0 / obj.mu(c)) @ obj.a + obj.lam * obj.m
    np.testing.assert_allclose(f, expected, rtol=1e-10, atol=1e-10 * np.abs(expected).max())
    assert np.all(np.linalg.eigvalsh(f) > 0)


@pytest.mark.parametrize("upper", [np.inf, 0.8])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_solver_reaches_the_optimum_scipy_finds(seed, upper):
    obj, _ = _problem(seed, upper=upper)
    sol = solve(obj)
    assert sol.converged and kkt_violation(obj, sol.c) < 0.1
    ref = optimize.minimize(lambda c: (obj.value(c), obj.gradient(c)), np.full(obj.a.shape[1], 0.3),
                            jac=True, method="L-BFGS-B", bounds=optimize.Bounds(obj.lower, obj.upper),
                            options={"ftol": 1e-14, "gtol": 1e-10, "maxiter": 20_000})  # fmt: skip
    # Not worse than scipy's optimum by more than the solver's tolerance (1e-4 in log-likelihood).
    assert sol.value <= obj.value(ref.x) + 1e-4
    assert np.all(sol.c >= obj.lower) and np.all(sol.c <= obj.upper)


def test_a_warm_start_reaches_the_same_optimum():
    obj, truth = _problem(3)
    cold = solve(obj)
    warm = solve(obj, truth)
    assert warm.converged and abs(warm.value - cold.value) < 1e-3


def test_the_chosen_lambda_is_where_the_evidence_peaks():
    """Against the evidence evaluated at every grid point from scratch."""
    obj, _ = _problem(4, lam=1.0)
    choice = choose_lambda([obj])
    curve = []
    for lg in LOG_LAMBDA_GRID:
        obj.lam = obj.scale * 10.0**lg
        sol = solve(obj)
        curve.append(log_evidence(obj, sol.c) if sol.converged else -np.inf)
    peak = LOG_LAMBDA_GRID[int(np.argmax(curve))]
    assert abs(np.log10(choice.lam_rel) - peak) <= 0.5
    # The warm start handed to the series is the optimum at the chosen λ.
    obj.lam = obj.scale * choice.lam_rel
    assert solve(obj, choice.solutions[0]).iterations <= 3


def test_another_window_from_the_knots_is_what_a_fit_for_it_gives():
    """SeriesFit.window(other): the inventory and its error for a window the fit was not made
    for, from the kept cumulative covariance, against a fit made for that window."""
    from ndp.model.response import Response
    from ndp.model.series import fit_series

    obj, truth = _problem(5)
    n = truth.size
    edges = np.linspace(0.0, 15.0, n + 1)  # 0.5 µm bins: window ends on bin edges, and knots
    roi = np.arange(obj.a.shape[0])
    resp = Response(obj.a, edges, roi, roi, obj.a, ("triton",))
    rng = np.random.default_rng(0)
    counts = rng.poisson(obj.a @ truth + obj.b, size=(4, roi.size)).astype(float)
    bkg = np.broadcast_to(obj.b, counts.shape)
    kw = {"upper": np.full(n, np.inf), "background": bkg, "lam_rel": 1e-2}
    fit = fit_series(resp, counts, np.ones(4), window_um=(0.0, 7.5), **kw)
    other = fit_series(resp, counts, np.ones(4), window_um=(2.5, 10.0), **kw)
    value, err = fit.window((2.5, 10.0))
    exact_value, exact_err = other.window((2.5, 10.0))
    np.testing.assert_allclose(value, exact_value, rtol=1e-12)
    np.testing.assert_allclose(err, exact_err, rtol=1e-4)
