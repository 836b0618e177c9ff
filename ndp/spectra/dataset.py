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

:func:`make_spectra` builds one from arrays, checking what every format must satisfy;
:func:`check_frames` does the same checks and keeps the arrays (a :class:`Frames` record), for a
reader of many files to stack before building one Dataset; :func:`check_spectra` checks a
Dataset made elsewhere (a notebook, another program) before the model uses it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ndp.errors import FileFormatError, NdpError

__all__ = ["MAX_CHANNELS", "Frames", "check_frames", "check_spectra", "make_spectra"]

#: Most channels a spectrum may have. Multichannel analysers stop at 2^14-2^16; more is a
#: corrupt header or a stray value, refused before anything that large is allocated.
MAX_CHANNELS = 65536


@dataclass(frozen=True)
class Frames:
    """Checked arrays of frames, before they are a Dataset (see :func:`check_frames`).

    Attributes
    ----------
    counts : ndarray of shape (F, C)
    start : ndarray of datetime64[ns] of shape (F,)
    live_time_s, real_time_s, monitor : ndarray of float of shape (F,)
    source, detector : list of str, length F
    calibration : sequence of float or None
    fmt : str
    label : str or None
    """

    counts: np.ndarray
    start: np.ndarray
    live_time_s: np.ndarray
    real_time_s: np.ndarray
    monitor: np.ndarray
    source: list[str]
    detector: list[str]
    calibration: Sequence[float] | None
    fmt: str
    label: str | None = None

    @classmethod
    def concat(cls, parts: Sequence[Frames]) -> Frames:
        """Many files' frames as one record (same channel count; one calibration if all agree)."""
        first = parts[0].counts.shape[1]
        for part in parts:
            if part.counts.shape[1] != first:
                raise FileFormatError(
                    part.source[0],
                    f"{part.counts.shape[1]} channels, but {parts[0].source[0]} has {first}; "
                    "all frames must have the same channel count",
                )
        cals = [part.calibration for part in parts]
        fmts = {part.fmt for part in parts}
        return cls(
            np.concatenate([p.counts for p in parts]), np.concatenate([p.start for p in parts]),
            np.concatenate([p.live_time_s for p in parts]),
            np.concatenate([p.real_time_s for p in parts]),
            np.concatenate([p.monitor for p in parts]),
            [s for p in parts for s in p.source], [d for p in parts for d in p.detector],
            cals[0] if cals[0] is not None and all(c == cals[0] for c in cals) else None,
            fmts.pop() if len(fmts) == 1 else "mixed",
        )  # fmt: skip

    def to_dataset(self) -> xr.Dataset:
        """The spectra Dataset (the schema in this module's docstring)."""
        c, calibration = self.counts, self.calibration
        n_frames, n_channels = c.shape
        fmt, label = self.fmt, self.label
        ds = xr.Dataset(
            {"counts": (("frame", "channel"), c, {"units": "counts"})},
            coords={
                "frame": np.arange(n_frames),
                "channel": np.arange(n_channels),
                "start": ("frame", self.start),
                "live_time_s": ("frame", self.live_time_s, {"units": "s"}),
                "real_time_s": ("frame", self.real_time_s, {"units": "s"}),
                "monitor": ("frame", self.monitor, {"units": "counts"}),
                "source": ("frame", np.array(self.source, dtype=object)),
                "detector": ("frame", np.array(self.detector, dtype=object)),
            },
            attrs={"format": fmt} if label is None else {"format": fmt, "label": label},
        )
        if calibration is not None and len(calibration) >= 2 and calibration[1] != 0:
            coeffs = [float(v) for v in calibration]
            ds.attrs["calibration"] = coeffs
            ch = np.arange(n_channels, dtype=float)
            ds = ds.assign_coords(energy=("channel", np.polyval(coeffs[::-1], ch), {"units": "keV"}))
        return ds


def check_frames(
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
) -> Frames:
    """Check the arrays of one or more frames against what every format must satisfy.

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

    Returns
    -------
    Frames

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
    return Frames(c, start, live.copy(), real.copy(), mon.copy(), [str(s) for s in sources],
                  ["" if d is None else str(d) for d in dets], calibration, fmt, label)  # fmt: skip


def make_spectra(counts, **checked) -> xr.Dataset:
    """Build a spectra Dataset from arrays, checking what every format must satisfy.

    Takes :func:`check_frames`'s parameters (``start``, ``live_time_s``, ``real_time_s``,
    ``source``, ``fmt`` and the optional ones) and makes the same checks.
    """
    return check_frames(counts, **checked).to_dataset()


def check_spectra(ds: xr.Dataset, what: str = "spectra") -> xr.Dataset:
    """Check that ``ds`` is a spectra Dataset as this module describes it; return it.

    Raises
    ------
    NdpError
        Naming the first missing or wrong piece (dimension, variable, coordinate, values).
    """
    if not isinstance(ds, xr.Dataset):
        raise NdpError(f"{what}: expected an xarray.Dataset of spectra, got {type(ds).__name__}")
    if "counts" not in ds or ds.counts.dims != ("frame", "channel"):
        raise NdpError(f"{what}: expected a 'counts' variable with dims (frame, channel)")
    for name in ("start", "live_time_s", "real_time_s", "monitor", "source"):
        if name not in ds.coords or ds[name].dims != ("frame",):
            raise NdpError(f"{what}: expected a '{name}' coordinate along 'frame'")
    counts = ds.counts.values
    if not np.issubdtype(counts.dtype, np.number) or not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise NdpError(f"{what}: counts must be finite numbers >= 0")
    live = ds.live_time_s.values
    if np.any(~np.isfinite(live) | (live <= 0)):
        raise NdpError(f"{what}: live_time_s must be > 0 s in every frame")
    return ds
