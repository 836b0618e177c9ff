"""Li inventory and Li efficiency per cycle, beside the Coulombic efficiency.

Frames average over their duration: the inventory a 10-minute frame reports is the mean over
those minutes, not the value at a half-cycle boundary. So the inventory is modelled as a
continuous, piecewise-linear function of time with knots at the cycler's boundaries (constant
current moves Li at a constant rate), each frame is the *average* of that function over the
frame, and the knot values follow from weighted least squares with their covariance. Plated Li
of a cycle is the rise over its plating half cycle, stripped Li the fall over its stripping, the
Li efficiency their ratio and the inactive Li what stays.

The electrolyte's own Li sits in the same depth window, and the deposit pushes it out as it
grows: a volume of Li metal (c_metal) displaces the same volume of host (c_host), so the window
gains only c_metal − c_host per volume plated. Plated Li is therefore the window's change divided
by 1 − c_host/c_metal (any deposit density: the relation holds per volume of metal). Ratios such
as the Li efficiency do not depend on it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ndp.errors import NdpError
from ndp.model.scale import is_absolute
from ndp.physics import constants as C

__all__ = ["COLUMNS", "align", "efficiency_table", "fit_inventory"]

#: The contract's columns of ``cycles.csv``, in order (units in the names; efficiencies are
#: fractions). The table continues with the 1σ errors, the efficiency gap and the half cycles'
#: times (:func:`efficiency_table`).
COLUMNS = ["cycle", "plated_mAh_cm2", "stripped_mAh_cm2", "li_efficiency", "inactive_li_mAh_cm2",
           "charge_plated_mAh_cm2", "charge_stripped_mAh_cm2", "coulombic_efficiency"]  # fmt: skip


def align(profiles: xr.Dataset, log: pd.DataFrame, offset_s: float = 0.0) -> float:
    """Seconds to add to the cycler's ``time_s`` to put it on the profiles' ``time`` axis.

    Both clocks are absolute when the log has a start and the profiles a ``time_zero``;
    ``offset_s`` corrects a known difference between the two computers' clocks.

    Raises
    ------
    NdpError
        When the log does not overlap the frames.
    """
    shift = float(offset_s)
    start = log.attrs.get("start")
    t0 = profiles.attrs.get("time_zero")
    if start is not None and t0 not in (None, "NaT"):
        shift += (pd.Timestamp(start) - pd.Timestamp(t0)).total_seconds()
    lo = float(profiles.time.values[0] - profiles.real_time_s.values[0] / 2)
    hi = float(profiles.time.values[-1] + profiles.real_time_s.values[-1] / 2)
    c_lo, c_hi = float(log.time_s.iloc[0]) + shift, float(log.time_s.iloc[-1]) + shift
    if c_hi < lo or c_lo > hi:
        raise NdpError(
            f"cycler log: runs {c_lo:.0f}–{c_hi:.0f} s on the NDP clock, the frames {lo:.0f}–{hi:.0f} s: "
            "they do not overlap (check time_zero, the log's start time or cycler_offset_s)"
        )
    return shift


def _hat_averages(knots: np.ndarray, a: np.ndarray, b: np.ndarray, n: int = 64) -> np.ndarray:
    """Average of each knot's hat function over each interval [a_f, b_f]: shape (F, K)."""
    u = (np.arange(n) + 0.5) / n
    t = a[:, None] + (b - a)[:, None] * u[None, :]  # (F, n)
    idx = np.clip(np.searchsorted(knots, t, side="right") - 1, 0, knots.size - 2)
    left, right = knots[idx], knots[idx + 1]
    frac = np.clip((t - left) / (right - left), 0.0, 1.0)
    w = np.zeros((a.size, knots.size))
    rows = np.repeat(np.arange(a.size), n)
    np.add.at(w, (rows, idx.ravel()), (1.0 - frac).ravel() / n)
    np.add.at(w, (rows, idx.ravel() + 1), frac.ravel() / n)
    return w


def fit_inventory(time_s, duration_s, value, error, knots_s) -> tuple[np.ndarray, np.ndarray]:
    """Knot values of a piecewise-linear function whose frame averages match the data.

    Parameters
    ----------
    time_s, duration_s : array_like of shape (F,)
        Frame mid-times and durations.
    value, error : array_like of shape (F,)
        Frame-averaged inventory and its 1σ error.
    knots_s : array_like of shape (K,)
        Increasing knot times (the cycler's boundaries, and the ends of the data).

    Returns
    -------
    values : ndarray of shape (K,)
    covariance : ndarray of shape (K, K)
        From the frames' errors, scaled by the fit's χ² per degree of freedom where that is
        above 1 (the Birge ratio): frames that scatter about the piecewise-linear inventory more
        than their errors say (the deposit's shape changing under a model that is not exact)
        make the knots that much less certain.
    """
    t = np.asarray(time_s, float)
    d = np.asarray(duration_s, float)
    y = np.asarray(value, float)
    s = np.asarray(error, float)
    good = np.isfinite(s) & (s > 0)
    if not good.any():
        raise NdpError("inventory: no frame has a finite, positive uncertainty")
    # An error of zero would give a frame all the weight; none is better known than the best.
    s = np.where(good, s, np.inf)
    s = np.maximum(s, float(np.min(s[good])))
    s = np.where(np.isfinite(s), s, np.max(s[good]) * 1e6)
    knots = np.asarray(knots_s, float)
    w = _hat_averages(knots, t - d / 2, t + d / 2)
    a = w / s[:, None]
    h = a.T @ a
    # Knots no frame constrains (a boundary between two frames' midpoints is constrained by
    # both neighbours; one outside all frames is not) get a whisper of prior towards their
    # neighbours so the system stays solvable; the data decide wherever there are data.
    scale = float(np.trace(h)) / max(knots.size, 1)
    diff = np.diff(np.eye(knots.size), axis=0)
    h_reg = h + 1e-9 * scale * diff.T @ diff
    cov = np.linalg.pinv(h_reg)
    values = cov @ (a.T @ (y / s))
    dof = int(good.sum()) - int(np.linalg.matrix_rank(w[good]))
    if dof > 0:
        resid = ((y - w @ values) / s)[good]
        cov = cov * max(float(resid @ resid) / dof, 1.0)
    return values, cov


def efficiency_table(profiles: xr.Dataset, halves: pd.DataFrame, cycle_table: pd.DataFrame, *,
                     shift_s: float = 0.0, area_cm2: float = 1.0, host_li_cm3: float = 0.0,
                     metal_li_cm3: float = C.LI_METAL_ATOMS_CM3) -> pd.DataFrame:  # fmt: skip
    """Per cycle: plated, stripped and inactive Li, the Li efficiency, beside the charges and CE.

    Parameters
    ----------
    profiles : xarray.Dataset
        From :func:`ndp.model.invert.invert`: the inventory ``li_capacity``/``li_capacity_err`` per
        frame, already per cm² of electrode (mAh/cm², or arbitrary units on a relative scale),
        with ``time`` (mid) and ``real_time_s`` (durations).
    halves : pandas.DataFrame
        :func:`ndp.cycling.cycles.half_cycles` of the aligned cycler log.
    cycle_table : pandas.DataFrame
        :func:`ndp.cycling.cycles.cycles` of those half cycles.
    shift_s : float
        Cycler → NDP clock shift (:func:`align`).
    area_cm2 : float
        Electrode area: turns the cycler's charges (mAh) into mAh/cm². The NDP inventory is
        per cm² already and never meets it.
    host_li_cm3, metal_li_cm3 : float
        Li density of the host the deposit displaces and of the deposit, atoms/cm³.

    Returns
    -------
    pandas.DataFrame
        The contract's columns ``cycle, plated_mAh_cm2, stripped_mAh_cm2, li_efficiency,
        inactive_li_mAh_cm2, charge_plated_mAh_cm2, charge_stripped_mAh_cm2,
        coulombic_efficiency``, then 1σ errors (``plated_err_mAh_cm2``, ``stripped_err_mAh_cm2``,
        ``li_efficiency_err``, ``inactive_li_err_mAh_cm2``), ``efficiency_gap`` (CE − Li
        efficiency) and the half cycles' times on the NDP clock (``plate_start_s`` …). NaN where
        a half cycle is missing or not covered by frames. ``attrs["absolute"]`` says whether the
        Li columns are in mAh/cm² (else arbitrary units: no absolute scale).
    """
    displaced = 1.0 / (1.0 - host_li_cm3 / metal_li_cm3)
    t = profiles.time.values
    dur = profiles.real_time_s.values
    y = profiles.li_capacity.values * displaced
    e = profiles.li_capacity_err.values * displaced
    lo, hi = float(t[0] - dur[0] / 2), float(t[-1] + dur[-1] / 2)
    bounds = np.unique(
        np.concatenate([halves.start_s.to_numpy(float), halves.end_s.to_numpy(float)]) + shift_s
    )
    knots = np.unique(np.concatenate([[lo, hi], bounds[(bounds > lo) & (bounds < hi)]]))
    q, cov = fit_inventory(t, dur, y, e, knots)

    def at(time):
        """Index of the knot at ``time`` if the frames cover it, else None."""
        if not np.isfinite(time) or time < lo or time > hi:
            return None
        k = int(np.argmin(np.abs(knots - time)))
        return k if abs(knots[k] - time) < 1e-6 else None

    def diff(k1, k2):
        if k1 is None or k2 is None:
            return np.nan, np.nan, None
        g = np.zeros(knots.size)
        g[k2] += 1.0
        g[k1] -= 1.0
        return float(g @ q), float(np.sqrt(max(g @ cov @ g, 0.0))), g

    rows = []
    for _, c in cycle_table.iterrows():
        ps, pe = at(c.plate_start_s + shift_s), at(c.plate_end_s + shift_s)
        ss, se = at(c.strip_start_s + shift_s), at(c.strip_end_s + shift_s)
        plated, plated_err, gp = diff(ps, pe)
        stripped_neg, stripped_err, gs = diff(ss, se)
        stripped = -stripped_neg
        inactive, inactive_err, _ = diff(ps, se)
        eff = eff_err = np.nan
        if gp is not None and gs is not None and plated != 0:
            eff = stripped / plated
            # Delta method with the covariance of the knots.
            grad = (-gs / plated) - (stripped / plated**2) * gp
            eff_err = float(np.sqrt(max(grad @ cov @ grad, 0.0)))
        rows.append({
            "cycle": int(c.cycle),
            "plated_mAh_cm2": plated, "stripped_mAh_cm2": stripped, "li_efficiency": eff,
            "inactive_li_mAh_cm2": inactive,
            "charge_plated_mAh_cm2": c.charge_plated_mAh / area_cm2,
            "charge_stripped_mAh_cm2": c.charge_stripped_mAh / area_cm2,
            "coulombic_efficiency": c.coulombic_efficiency,
            "plated_err_mAh_cm2": plated_err, "stripped_err_mAh_cm2": stripped_err,
            "li_efficiency_err": eff_err, "inactive_li_err_mAh_cm2": inactive_err,
            "efficiency_gap": c.coulombic_efficiency - eff,
            "plate_start_s": c.plate_start_s + shift_s, "plate_end_s": c.plate_end_s + shift_s,
            "strip_start_s": c.strip_start_s + shift_s, "strip_end_s": c.strip_end_s + shift_s,
        })  # fmt: skip
    out = pd.DataFrame(rows, columns=None if rows else COLUMNS)
    out.attrs["absolute"] = is_absolute(profiles)
    out.attrs["host_displacement_factor"] = displaced
    return out


def measured_host_li(profiles: xr.Dataset, halves: pd.DataFrame, *,
                     shift_s: float = 0.0) -> tuple[float, float, int]:  # fmt: skip
    """Li density of the host in the inventory window, measured where nothing has plated yet.

    The window's mean density in the frames that end before the first plating starts, in the
    same matrix and units as the window itself.

    Returns
    -------
    c_host : float
        Li atoms/cm³ (or the profiles' relative units); NaN without such frames.
    error : float
        Its 1σ.
    n_frames : int
        How many frames it comes from.
    """
    t = profiles.time.values
    dur = profiles.real_time_s.values
    win = profiles.attrs.get("li_region_um")
    width_cm = (float(win[1]) - float(win[0])) * C.CM_PER_UM if win is not None else np.nan
    plates = halves[halves.kind == "plate"] if "kind" in halves else halves.iloc[0:0]
    first = float(plates.start_s.min()) + shift_s if len(plates) else np.inf
    before = (t + dur / 2) <= first + 1e-6
    n = int(before.sum())
    if not n or not np.isfinite(width_cm) or width_cm <= 0:
        return np.nan, np.nan, 0
    vals = profiles.li_areal.values[before] / width_cm
    errs = profiles.li_areal_err.values[before] / width_cm
    return float(np.mean(vals)), float(np.sqrt(np.sum(errs**2)) / n), n


def host_li(choice: str | float, *, declared_cm3: float, measured: tuple[float, float, int],
            metal_cm3: float = C.LI_METAL_ATOMS_CM3) -> tuple[float, float, str]:  # fmt: skip
    """The host Li density the deposit displaces, as the run file chose it.

    The deposit displaces host, so the window's change is plated Li times 1 − c_host/c_metal.
    ``"declared"`` takes the profiled material's own Li density: a property of the material,
    so the correction does not move when the absolute scale (area, flux, solid angle) does.
    ``"measured"`` takes :func:`measured_host_li`: it follows a host whose Li content differs
    from its declaration, but also carries any error of the absolute scale into the factor.
    ``"auto"`` is ``"declared"`` unless the declared matrix is Li metal itself (a shortcut that
    says nothing about the host), and then ``"measured"``. A number is used as given.

    Parameters
    ----------
    choice : {"auto", "declared", "measured"} or float
        The run file's ``[analysis] host_li``; a number is atoms/cm³.
    declared_cm3 : float
        The declared profiled material's Li density, atoms/cm³.
    measured : tuple
        :func:`measured_host_li`'s result.
    metal_cm3 : float
        Li metal's density in the same units.

    Returns
    -------
    c_host, error, source : float, float, str
    """
    value, err, n = measured
    if not isinstance(choice, str):
        return float(choice), 0.0, "the run file"
    metal_shortcut = declared_cm3 >= 0.9 * metal_cm3
    if choice == "declared" or (choice == "auto" and not metal_shortcut):
        if metal_shortcut:
            return 0.0, 0.0, "none (the declared matrix is Li metal)"
        return float(declared_cm3), 0.0, "the declared profiled material"
    if n and np.isfinite(value):
        return value, err, f"measured in {n} frame(s) before the first plating"
    return 0.0, 0.0, "none (no frame before the first plating to measure it in)"
