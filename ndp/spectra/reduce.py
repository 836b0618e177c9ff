"""Corrections of spectra, with Poisson variances carried through.

Pure functions: each returns a new Dataset and leaves its input (and the raw counts) untouched.
A ``variance`` variable rides along with ``counts``; raw spectra get ``variance = counts``.
Each step appends to ``attrs["history"]`` so outputs say what was done.

The *exposure* of a frame is what its counts are proportional to: its live time, or, with a beam
monitor, the monitor counts scaled to the live fraction (``monitor × live/real``), which also
follows the flux. Counting only during the live time is the dead-time correction; a blank is
scaled to a frame by the ratio of their exposures.

This module turns files into corrected spectra; it knows nothing of the depth model. It is the
one reduction path: :func:`ndp.pipeline.run` and :func:`ndp.model.invert.invert` take their dead time,
monitor weights and blank from here (the inversion fits raw counts, so it takes the blank's
expected counts per frame, :func:`blank_counts`, and the flux per frame, :func:`flux_weights`,
rather than corrected spectra).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ndp.errors import NdpError
from ndp.physics import units as U

__all__ = [
    "blank_counts",
    "dead_time_correct",
    "exposure",
    "flux_weights",
    "normalize",
    "rebin",
    "subtract_background",
    "sum_frames",
    "total_counts",
    "with_variance",
]


def _history(ds: xr.Dataset, step: str) -> list[str]:
    return [*ds.attrs.get("history", []), step]


def with_variance(ds: xr.Dataset) -> xr.Dataset:
    """The Dataset with a ``variance`` of the counts (Poisson: = counts) if it has none."""
    if "variance" in ds:
        return ds
    out = ds.copy()
    out["variance"] = ds.counts.astype(float)
    out["variance"].attrs["units"] = U.squared(U.COUNT)
    return out


def _has_monitor(ds: xr.Dataset) -> bool:
    """Every frame has beam-monitor counts (> 0)."""
    m = ds.monitor.values
    return bool(np.all(np.isfinite(m)) and np.all(m > 0))


def exposure(ds: xr.Dataset, by: str = "auto") -> xr.DataArray:
    """Per-frame exposure: live time (s), or monitor counts × live/real.

    Parameters
    ----------
    ds : xarray.Dataset
    by : {"auto", "live_time", "monitor"}
        ``auto`` uses the monitor when every frame has one.
    """
    has_monitor = _has_monitor(ds)
    if by == "auto":
        by = "monitor" if has_monitor else "live_time"
    if by == "live_time":
        e = ds.live_time_s.copy()
        e.attrs["units"] = U.SECOND
    elif by == "monitor":
        if not has_monitor:
            raise NdpError(
                "normalisation: 'monitor' asked for, but some frames have no monitor counts"
            )
        e = ds.monitor * ds.live_time_s / ds.real_time_s
        e.attrs["units"] = U.COUNT
    else:
        raise NdpError(f"normalisation: expected 'auto', 'live_time' or 'monitor', got {by!r}")
    e.attrs["by"] = by
    return e


def dead_time_correct(ds: xr.Dataset) -> xr.Dataset:
    """Scale counts by real/live time: the counts a dead-time-free system would have recorded.

    Variances scale by (real/live)². The live time is set to the real time afterwards, so the
    exposure stays consistent.
    """
    ds = with_variance(ds)
    factor = ds.real_time_s / ds.live_time_s
    out = ds.copy()
    out["counts"] = ds.counts * factor
    out["variance"] = ds.variance * factor**2
    out["counts"].attrs = dict(ds.counts.attrs)
    out = out.assign_coords(live_time_s=ds.real_time_s.copy())
    out.attrs["history"] = _history(ds, "dead time: counts × real/live")
    return out


def normalize(ds: xr.Dataset, by: str = "auto") -> xr.Dataset:
    """Counts per unit exposure (per live second, or per monitor count)."""
    ds = with_variance(ds)
    e = exposure(ds, by)
    out = ds.copy()
    out["counts"] = ds.counts / e
    out["variance"] = ds.variance / e**2
    # Per live second, or per monitor count (a ratio of counts).
    out["counts"].attrs = {"units": U.COUNT_PER_SECOND if e.attrs["by"] == "live_time" else U.ONE}
    out.attrs["history"] = _history(ds, f"normalised by {e.attrs['by']}")
    out.attrs["normalised_by"] = e.attrs["by"]
    return out


def _check_compatible(a: xr.Dataset, b: xr.Dataset, what: str) -> None:
    if a.sizes["channel"] != b.sizes["channel"]:
        raise NdpError(
            f"{what}: {b.sizes['channel']} channels, but the spectra have {a.sizes['channel']}"
        )
    ca, cb = a.attrs.get("calibration"), b.attrs.get("calibration")
    if ca is not None and cb is not None and not np.allclose(ca, cb, rtol=1e-6, atol=1e-9):
        raise NdpError(f"{what}: its calibration {cb} differs from the spectra's {ca}")


def blank_counts(ds: xr.Dataset, blank: xr.Dataset, by: str = "auto") -> xr.Dataset:
    """The counts a beam-on blank contributes to each frame of ``ds``, with their variance.

    The blank's frames are summed; frame i gets ``blank × exposure_i / exposure_blank``
    (variance × the square of that ratio).

    Parameters
    ----------
    ds : xarray.Dataset
        Raw (not normalised) spectra, dims (frame, channel).
    blank : xarray.Dataset
        Raw blank spectra with the same channels (and calibration, if both have one).
    by : {"auto", "live_time", "monitor"}
        ``auto`` scales by the monitor when both the spectra and the blank have one in every
        frame, by the live time otherwise.

    Returns
    -------
    xarray.Dataset
        ``counts`` and ``variance`` of shape (frame, channel), ``attrs["by"]``.

    Raises
    ------
    NdpError
        Different channel counts or calibrations (a blank from another setting), or normalised
        spectra.
    """
    if "normalised_by" in ds.attrs or "normalised_by" in blank.attrs:
        raise NdpError("background: subtract the blank from counts, before normalising")
    _check_compatible(ds, blank, "background")
    if by == "auto":
        by = "monitor" if _has_monitor(ds) and _has_monitor(blank) else "live_time"
    b = sum_frames(with_variance(blank))
    ratio = exposure(ds, by) / float(exposure(b, by).values[0])
    units = dict(ds.counts.attrs)
    out = xr.Dataset(
        {
            "counts": ratio * b.counts.isel(frame=0, drop=True),
            "variance": ratio**2 * b.variance.isel(frame=0, drop=True),
        }
    )
    out["counts"].attrs = units
    out["variance"].attrs = dict(b.variance.attrs)
    out.attrs["by"] = by
    return out


def subtract_background(ds: xr.Dataset, blank: xr.Dataset, by: str = "auto") -> xr.Dataset:
    """Subtract a beam-on blank scaled to each frame's exposure (:func:`blank_counts`).

    Parameters
    ----------
    ds : xarray.Dataset
        Raw (not normalised) spectra.
    blank : xarray.Dataset
        Raw blank spectra with the same channels (and calibration, if both have one).
    by : {"auto", "live_time", "monitor"}
        ``auto`` uses monitors only when both the spectra and the blank have them.
    """
    b = blank_counts(ds, blank, by)
    ds = with_variance(ds)
    out = ds.copy()
    out["counts"] = ds.counts - b.counts
    out["variance"] = ds.variance + b.variance
    out["counts"].attrs = dict(ds.counts.attrs)
    out.attrs["history"] = _history(ds, f"blank subtracted, scaled by {b.attrs['by']}")
    return out


def flux_weights(ds: xr.Dataset) -> np.ndarray | None:
    """Each frame's beam flux relative to the run's mean, from the beam monitor.

    The monitor rate (monitor exposure per live second, ``monitor / real``) over its mean, so a
    drifting beam does not read as a changing Li inventory; the absolute flux stays the one the
    scale states. None unless every frame has monitor counts.

    Returns
    -------
    ndarray of shape (frames,) or None
    """
    if not _has_monitor(ds):
        return None
    rate = (exposure(ds, "monitor") / exposure(ds, "live_time")).values
    return rate / rate.mean()


#: Frames summed at a time by :func:`total_counts`: a lazily opened series is read this much
#: at once (1024 frames × 4096 channels of int64 is 32 MB).
SUM_BLOCK_FRAMES = 1024


def total_counts(ds: xr.Dataset) -> np.ndarray:
    """Counts summed over every frame, shape (channels,), float64.

    Reads ``ds.counts`` :data:`SUM_BLOCK_FRAMES` frames at a time, so a series opened lazily
    from disk is never loaded whole.
    """
    n = ds.sizes["frame"]
    total = np.zeros(ds.sizes["channel"])
    for a in range(0, n, SUM_BLOCK_FRAMES):
        total += np.asarray(ds.counts[a : a + SUM_BLOCK_FRAMES].values, dtype=float).sum(axis=0)
    return total


def sum_frames(ds: xr.Dataset, groups=None) -> xr.Dataset:
    """Sum frames: all of them, or each group of frame indices.

    Live and real times, monitors, counts and variances add; a group's start is its earliest.

    Parameters
    ----------
    groups : sequence of sequences of int, or int, optional
        Frame indices per output frame; an int ``n`` sums every ``n`` consecutive frames.
    """
    ds = with_variance(ds)
    n = ds.sizes["frame"]
    if groups is None:
        groups = [np.arange(n)]
    elif isinstance(groups, int | np.integer):
        if groups < 1:
            raise NdpError(f"sum_frames: group size must be >= 1, got {groups}")
        groups = [np.arange(i, min(i + groups, n)) for i in range(0, n, int(groups))]
    parts = []
    for g in groups:
        g = np.asarray(g, dtype=int)
        if g.size == 0 or g.min() < 0 or g.max() >= n:
            raise NdpError(f"sum_frames: frame indices must be within 0..{n - 1}")
        sub = ds.isel(frame=g)
        parts.append({
            "counts": sub.counts.values.sum(axis=0), "variance": sub.variance.values.sum(axis=0),
            "live": sub.live_time_s.values.sum(), "real": sub.real_time_s.values.sum(),
            "monitor": sub.monitor.values.sum(), "start": sub.start.values.min(),
            "source": ";".join(dict.fromkeys(str(s) for s in sub.source.values)),
            "detector": ";".join(dict.fromkeys(str(s) for s in sub.detector.values)),
        })  # fmt: skip
    m = len(parts)
    out = xr.Dataset(
        {
            "counts": (
                ("frame", "channel"),
                np.stack([p["counts"] for p in parts]),
                dict(ds.counts.attrs),
            ),
            "variance": (
                ("frame", "channel"),
                np.stack([p["variance"] for p in parts]),
                dict(ds.variance.attrs),
            ),
        },
        coords={
            "frame": np.arange(m),
            "channel": ds.channel,
            "start": ("frame", np.array([p["start"] for p in parts], dtype="datetime64[ns]")),
            "live_time_s": ("frame", [p["live"] for p in parts], {"units": "s"}),
            "real_time_s": ("frame", [p["real"] for p in parts], {"units": "s"}),
            "monitor": ("frame", [p["monitor"] for p in parts], {"units": "counts"}),
            "source": ("frame", np.array([p["source"] for p in parts], dtype=object)),
            "detector": ("frame", np.array([p["detector"] for p in parts], dtype=object)),
        },
        attrs=dict(ds.attrs),
    )
    if "energy" in ds.coords:
        out = out.assign_coords(energy=ds.energy)
    out.attrs["history"] = _history(ds, f"summed {n} frames into {m}")
    return out


def rebin(ds: xr.Dataset, factor: int) -> xr.Dataset:
    """Sum every ``factor`` adjacent channels (a remainder at the top is dropped)."""
    if not isinstance(factor, int | np.integer) or factor < 1:
        raise NdpError(f"rebin: factor must be a whole number >= 1, got {factor!r}")
    ds = with_variance(ds)
    n = ds.sizes["channel"] // factor
    if n == 0:
        raise NdpError(f"rebin: factor {factor} exceeds the {ds.sizes['channel']} channels")
    keep = ds.isel(channel=slice(0, n * factor))
    out = keep.coarsen(channel=factor).sum()
    out = out.assign_coords(channel=np.arange(n))
    if "energy" in ds.coords:
        e = keep.energy.values.reshape(n, factor).mean(axis=1)
        out = out.assign_coords(energy=("channel", e, {"units": "keV"}))
    cal = ds.attrs.get("calibration")
    if cal is not None:
        # Bin j spans raw channels j·f … j·f + f − 1; its centre is j·f + (f − 1)/2.
        c = np.polynomial.polynomial.Polynomial(cal)
        new = c(np.polynomial.polynomial.Polynomial([(factor - 1) / 2, factor]))
        out.attrs["calibration"] = [float(v) for v in new.coef]
    out.attrs["history"] = _history(ds, f"rebinned by {factor}")
    return out
