"""Delamination and dendrite indicators per frame, from Li depth profiles.

The plated Li of a frame is its Li density above the pre-cycling (host) profile: what the host's
own Li cannot account for. It is kept signed: the profiles' noise, positive and negative in turn
over tens of µm, then cancels in every sum instead of piling up as a deep, thin "deposit"; and
the deposit's measures look only within the profiles' inventory window (``li_region_um``). From
it, per frame:

* ``deposit_thickness_um``: the depth holding 90 % of the plated Li;
* ``deposit_density_rel``: plated Li over that thickness, relative to Li metal: dense deposits
  approach 1, mossy or delaminated ones fall well below;
* ``centroid_um``: the plated Li's centre, the depth holding half of it (its median depth: a
  mean would let the noise's deep negative and positive lobes pull it anywhere, even above the
  surface);
* ``penetration_mAh_cm2``: plated Li deeper than a threshold (Li growing into the electrolyte);
* ``gap_um``: the depth below the surface (the current collector's side, depth 0) where the
  plated Li first rises to half its peak: 0 for a deposit on the collector, the width of the gap
  when the deposit has come off it (delamination);
* ``plated_mAh_cm2``: the plated Li in all (in the window).

All are xarray variables on the profiles' ``time`` axis, so notebooks plot them directly.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ndp.errors import NdpError
from ndp.model.scale import is_absolute
from ndp.physics import constants as C
from ndp.physics import units as U

__all__ = ["indicators"]


def indicators(profiles: xr.Dataset, *, baseline_frames: int | slice = 1, penetration_um: float | None = None,
               fraction: float = 0.9, gap_fraction: float = 0.5, gap_min_rel: float = 0.05,
               gap_min_sigma: float = 5.0, window_um: tuple[float, float] | None = None) -> xr.Dataset:  # fmt: skip
    """Deposit indicators of every frame.

    Parameters
    ----------
    profiles : xarray.Dataset
        From :func:`ndp.model.invert.invert` (absolute scale).
    baseline_frames : int or slice
        The frames before any plating (the first ``n``, or a slice), whose mean is the host's
        own Li profile.
    penetration_um : float, optional
        Depth beyond which plated Li counts as penetration (default: half the depth range).
    fraction : float
        Share of the plated Li that defines the deposit thickness.
    gap_fraction : float
        Share of the frame's peak plated density whose first crossing below the surface is the
        gap's far side. One half puts it on the deposit's edge: a sharp edge blurred by the
        (symmetric) depth resolution crosses half its height where the edge is.
    gap_min_rel : float
        Peak plated density, relative to Li metal, below which a frame has no deposit to be
        apart from: its ``gap_um`` is NaN.
    gap_min_sigma : float
        The same when the peak is within this many standard deviations (``li_density_err`` of
        the frame and of the baseline) of the baseline: a noise bump is no deposit.
    window_um : (float, float), optional
        Depths (µm) the deposit measures (plated Li, thickness, density, centroid, gap) look
        at; default the profiles' inventory window (``attrs["li_region_um"]``), else all.
        The deepest bins of an inversion carry the Li it cannot place; a frame with little
        plated Li would otherwise find a tenth of it there. ``penetration_mAh_cm2`` looks
        at every depth.

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
    excess = c - base[None, :]
    if window_um is None:
        window_um = profiles.attrs.get("li_region_um", (edges[0], edges[-1]))
    lo, hi = (float(v) for v in np.asarray(window_um, dtype=float).ravel()[:2])
    # Share of each bin inside the window.
    inside = np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0.0, None) / np.diff(edges)
    all_content = excess * width_cm[None, :]  # atoms/cm2 per bin
    content = all_content * inside[None, :]
    total = content.sum(axis=1)
    thick = np.array([_first_reaching(row, fraction * t, edges) if t > 0 else 0.0
                      for row, t in zip(content, total, strict=True)])  # fmt: skip
    centres = profiles.depth.values
    with np.errstate(invalid="ignore", divide="ignore"):
        centroid = np.array([_first_reaching(row, 0.5 * t, edges) if t > 0 else np.nan
                             for row, t in zip(content, total, strict=True)])  # fmt: skip
        density = np.where(
            thick > 0, total * fraction / (thick * C.CM_PER_UM) / C.LI_METAL_ATOMS_CM3, np.nan
        )
    thr = penetration_um if penetration_um is not None else 0.5 * float(edges[-1])
    deep = np.clip(
        np.minimum(edges[1:], np.inf) - np.maximum(edges[:-1], thr), 0.0, None
    ) / np.diff(edges)
    penetration = (all_content * deep[None, :]).sum(axis=1)
    if "li_density_err" in profiles:
        err = np.nan_to_num(profiles.li_density_err.values)
        err_base = np.sqrt((err[sl] ** 2).mean(axis=0) / max(err[sl].shape[0], 1))
        noise = np.hypot(err, err_base[None, :])
    else:
        noise = np.zeros_like(excess)
    # The gap is measured from the surface: only the window's deep side limits its search.
    gap = _gap_um(np.where(edges[None, :-1] < hi, excess, -np.inf), centres, fraction=gap_fraction, min_cm3=gap_min_rel * C.LI_METAL_ATOMS_CM3,
                  noise_cm3=gap_min_sigma * noise)  # fmt: skip
    to_mah = 1.0 / C.LI_ATOMS_PER_MAH
    return xr.Dataset(
        {
            "plated_density": (("time", "depth"), excess, U.cf(U.PER_CM3, "Li density above the host's own (signed)")),
            "plated_mAh_cm2": ("time", total * to_mah, U.cf(U.MAH_PER_CM2, "plated Li")),
            "deposit_thickness_um": ("time", thick, U.cf(U.UM, f"depth holding {fraction:.0%} of the plated Li")),
            "deposit_density_rel": ("time", density, U.cf(U.ONE, "deposit density relative to Li metal")),
            "centroid_um": ("time", centroid, U.cf(U.UM, "depth holding half the plated Li")),
            "penetration_mAh_cm2": ("time", penetration * to_mah, U.cf(U.MAH_PER_CM2, f"plated Li deeper than {thr:g} um")),
            "gap_um": ("time", gap, U.cf(U.UM, f"depth where the plated Li first reaches {gap_fraction:.0%} of its peak")),
        },
        coords={"time": profiles.time, "depth": profiles.depth},
        attrs={"baseline": str(sl), "penetration_um": thr, "matrix": profiles.attrs.get("matrix", ""),
               "gap_fraction": gap_fraction, "gap_min_rel": gap_min_rel, "gap_min_sigma": gap_min_sigma,
               "window_um": [lo, hi]},
    )  # fmt: skip


def _first_reaching(content: np.ndarray, level: float, edges_um: np.ndarray) -> float:
    """Depth (µm) where the running sum of ``content`` (per bin) first reaches ``level`` > 0.

    Linear within the bin that crosses: its content is spread evenly over the bin.
    """
    cum = np.cumsum(content)
    i = int(np.argmax(cum >= level))
    before = cum[i - 1] if i > 0 else 0.0
    return float(edges_um[i] + (level - before) / content[i] * (edges_um[i + 1] - edges_um[i]))


def _gap_um(excess: np.ndarray, centres_um: np.ndarray, *, fraction: float, min_cm3: float,
            noise_cm3: np.ndarray) -> np.ndarray:  # fmt: skip
    """Per frame, the depth where ``excess`` (frames, depth) first reaches ``fraction`` of its peak.

    Linear between bin centres; 0 when the first bin already does (the deposit touches the
    surface); NaN when the peak is below ``min_cm3`` or below its bin's ``noise_cm3``.
    """
    out = np.full(excess.shape[0], np.nan)
    for k, row in enumerate(excess):
        if not row.size:
            continue
        j = int(np.argmax(row))
        peak = float(row[j])
        if not (peak >= min_cm3 and peak > noise_cm3[k, j]):
            continue
        level = fraction * peak
        i = int(np.argmax(row >= level))
        if i == 0:
            out[k] = 0.0
            continue
        lo, hi = row[i - 1], row[i]
        out[k] = centres_um[i - 1] + (level - lo) / (hi - lo) * (centres_um[i] - centres_um[i - 1])
    return out
