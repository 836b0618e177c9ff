"""A synthetic operando Cu|electrolyte|Li cell with known truth: cycler log and Li profiles.

Each cycle plates at constant current for a fixed time, then strips at the same current until
the active Li is gone (the cycler's voltage cut-off). Of the plating charge a fraction deposits
Li; of the deposited Li a fraction (the Li efficiency) can be stripped; the rest stays as
inactive Li. The stripping charge is the stripped Li over the fraction of stripping current that
moves Li, so the Coulombic efficiency differs from the Li efficiency as in real cells.

Depth is in the host's matrix (the electrolyte's stopping), as a fixed-matrix inversion reports
it: active Li next to the Cu (depth 0), inactive Li behind it on the electrolyte side, each a
porous Li-metal layer whose pores hold the host, and the host (with its own Li) pushed deeper.
Frames average the instantaneous profile over their duration, as real frames do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from ndp.physics import constants as C

__all__ = ["OperandoCell"]


@dataclass
class OperandoCell:
    """The cell, its cycling and its truth.

    Attributes
    ----------
    cycles : int
    current_mA_cm2 : float
        Plating and stripping current density.
    plate_h : float
        Plating time per cycle, h.
    li_efficiency : float or sequence of float
        Stripped / plated Li, per cycle.
    plating_yield : float
        Fraction of the plating charge that deposits Li (the rest reduces electrolyte).
    stripping_yield : float
        Fraction of the stripping charge that removes Li.
    active_density_rel, inactive_density_rel : float
        Li-metal volume fraction of the active deposit and of the inactive (dead) Li.
    host_li_cm3 : float
        The electrolyte's own Li density, atoms/cm³.
    rest_h : float
        Rest before the first cycle and between half cycles, h.
    log_dt_s : float
        Cycler logging interval, s.
    area_cm2 : float
    start : str
        Absolute start of cycling (ISO 8601).
    """

    cycles: int = 5
    current_mA_cm2: float = 0.05
    plate_h: float = 4.0
    li_efficiency: float | list[float] = 0.45
    plating_yield: float = 0.97
    stripping_yield: float = 0.99
    active_density_rel: float = 0.8
    inactive_density_rel: float = 0.4
    host_li_cm3: float = 8.2e20
    rest_h: float = 0.5
    log_dt_s: float = 60.0
    area_cm2: float = 1.0
    start: str = "2020-03-01T09:00:00"
    _events: list = field(default_factory=list, init=False, repr=False)

    def __post_init__(self):
        eff = np.broadcast_to(np.asarray(self.li_efficiency, float), (self.cycles,))
        i = self.current_mA_cm2 * self.area_cm2
        t = self.rest_h * C.SECONDS_PER_HOUR
        plated_total = inactive_total = 0.0
        self._truth = []
        self._events = [(0.0, 0.0, 0.0)]  # (time, active mAh, inactive mAh): piecewise linear
        for k in range(self.cycles):
            q_plate = i * self.plate_h  # mAh
            li_plated = q_plate * self.plating_yield
            t_plate_end = t + self.plate_h * C.SECONDS_PER_HOUR
            active_before = self._events[-1][1]
            self._events += [
                (t, active_before, inactive_total),
                (t_plate_end, active_before + li_plated, inactive_total),
            ]
            li_stripped = li_plated * eff[k]
            q_strip = li_stripped / self.stripping_yield
            t_strip_start = t_plate_end + self.rest_h * C.SECONDS_PER_HOUR
            t_strip_end = t_strip_start + q_strip / i * C.SECONDS_PER_HOUR
            inactive_total += li_plated - li_stripped
            self._events += [(t_strip_start, active_before + li_plated, inactive_total - (li_plated - li_stripped)),
                             (t_strip_end, 0.0, inactive_total)]  # fmt: skip
            # All of this cycle's unstrippable Li turns inactive while stripping.
            self._truth.append({
                "cycle": k + 1, "plated_mAh_cm2": li_plated / self.area_cm2,
                "stripped_mAh_cm2": li_stripped / self.area_cm2, "li_efficiency": eff[k],
                "inactive_li_mAh_cm2": (li_plated - li_stripped) / self.area_cm2,
                "charge_plated_mAh_cm2": q_plate / self.area_cm2, "charge_stripped_mAh_cm2": q_strip / self.area_cm2,
                "coulombic_efficiency": q_strip / q_plate,
                "plate_start_s": t, "plate_end_s": t_plate_end, "strip_start_s": t_strip_start, "strip_end_s": t_strip_end,
            })  # fmt: skip
            plated_total += li_plated
            t = t_strip_end + self.rest_h * C.SECONDS_PER_HOUR
        self._events.append((t, 0.0, inactive_total))
        self.end_s = t

    # -- truth ---------------------------------------------------------------------------

    @property
    def truth(self) -> pd.DataFrame:
        """Per cycle: plated, stripped, inactive Li (mAh/cm²), charges, both efficiencies."""
        return pd.DataFrame(self._truth)

    def _state(self, time_s):
        ev = np.array(self._events)
        active = np.interp(time_s, ev[:, 0], ev[:, 1])
        inactive = np.interp(time_s, ev[:, 0], ev[:, 2])
        return active, inactive

    def profile(self, time_s, depth_um) -> np.ndarray:
        """Instantaneous Li density (atoms/cm³) at ``depth_um`` (host-matrix µm), shape broadcast."""
        active, inactive = self._state(np.asarray(time_s, float))
        atoms = C.LI_ATOMS_PER_MAH / self.area_cm2  # per mAh/cm2
        metal = C.LI_METAL_ATOMS_CM3
        ta = active * atoms / (self.active_density_rel * metal) / C.CM_PER_UM  # µm
        ti = inactive * atoms / (self.inactive_density_rel * metal) / C.CM_PER_UM
        x = np.asarray(depth_um, float)
        host = self.host_li_cm3
        dens_a = self.active_density_rel * metal + (1 - self.active_density_rel) * host
        dens_i = self.inactive_density_rel * metal + (1 - self.inactive_density_rel) * host
        return np.where(x < ta, dens_a, np.where(x < ta + ti, dens_i, host))

    def frame_profiles(self, frame_s: float, depth_um: np.ndarray, n_sub: int = 20) -> xr.DataArray:
        """Frame-averaged profiles: dims (frame, depth), with frame start times in ``t_start_s``."""
        starts = np.arange(0.0, self.end_s - 1e-9, frame_s)
        sub = (np.arange(n_sub) + 0.5) / n_sub * frame_s
        times = starts[:, None] + sub[None, :]
        prof = self.profile(times[:, :, None], depth_um[None, None, :]).mean(axis=1)
        return xr.DataArray(prof, dims=("frame", "depth"), coords={"depth": depth_um, "t_start_s": ("frame", starts)},
                            attrs={"units": "atoms/cm3"})  # fmt: skip

    # -- the cycler's view -----------------------------------------------------------------

    def cycler_log(self, voltage_cutoff_V: float = 1.0) -> pd.DataFrame:
        """The log a cycler writes: time, current (plating negative on the Cu), voltage."""
        i = self.current_mA_cm2 * self.area_cm2
        edges = [0.0]
        currents = []
        for row in self._truth:
            edges += [
                row["plate_start_s"],
                row["plate_end_s"],
                row["strip_start_s"],
                row["strip_end_s"],
            ]
            currents += [0.0, -i, 0.0, i]
        edges.append(self.end_s)
        currents.append(0.0)
        rows_t, rows_i = [], []
        for a, b, cur in zip(edges[:-1], edges[1:], currents, strict=True):
            if b <= a:
                continue
            ts = np.arange(a, b, self.log_dt_s)
            ts = np.append(ts, b)  # the step's last point, at its end
            rows_t.append(ts)
            rows_i.append(np.full(ts.size, cur))
        t = np.concatenate(rows_t)
        cur = np.concatenate(rows_i)
        volt = np.where(cur < 0, -0.02, np.where(cur > 0, 0.05, 0.3))
        # Stripping ends at the voltage cut-off.
        last_strip = np.flatnonzero(np.diff(np.sign(cur), append=0) < 0)
        volt[last_strip] = voltage_cutoff_V
        df = pd.DataFrame({"time_s": t, "current_mA": cur, "voltage_V": volt})
        df.attrs.update(start=pd.Timestamp(self.start), source="synthetic", format="synthetic")
        return df
