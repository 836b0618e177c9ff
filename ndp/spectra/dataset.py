"""The one in-memory form of spectra that every reader returns.

An ``xarray.Dataset`` with dims ``frame`` and ``channel``:

* ``counts`` (frame, channel): counts per channel, as recorded;
* coords per frame: ``start`` (datetime64, acquisition start, the instrument's clock),
  ``live_time_s``, ``real_time_s``, ``monitor`` (beam-monitor counts, NaN when absent) and
  ``source`` (the file);
* coord ``channel`` (0-based), and ``energy`` (keV) when the file carries a calibration;
* attrs: ``format``, ``calibration`` (polynomial coefficients keV = c0 + c1·ch + c2·ch², if any),
  ``units``.

Frames are ordered by acquisition start.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import xarray as xr

from ndp.errors import FileFormatError

__all__ = ["MAX_CHANNELS", "make_spectra"]

#: Most channels a spectrum may have. Multichannel analysers stop at 2^14-2^16; more is a
#: corrupt header or a stray value, refused before anything that large is allocated.
MAX_CHANNELS = 65536


def make_spectra(
    counts,
    *,
    start,
    live_time_s,
    real_time_s,
    source: str | Sequence[str],
    fmt: str,
    monitor=None,
    calibration: Sequence[float] | None = None,
    detector: str | Sequence[str] | None = None,
    label: str | None = None,
    raw: bool = False,
) -> xr.Dataset | dict:
    """Build a spectra Dataset from arrays, checking what every format must satisfy.

    Parameters
    ----------
    counts : array_like of shape (F, C) or (C,)
    start : array_like of datetime64 of shape (F,)
    live_time_s, real_time_s : array_like of shape (F,)
    source : str or sequence of str
    fmt : str
        Format name, kept in ``attrs["format"]``.
    monitor : array_like of shape (F,), optional
    calibration : sequence of float, optional
        keV = c0 + c1·channel (+ c2·channel²).
    detector : str or sequence of str, optional
    label : str, optional
        The file's own name for the measurement, kept in ``attrs["label"]``.
    raw : bool
        Return the checked arrays as a dict instead of a Dataset (for stacking many files).

    Raises
    ------
    FileFormatError
        Negative or non-finite counts, non-positive live time, live time above real time.
    """
    c = np.asarray(counts)
    if c.ndim == 1:
        c = c[None, :]
    n_frames, n_channels = c.shape
    sources = [source] * n_frames if isinstance(source, str | os.PathLike) else list(source)
    where = str(sources[0]) if sources else "spectrum"
    if n_channels == 0:
        raise FileFormatError(where, "no channels")
    if n_channels > MAX_CHANNELS:
        raise FileFormatError(where, f"{n_channels} channels; expected at most {MAX_CHANNELS}")
    if not np.issubdtype(c.dtype, np.number) or not np.all(np.isfinite(c)):
        raise FileFormatError(where, "counts must be finite numbers")
    if np.any(c < 0):
        raise FileFormatError(where, "counts must be >= 0")
    if c.dtype.kind == "f" and np.any(c > 2**53):
        # Beyond 2^53 a float no longer holds whole numbers: a corrupt value, not a count.
        raise FileFormatError(where, "counts above 2^53; expected whole numbers of events")
    live = np.broadcast_to(np.asarray(live_time_s, dtype=float), (n_frames,))
    real = np.broadcast_to(np.asarray(real_time_s, dtype=float), (n_frames,))
    if np.any(~np.isfinite(live) | (live <= 0)):
        raise FileFormatError(where, f"live time must be > 0 s, got {live[live <= 0][:1]}")
    # Instruments round both times; a live time above real time by more than that is corrupt.
    if np.any(live > real * (1 + 1e-6) + 1e-3):
        i = int(np.argmax(live > real * (1 + 1e-6) + 1e-3))
        raise FileFormatError(
            sources[i], f"live time {live[i]:g} s exceeds real time {real[i]:g} s"
        )
    mon = (
        np.full(n_frames, np.nan)
        if monitor is None
        else np.broadcast_to(np.asarray(monitor, dtype=float), (n_frames,))
    )
    start = np.asarray(start, dtype="datetime64[ns]").reshape(n_frames)
    dets = (
        [detector] * n_frames if detector is None or isinstance(detector, str) else list(detector)
    )
    if c.dtype.kind != "i" and np.all(np.mod(c, 1) == 0):
        c = c.astype(np.int64)
    if raw:
        return {"counts": c, "start": start, "live_time_s": live, "real_time_s": real,
                "monitor": mon, "source": [str(s) for s in sources], "detector": dets,
                "calibration": calibration, "fmt": fmt}  # fmt: skip
    ds = xr.Dataset(
        {"counts": (("frame", "channel"), c, {"units": "counts"})},
        coords={
            "frame": np.arange(n_frames),
            "channel": np.arange(n_channels),
            "start": ("frame", start),
            "live_time_s": ("frame", live.copy(), {"units": "s"}),
            "real_time_s": ("frame", real.copy(), {"units": "s"}),
            "monitor": ("frame", mon.copy(), {"units": "counts"}),
            "source": ("frame", np.array([str(s) for s in sources], dtype=object)),
            "detector": (
                "frame",
                np.array(["" if d is None else str(d) for d in dets], dtype=object),
            ),
        },
        attrs={"format": fmt} if label is None else {"format": fmt, "label": label},
    )
    if calibration is not None and len(calibration) >= 2 and calibration[1] != 0:
        coeffs = [float(v) for v in calibration]
        ds.attrs["calibration"] = coeffs
        ch = np.arange(n_channels, dtype=float)
        ds = ds.assign_coords(energy=("channel", np.polyval(coeffs[::-1], ch), {"units": "keV"}))
    return ds
