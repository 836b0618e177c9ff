"""Delamination and dendrite indicators per frame, from Li depth profiles.

The plated Li of a frame is its Li density above the pre-cycling (host) profile: what the host's
own Li cannot account for. From it, per frame:

* ``deposit_thickness_um``: the depth holding 90 % of the plated Li;
* ``deposit_density_rel``: plated Li over that thickness, relative to Li metal: dense deposits
  approach 1, mossy or delaminated ones fall well below;
* ``centroid_um``: the plated Li's mean depth;
* ``penetration_mAh_cm2``: plated Li deeper than a threshold (Li growing into the electrolyte);
* ``plated_mAh_cm2``: the plated Li in all.

All are xarray variables on the profiles' ``time`` axis, so notebooks plot them directly.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from . import constants as C
from . import units as U
from .errors import NdpError
from .scale import is_absolute

__all__ = ["indicators"]


def indicators(profiles: xr.Dataset, *, baseline_frames: int | slice = 1, penetration_um: float | None = None,
               fraction: float = 0.9) -> xr.Dataset:  # fmt: skip
    """Deposit indicators of every frame.

    Parameters
    ----------
    profiles : xarray.Dataset
        From :func:`ndp.invert.invert` (absolute scale).
    baseline_frames : int or slice
        The frames before any plating (the first ``n``, or a slice), whose mean is the host's
        own Li profile.
    penetration_um : float, optional
        Depth beyond which plated Li counts as penetration (default: half the depth range).
    fraction : float
        Share of the plated Li that defines the deposit thickness.

    Returns
    -------
    xarray.Dataset
        Dims ``time`` (and ``depth`` for ``plated_density``).
    """
    if not is_absolute(profiles):
        raise NdpError("indicators: need profiles on an absolute scale (atoms/cm3)")
    sl = slice(0, baseline_frames) if isinstance(baseline_frames, int) else baseline_frames
    c = np.nan_to_num(profiles.li_density.values)
    base = c[sl].mean(axis=0)
    edges = profiles.depth_edges.values
    width_cm = np.diff(edges) * C.CM_PER_UM
    excess = np.clip(c - base[None, :], 0.0, None)
    content = excess * width_cm[None, :]  # atoms/cm2 per bin
    total = content.sum(axis=1)
    cum = np.cumsum(content, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = cum / total[:, None]
    thick = np.array([np.interp(fraction, np.concatenate([[0.0], s]), edges) if t > 0 else 0.0
                      for s, t in zip(share, total, strict=True)])  # fmt: skip
    centres = profiles.depth.values
    with np.errstate(invalid="ignore", divide="ignore"):
        centroid = np.where(total > 0, content @ centres / total, np.nan)
        density = np.where(
            thick > 0, total * fraction / (thick * C.CM_PER_UM) / C.LI_METAL_ATOMS_CM3, np.nan
        )
    thr = penetration_um if penetration_um is not None else 0.5 * float(edges[-1])
    deep = np.clip(
        np.minimum(edges[1:], np.inf) - np.maximum(edges[:-1], thr), 0.0, None
    ) / np.diff(edges)
    penetration = (content * deep[None, :]).sum(axis=1)
    to_mah = 1.0 / C.LI_ATOMS_PER_MAH
    return xr.Dataset(
        {
            "plated_density": (("time", "depth"), excess, U.cf(U.PER_CM3, "Li density above the host's own")),
            "plated_mAh_cm2": ("time", total * to_mah, U.cf(U.MAH_PER_CM2, "plated Li")),
            "deposit_thickness_um": ("time", thick, U.cf(U.UM, f"depth holding {fraction:.0%} of the plated Li")),
            "deposit_density_rel": ("time", density, U.cf(U.ONE, "deposit density relative to Li metal")),
            "centroid_um": ("time", centroid, U.cf(U.UM, "mean depth of the plated Li")),
            "penetration_mAh_cm2": ("time", penetration * to_mah, U.cf(U.MAH_PER_CM2, f"plated Li deeper than {thr:g} um")),
        },
        coords={"time": profiles.time, "depth": profiles.depth},
        attrs={"baseline": str(sl), "penetration_um": thr, "matrix": profiles.attrs.get("matrix", "")},
    )  # fmt: skip
