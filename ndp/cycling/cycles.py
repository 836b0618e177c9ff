"""Half cycles, cycles and the Coulombic efficiency of a Li plating/stripping cell.

A Cu|electrolyte|Li cell plates Li on the Cu with one current sign (negative on the Cu, by
default) and strips it with the other. :func:`half_cycles` splits a cycler log by the sign of
the current (with a dead band, so rests and noise are not half cycles), merges what a rest
interrupts, and integrates the charge of each; :func:`cycles` pairs every plating half cycle
with the stripping that follows. The Coulombic efficiency of cycle n is stripped/plated charge
of cycle n — not the cycler's own "efficiency" column, which may pair a charge with the next
discharge.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ndp.errors import NdpError

__all__ = ["COUNTER_TOLERANCE", "cycles", "half_cycles"]

#: Largest relative difference between ∫I dt and the cycler's counters for one half cycle
#: before the counters' charge is used instead (see :func:`half_cycles`).
COUNTER_TOLERANCE = 0.01

#: Fewest logged rows per counter reset (on average over a half cycle) for the counters'
#: charge to stand in for ∫I dt.
MIN_ROWS_PER_COUNT = 5

_CAPACITY_COLUMNS = ("capacity_mAh", "charge_capacity_mAh", "discharge_capacity_mAh")


def _signs(current: np.ndarray, dead_band_mA: float) -> np.ndarray:
    return np.where(current > dead_band_mA, 1, np.where(current < -dead_band_mA, -1, 0))


def _default_dead_band(current: np.ndarray) -> float:
    active = np.abs(current[np.abs(current) > 0])
    if active.size == 0:
        return 0.0
    # 2 % of the typical active current: below it is rest, open circuit or noise.
    return 0.02 * float(np.median(active))


def _cycler_increments(log: pd.DataFrame) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Charge the cycler counted between consecutive rows, mAh (≥ 0), from its capacity columns,
    and where a counter reset (both None without counters).

    Counters may reset per step, half cycle or cycle, and may be signed; a drop in magnitude is
    a reset, after which the new value is the increment (what ran after the last row logged
    before the reset is lost: a counter resetting every row or two has lost most of it).
    """
    split = [c for c in ("charge_capacity_mAh", "discharge_capacity_mAh") if c in log]
    # Separate charge and discharge counters, or else the combined one: never both.
    cols = split or [c for c in ("capacity_mAh",) if c in log]
    if not cols:
        return None, None
    inc = np.zeros(len(log))
    reset = np.zeros(len(log), dtype=bool)
    for c in cols:
        v = np.abs(log[c].to_numpy(dtype=float))
        v = np.nan_to_num(v)
        d = np.diff(v, prepend=v[0])
        inc += np.where(d >= 0, d, v)
        reset |= d < 0
    return inc, reset


def _row_charges(
    t: np.ndarray, i: np.ndarray, s: np.ndarray, *, interval_mean: bool = False
) -> np.ndarray:
    """Charge passed in the interval ending at each row, mAh (signed; 0 for the first row).

    ``interval_mean``: each row's current is the mean over the interval that ends at it
    (BioLogic's ``<I>``, whose ``dq`` is exactly that current times the interval), not a sample;
    the row's own current then gives its interval's charge.

    A cycler logs a row at the end of each step and the first row of the next step after it
    switched, so an interval belongs to the state of the row that ends it, as EC-Lab's ``dq``
    and the capacity counters of every cycler book it: inside a run of one sign, the trapezoid;
    into a rest row, nothing (the current was off, however long the gap before the rest row
    was logged); into the first row of a step, that row's current. Integrating the earlier
    row's current across a step change instead books a whole logging gap of the last step
    into the rest that followed it.
    """
    dt_h = np.diff(t) / 3600.0
    same = s[1:] == s[:-1]
    inside = i[1:] if interval_mean else 0.5 * (i[1:] + i[:-1])
    q = np.where(s[1:] == 0, 0.0, np.where(same, inside, i[1:])) * dt_h
    return np.concatenate([[0.0], q])


def half_cycles(log: pd.DataFrame, *, dead_band_mA: float | None = None, plating: str = "negative",
                min_points: int = 2) -> pd.DataFrame:  # fmt: skip
    """Split a cycler log into plating and stripping half cycles.

    Parameters
    ----------
    log : pandas.DataFrame
        The canonical table of :func:`ndp.cycling.cycler.read_cycler` (``time_s``, ``current_mA``).
    dead_band_mA : float, optional
        Currents within ±dead band are rest; default 2 % of the median active current.
    plating : {"negative", "positive"}
        Current sign that plates Li on the profiled electrode (Cu|Li cells: negative on the Cu).
    min_points : int
        Shorter runs (a spike, a switching transient) are not half cycles.

    Returns
    -------
    pandas.DataFrame
        One row per half cycle: ``half_cycle``, ``kind`` ("plate"/"strip"), ``start_s``,
        ``end_s``, ``charge_mAh`` (the charge to use), ``integrated_mAh`` (|∫I dt|),
        ``cycler_charge_mAh`` (from the cycler's capacity counters, NaN without),
        ``charge_source`` ("current" or "counters"), ``mean_current_mA``, ``first_row``,
        ``last_row``. ``attrs["notices"]``: one line per thing the caller must say (charges
        taken from the counters).

    Notes
    -----
    ``charge_mAh`` is ∫I dt, unless the cycler's own counters disagree with it by more than
    :data:`COUNTER_TOLERANCE` for that half cycle: a log too sparse (decimated, or half cycles
    of a few rows) to integrate, whose counters the instrument kept at its own fast rate. Then
    ``charge_mAh`` is the counters' charge, and ``attrs["notices"]`` says so.
    """
    if plating not in ("negative", "positive"):
        raise NdpError(f"plating: expected 'negative' or 'positive', got {plating!r}")
    for col in ("time_s", "current_mA"):
        if col not in log:
            raise NdpError(f"cycler log: no {col} column")
    t = log["time_s"].to_numpy(dtype=float)
    i = log["current_mA"].to_numpy(dtype=float)
    if t.size < 2:
        raise NdpError("cycler log: fewer than two rows")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(i))):
        raise NdpError("cycler log: times and currents must be finite numbers")
    if np.any(np.diff(t) < 0):
        raise NdpError("cycler log: time goes backwards")
    if dead_band_mA is not None and not (np.isfinite(dead_band_mA) and dead_band_mA >= 0):
        raise NdpError(f"dead band: expected a current >= 0 mA, got {dead_band_mA}")
    db = _default_dead_band(i) if dead_band_mA is None else float(dead_band_mA)
    s = _signs(i, db)
    nz = np.flatnonzero(s != 0)
    if nz.size == 0:
        raise NdpError(f"cycler log: the current never leaves the dead band (±{db:g} mA)")
    # Runs of one sign among the non-rest rows: a rest between equal signs joins them.
    change = np.flatnonzero(np.diff(s[nz]) != 0)
    run_first = nz[np.concatenate([[0], change + 1])]
    run_last = nz[np.concatenate([change, [nz.size - 1]])]

    q_row = _row_charges(t, i, s, interval_mean=log.attrs.get("current") == "interval mean")
    q_cum = np.cumsum(q_row)
    inc, reset = _cycler_increments(log)
    inc_cum = None if inc is None else np.cumsum(inc)

    rows = []
    plate_sign = -1 if plating == "negative" else 1
    for a, b in zip(run_first, run_last, strict=True):
        if b - a + 1 < min_points:
            continue
        sign = s[a]
        # Charges are credited to the row that ends their interval, as the cyclers' own
        # counters are: the run's rows a … b hold its charge, the first row's included.
        charge = abs(q_cum[b] - q_cum[a] + q_row[a])
        cyc = np.nan if inc_cum is None else float(inc_cum[b] - inc_cum[a] + inc[a])
        resets = 0 if reset is None else int(np.count_nonzero(reset[a + 1 : b + 1]))
        rows.append({
            "kind": "plate" if sign == plate_sign else "strip",
            # A run opening after a rest started when the rest ended: the last rest row's time.
            "start_s": t[a - 1] if a > 0 and s[a - 1] == 0 else t[a],
            "end_s": t[b],
            "charge_mAh": charge,
            "cycler_charge_mAh": cyc,
            "counter_resets": resets,
            "mean_current_mA": float(np.mean(i[a : b + 1])),
            "first_row": int(a),
            "last_row": int(b),
        })  # fmt: skip
    out = pd.DataFrame(rows)
    if out.empty:
        raise NdpError("cycler log: no half cycle of at least two rows")
    # Merge neighbours of one kind left after dropping short runs.
    keep = [0]
    for k in range(1, len(out)):
        if out.kind.iloc[k] == out.kind.iloc[keep[-1]]:
            j = keep[-1]
            out.loc[j, "end_s"] = out.end_s.iloc[k]
            out.loc[j, "last_row"] = out.last_row.iloc[k]
            out.loc[j, "charge_mAh"] += out.charge_mAh.iloc[k]
            out.loc[j, "cycler_charge_mAh"] += out.cycler_charge_mAh.iloc[k]
            out.loc[j, "counter_resets"] += out.counter_resets.iloc[k] + 1
        else:
            keep.append(k)
    out = out.iloc[keep].reset_index(drop=True)
    out.insert(0, "half_cycle", np.arange(len(out)))
    out.insert(5, "integrated_mAh", out.charge_mAh.to_numpy())
    cyc = out.cycler_charge_mAh.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(out.integrated_mAh.to_numpy() / cyc - 1)
    flagged = np.isfinite(cyc) & (cyc > 0) & ~(rel <= COUNTER_TOLERANCE)
    # Counters that reset every few rows lost what ran between each step's last logged row and
    # its end: then neither number is the charge.
    rows = (out.last_row - out.first_row + 1).to_numpy()
    lost = flagged & (rows < MIN_ROWS_PER_COUNT * (out.counter_resets.to_numpy() + 1))
    used = flagged & ~lost
    out["charge_mAh"] = np.where(lost, np.nan, np.where(used, cyc, out.integrated_mAh))
    out.insert(
        7, "charge_source", np.where(lost, "unresolved", np.where(used, "counters", "current"))
    )
    out = out.drop(columns="counter_resets")
    notices = []
    for mask, what in ((used, "their charges are the cycler's counters'"),
                       (lost, "and the counters reset every few rows: the log is too sparse to give "
                              "their charge, left out (NaN)")):  # fmt: skip
        if mask.any():
            which = ", ".join(str(k) for k in np.flatnonzero(mask)[:10]) + (
                " …" if mask.sum() > 10 else ""
            )
            worst = float(np.nanmax(np.where(mask, rel, np.nan)))
            notices.append(
                f"half cycle(s) {which}: ∫I dt differs from the cycler's own counters by up to "
                f"{100 * worst:.3g} % (> {COUNTER_TOLERANCE:.0%}); {what}"
            )
    out.attrs["dead_band_mA"] = db
    out.attrs["plating"] = plating
    out.attrs["notices"] = notices
    return out


def cycles(halves: pd.DataFrame) -> pd.DataFrame:
    """Pair each plating half cycle with the stripping half cycle that follows it.

    Returns
    -------
    pandas.DataFrame
        ``cycle`` (from 1), ``charge_plated_mAh``, ``charge_stripped_mAh``,
        ``coulombic_efficiency`` (stripped/plated, 0–1; NaN where a half is missing),
        ``plate_start_s``, ``plate_end_s``, ``strip_start_s``, ``strip_end_s``.
    """
    rows = []
    current = None
    for _, h in halves.iterrows():
        if h.kind == "plate":
            if current is not None:
                rows.append(current)
            current = {"charge_plated_mAh": h.charge_mAh, "plate_start_s": h.start_s, "plate_end_s": h.end_s,
                       "charge_stripped_mAh": np.nan, "strip_start_s": np.nan, "strip_end_s": np.nan}  # fmt: skip
        else:
            if current is None or not np.isnan(current["charge_stripped_mAh"]):
                if current is not None:
                    rows.append(current)
                current = {
                    "charge_plated_mAh": np.nan,
                    "plate_start_s": np.nan,
                    "plate_end_s": np.nan,
                }
            current.update(
                charge_stripped_mAh=h.charge_mAh, strip_start_s=h.start_s, strip_end_s=h.end_s
            )
            rows.append(current)
            current = None
    if current is not None:
        rows.append(current)
    out = pd.DataFrame(rows, columns=["charge_plated_mAh", "charge_stripped_mAh", "plate_start_s",
                                      "plate_end_s", "strip_start_s", "strip_end_s"])  # fmt: skip
    out.insert(0, "cycle", np.arange(1, len(out) + 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        ce = out.charge_stripped_mAh / out.charge_plated_mAh
    out.insert(3, "coulombic_efficiency", ce)
    return out
