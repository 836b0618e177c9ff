"""Fit every frame of a series with one response and one λ, keeping what the posterior knows.

Each frame's profile is the bounded optimum of its :class:`~ndp.model.objective.PoissonObjective`
(:func:`~ndp.model.solver.solve`), warm-started from the previous frame only when that one
converged. Its uncertainty comes from the curvature over the free bins (bins held at a bound
get their one-bin marginal): each bin's band is its scatter over noise plus the smoothing's
estimated bias, and the fit keeps what later steps need without a new inversion: each bin's
variance and the covariance of the cumulative
Li content at a set of depth knots, from which the variance of any depth window's inventory
follows (:meth:`SeriesFit.window`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from dataclasses import dataclass

import numpy as np
from scipy import linalg
from threadpoolctl import threadpool_limits

from ndp.model.objective import PoissonObjective, difference_penalty
from ndp.model.regularization import choose_lambda
from ndp.model.response import Response
from ndp.model.solver import solve
from ndp.physics import constants as C

__all__ = ["BLOCK_FRAMES", "SeriesFit", "block_slices", "fit_blocks", "fit_series", "lambda_sample",
           "series_lambda", "series_problem", "window_weights"]

logger = logging.getLogger(__name__)

#: At most this many depth knots for the cumulative-content covariance, kept per frame in
#: float32 (16 kB a frame: a day of 1-s frames stays near 1.4 GB; the configured inventory
#: window's variance is kept exactly besides).
MAX_KNOTS = 64


def window_weights(edges_um: np.ndarray, window_um=None) -> np.ndarray:
    """Depth (cm) of each bin inside ``window_um`` (partial bins pro rata), shape (n_depth,)."""
    edges = np.asarray(edges_um, dtype=float)
    lo, hi = (edges[0], edges[-1]) if window_um is None else window_um
    return np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0.0, None) * C.CM_PER_UM


@dataclass
class SeriesFit:
    """Profiles of a series and what their posterior says.

    Attributes
    ----------
    c : ndarray of shape (F, N)
        Density relative to the scale's unit (Li metal for absolute scales) per bin.
    variance : ndarray of shape (F, N)
    knots : ndarray of shape (K,)
        Indices into ``edges_um`` of the knots.
    cum_cov : ndarray of shape (F, K, K)
        Covariance of the cumulative content ∫₀^x c dx (cm) at the knots.
    window_var : ndarray of shape (F,)
        Exact variance of the content of ``window_um`` (cm²·density²).
    window_um : (float, float) or None
    edges_um : ndarray of shape (N + 1,)
    fit : ndarray of shape (F, n_channels)
    chi2 : ndarray of shape (F,)
        Pearson χ² per channel group.
    converged : ndarray of bool, shape (F,)
    iterations : ndarray of int, shape (F,)
    lam_rel : float
    """

    c: np.ndarray
    variance: np.ndarray
    knots: np.ndarray
    cum_cov: np.ndarray
    window_var: np.ndarray
    window_um: tuple | None
    edges_um: np.ndarray
    fit: np.ndarray
    chi2: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    lam_rel: float

    def window(self, window_um=None) -> tuple[np.ndarray, np.ndarray]:
        """Content (density · cm) of a depth window per frame, and its 1σ.

        Exact for the window the fit was made with; for another, the variance comes from the
        knots nearest each end (exact when the ends fall on knots).
        """
        w = window_weights(self.edges_um, window_um)
        value = self.c @ w
        same = window_um is None and self.window_um is None
        if same or (window_um is not None and self.window_um is not None
                    and np.allclose(window_um, self.window_um)):  # fmt: skip
            return value, np.sqrt(self.window_var)
        x = self.edges_um[self.knots]
        lo, hi = (x[0], x[-1]) if window_um is None else window_um
        g = np.zeros(self.knots.size)
        g[int(np.argmin(np.abs(x - hi)))] += 1.0
        g[int(np.argmin(np.abs(x - lo)))] -= 1.0
        var = np.einsum("k,fkl,l->f", g, self.cum_cov.astype(float), g)
        return value, np.sqrt(np.maximum(var, 0.0))


#: Frames per block. Each block is warm-started on its own, so blocks can run anywhere; the
#: partition does not depend on how many workers there are, so every result is the same with
#: one core or many.
BLOCK_FRAMES = 32

#: Blocks in flight on an executor at most: enough to keep a pool busy, few enough that a long
#: series' spectra and results are never all queued at once.
MAX_PENDING = 16


def fit_series(response: Response, counts: np.ndarray, exposure: np.ndarray, *, upper: np.ndarray,
               background: np.ndarray | None = None, lam_rel: float | str = "evidence",
               order: int = 1, window_um=None, executor: Executor | None = None,
               progress: Callable[[int], None] | None = None) -> SeriesFit:  # fmt: skip
    """Fit every frame.

    Parameters
    ----------
    response : Response
    counts : ndarray of shape (F, n_channels)
    exposure : ndarray of shape (F,)
        Counts per unit relative density per cm of depth, per frame.
    upper : ndarray of shape (N,)
        Upper bound of each bin's relative density.
    background : ndarray of shape (F, n_channels), optional
        Expected background counts.
    lam_rel : float or "evidence"
        Smoothness relative to each frame's curvature scale, or chosen by the evidence
        (:func:`~ndp.model.regularization.choose_lambda`) on up to three frames.
    order : {1, 2}
        Differences in the smoothness penalty.
    window_um : (float, float), optional
        The inventory window whose variance is kept exactly.
    executor : concurrent.futures.Executor, optional
        Runs the blocks of :data:`BLOCK_FRAMES` frames (for example a
        ``ProcessPoolExecutor``, or a ``dask.distributed`` client's executor); default here,
        one after another. The result does not depend on it.
    progress : callable, optional
        Called with the number of frames done.
    """
    counts = np.asarray(counts, dtype=float)
    n_f, n_ch = counts.shape
    n = response.grouped.shape[1]
    bkg = np.zeros_like(counts) if background is None else np.asarray(background, dtype=float)
    y = response.group_counts(counts)
    b = response.group_counts(bkg)
    problem = series_problem(response, upper, order=order, window_um=window_um)
    sample = lambda_sample(n_f)
    lam_rel, first = series_lambda(problem, y[sample], b[sample], exposure[sample], lam_rel)
    out = SeriesFit(
        c=np.zeros((n_f, n)), variance=np.zeros((n_f, n)), knots=problem.knots,
        cum_cov=np.zeros((n_f, problem.knots.size, problem.knots.size), np.float32), window_var=np.zeros(n_f),
        window_um=None if window_um is None else tuple(window_um), edges_um=response.edges_um,
        fit=np.zeros((n_f, n_ch)), chi2=np.full(n_f, np.nan), converged=np.zeros(n_f, bool),
        iterations=np.zeros(n_f, int), lam_rel=lam_rel,
    )  # fmt: skip
    blocks = ((sl, y[sl], b[sl], exposure[sl]) for sl in block_slices(n_f))
    done = 0
    for sl, part in fit_blocks(problem, blocks, lam_rel, first, executor=executor):
        for name, values in part.items():
            getattr(out, name)[sl] = values
        out.fit[sl, response.roi] += bkg[sl, response.roi]
        done += sl.stop - sl.start
        if progress is not None:
            progress(done)
    return out


def block_slices(n_frames: int, start: int = 0) -> list[slice]:
    """The fixed blocks of :data:`BLOCK_FRAMES` frames of a series of ``n_frames``."""
    return [slice(i, min(i + BLOCK_FRAMES, n_frames)) for i in range(start, n_frames, BLOCK_FRAMES)]


def lambda_sample(n_frames: int) -> np.ndarray:
    """Indices of the (up to three) frames the evidence chooses λ on: first, middle, last."""
    return np.unique(np.linspace(0, n_frames - 1, min(n_frames, 3)).round().astype(int))


def series_problem(response: Response, upper, *, order: int = 1, window_um=None) -> _Problem:
    """What every frame of a series shares (response, penalty, bounds, inventory window)."""
    n = response.grouped.shape[1]
    upper = np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy()
    return _Problem(response, difference_penalty(n, order), upper, window_um)


def series_lambda(problem: _Problem, y: np.ndarray, b: np.ndarray, exposure: np.ndarray,
                  lam_rel: float | str = "evidence") -> tuple[float, np.ndarray | None]:  # fmt: skip
    """The series' relative λ and the warm start of its first frame.

    Parameters
    ----------
    problem : _Problem
        From :func:`series_problem`.
    y, b : ndarray of shape (S, n_groups)
        Grouped counts and background of the frames :func:`lambda_sample` picks.
    exposure : ndarray of shape (S,)
    lam_rel : float or "evidence"

    Returns
    -------
    lam_rel : float
    first : ndarray of shape (N,) or None
        The evidence's solution for the first frame (None for a given λ).
    """
    if lam_rel != "evidence":
        return float(lam_rel), None
    with threadpool_limits(limits=1, user_api="blas"):
        choice = choose_lambda([problem.objective(y[i], b[i], exposure[i]) for i in range(len(y))])
    logger.info("smoothing: lambda %.3g (relative), chosen by the evidence on %d frames",
                choice.lam_rel, len(y))
    return float(choice.lam_rel), choice.solutions[0]


def fit_blocks(problem: _Problem, blocks: Iterable[tuple[slice, np.ndarray, np.ndarray, np.ndarray]],
               lam_rel: float, first: np.ndarray | None = None, *, executor: Executor | None = None,
               max_pending: int = MAX_PENDING) -> Iterator[tuple[slice, dict[str, np.ndarray]]]:  # fmt: skip
    """Fit blocks of frames as they come, yielding each block's results when it is done.

    Blocks are pulled from ``blocks`` only while fewer than ``max_pending`` are running, so a
    series of any length is held a few blocks at a time: memory does not grow with frames.

    Parameters
    ----------
    problem : _Problem
    blocks : iterable of (slice, y, b, exposure)
        Each block's frames (a slice of the series, one of :func:`block_slices`), grouped
        counts and background of shape (F_block, n_groups) and exposure of shape (F_block,).
    lam_rel : float
    first : ndarray of shape (N,), optional
        Warm start of the series' first frame (the block whose slice starts at 0).
    executor : concurrent.futures.Executor, optional
        Where the blocks run; default here, one after another. The result does not depend on it.
    max_pending : int
        Blocks submitted to ``executor`` and not yet yielded, at most.

    Yields
    ------
    (slice, dict)
        The block's frames and its results, as :func:`_fit_block` returns them (fit without
        background), in the order blocks finish.
    """
    def args(block):
        sl, y, b, exposure = block
        return problem, y, b, exposure, lam_rel, first if sl.start == 0 else None

    if executor is None:
        for block in blocks:
            part = _fit_block(*args(block))
            _log_block(block[0], part)
            yield block[0], part
        return
    pending: dict = {}
    source = iter(blocks)
    exhausted = False
    while pending or not exhausted:
        while not exhausted and len(pending) < max(1, max_pending):
            block = next(source, None)
            if block is None:
                exhausted = True
            else:
                pending[executor.submit(_fit_block, *args(block))] = block[0]
        if not pending:
            break
        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            sl, part = pending.pop(future), future.result()
            _log_block(sl, part)
            yield sl, part


def _log_block(sl: slice, part: dict) -> None:
    """How the solver fared on a block of frames (``ndp -vv``)."""
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "frames %d-%d: %d/%d converged, %d-%d iterations, median chi2/channel %.3g",
            sl.start, sl.start + part["converged"].size - 1, int(part["converged"].sum()),
            part["converged"].size, int(part["iterations"].min()), int(part["iterations"].max()),
            float(np.nanmedian(part["chi2"])),
        )  # fmt: skip


@dataclass
class _Problem:
    """What every frame of a series shares; small enough to send to a worker once per block."""

    response: Response
    m: np.ndarray
    upper: np.ndarray
    window_um: tuple | None

    def __post_init__(self):
        edges = self.response.edges_um
        n = edges.size - 1
        self.w_win = window_weights(edges, self.window_um)
        # Counts per unit window content (Li spread evenly over the window): one count's worth
        # is the least a window's content can be uncertain by, even in a frame that recorded
        # nothing.
        width_cm = np.diff(edges) * C.CM_PER_UM
        self.per_content = float(self.response.grouped.sum(axis=0) @ (self.w_win / width_cm)) / max(
            float(self.w_win.sum()), 1e-300
        )
        step = max(1, int(np.ceil((n + 1) / MAX_KNOTS)))
        self.knots = np.unique(np.concatenate([np.arange(0, n + 1, step), [n]]))
        self.cum = np.array([window_weights(edges, (edges[0], edges[k])) for k in self.knots])

    def objective(self, y: np.ndarray, b: np.ndarray, exposure: float) -> PoissonObjective:
        n = self.upper.size
        return PoissonObjective(self.response.grouped * exposure, y, b, self.m, 0.0, np.zeros(n), self.upper)


def _fit_block(problem: _Problem, y: np.ndarray, b: np.ndarray, exposure: np.ndarray,
               lam_rel: float, c_first: np.ndarray | None = None) -> dict[str, np.ndarray]:  # fmt: skip
    """Fit consecutive frames, each warm-started from the previous one when that converged
    (the first from ``c_first`` if given)."""
    resp = problem.response
    n_f, n = y.shape[0], problem.upper.size
    k = problem.knots.size
    part = {
        "c": np.zeros((n_f, n)), "variance": np.zeros((n_f, n)), "cum_cov": np.zeros((n_f, k, k), np.float32),
        "window_var": np.zeros(n_f), "fit": np.zeros((n_f, resp.matrix.shape[0])),
        "chi2": np.full(n_f, np.nan), "converged": np.zeros(n_f, bool), "iterations": np.zeros(n_f, int),
    }  # fmt: skip
    # The per-frame matrices are small (hundreds of rows): multi-threaded BLAS spends more
    # time synchronising than computing on them.
    with threadpool_limits(limits=1, user_api="blas"):
        c_prev = c_first
        for i in range(n_f):
            obj = problem.objective(y[i], b[i], exposure[i])
            obj.lam = lam_rel * obj.scale
            sol = solve(obj, c_prev)
            c_prev = sol.c if sol.converged else None
            part["c"][i], part["converged"][i], part["iterations"][i] = sol.c, sol.converged, sol.iterations
            cov, scatter = _posterior(obj, sol.c)
            part["variance"][i] = np.diag(cov)
            one_count = 1.0 / max(problem.per_content * exposure[i], 1e-300)
            part["window_var"][i] = max(float(problem.w_win @ scatter @ problem.w_win), one_count**2)
            part["cum_cov"][i] = problem.cum @ scatter @ problem.cum.T
            part["fit"][i, resp.roi] = (resp.matrix[resp.roi] @ sol.c) * exposure[i]
            stat, expected = obj.chi2(sol.c)
            part["chi2"][i] = stat / max(expected, 1.0)
    return part


def _posterior(obj: PoissonObjective, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each bin's band (as a covariance with that diagonal), and the covariance of the
    estimate over noise.

    A bin's band is its scatter over noise realisations plus the square of the smoothing's
    bias, so it covers the truth like a 1σ band both where the profile is smooth (no bias; the
    posterior (H + λM)⁻¹ would be twice as wide there) and at edges (bias dominates); bins held
    at a bound get their one-bin marginal. Integrals over many bins (a window's inventory) are
    hardly biased by smoothing; their uncertainty is how much they scatter from one noise
    realisation to the next, (H + λM)⁻¹ H (H + λM)⁻¹ with H the data's Fisher information.
    The posterior would overstate it many-fold where the resolution is coarse.
    """
    lam, obj.lam = obj.lam, 0.0
    h_data = obj.fisher(c)
    obj.lam = lam
    h = h_data + lam * obj.m
    n = c.size
    cov = np.zeros((n, n))
    scatter = np.zeros((n, n))
    tol = obj.bound_tolerance(c, 1e-8)
    free = (c > obj.lower + tol) & (c < obj.upper - tol)
    idx = np.flatnonzero(free)
    if idx.size:
        hf = h[np.ix_(idx, idx)]
        try:
            p = linalg.cho_solve(linalg.cho_factor(hf), np.eye(idx.size))
        except linalg.LinAlgError:
            p = linalg.pinvh(hf)
        scatter[np.ix_(idx, idx)] = p @ h_data[np.ix_(idx, idx)] @ p
        # A bin's band: its scatter over noise plus the smoothing's bias, E[ĉ] − c ≈ −P λ M c,
        # estimated at ĉ. Where the profile is smooth the bias vanishes and the band is the
        # scatter; at an edge the bias dominates. The posterior P would be wider everywhere.
        bias = p @ (obj.lam * (obj.m @ c))[idx]
        cov[np.ix_(idx, idx)] = scatter[np.ix_(idx, idx)]
        cov[idx, idx] += bias**2
    fixed = np.flatnonzero(~free)
    cov[fixed, fixed] = 1.0 / np.maximum(np.diag(h)[fixed], 1e-300)
    return cov, scatter
