"""Readers: one module per file format, each ``read(path) -> xarray.Dataset`` (the spectra
Dataset of :mod:`ndp.spectra.dataset`) and ``read_frames(path) -> Frames`` (its checked arrays).

:func:`read` detects the format from the file's content (the extension only breaks ties);
:func:`read_spectra` reads many single-frame files into one Dataset ordered by acquisition
start; :func:`describe` says what a spectrum or list-mode file holds (``ndp info``, through
:func:`ndp.describe.describe`, which also knows cycler logs).

May import: :mod:`ndp.spectra.dataset`, :mod:`ndp.physics` and ndp's base; never the model,
the cycler side or the product.
"""

from __future__ import annotations

import dataclasses
import glob
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from ndp.errors import FileFormatError, NdpError, UnknownFormatError
from ndp.fileio import read_bytes
from ndp.spectra.dataset import Frames
from ndp.spectra.io import chn, lynx, mca, n42, spe, text
from ndp.spectra.io import listmode as _listmode

__all__ = ["FORMATS", "LISTMODE", "describe", "detect", "expand", "iso_time", "read", "read_spectra",
           "spool_spectra"]

#: Spectrum formats: name → (module, extensions).
FORMATS = {
    "ortec-spe": (spe, (".spe",)),
    "ortec-chn": (chn, (".chn",)),
    "amptek-mca": (mca, (".mca",)),
    "n42": (n42, (".n42", ".xml")),
    "lynx-text": (lynx, (".txt", ".dat")),
    "text": (text, (".csv", ".txt", ".dat", ".tsv")),
}
LISTMODE = ("compass-csv", "npz", "hdf5", "parquet")


def detect(path: str | os.PathLike) -> str:
    """Name of the file's format (a key of :data:`FORMATS` or a list-mode format)."""
    path = Path(path)
    head = read_bytes(path, 8192)
    for name in ("ortec-spe", "amptek-mca", "n42"):
        if FORMATS[name][0].sniff(head):
            return name
    lm = _listmode.sniff(path, head)
    if lm is not None:
        return lm
    if chn.sniff(head):
        return "ortec-chn"
    if lynx.sniff(head):
        return "lynx-text"
    if text.sniff(head):
        return "text"
    known = ", ".join([*FORMATS, *LISTMODE])
    raise UnknownFormatError(path, f"unknown file format; ndp reads {known}")


def read(path: str | os.PathLike, fmt: str | None = None, **kwargs) -> xr.Dataset:
    """Read a spectrum file of any supported format.

    Parameters
    ----------
    path : path-like
    fmt : str, optional
        Force a format instead of detecting it.
    **kwargs
        Passed to the format's reader (e.g. ``live_time_s`` for plain text).

    Returns
    -------
    xarray.Dataset
        Dims ``frame``, ``channel``; see :mod:`ndp.spectra.dataset`.
    """
    fmt = fmt or detect(path)
    if fmt in LISTMODE:
        raise FileFormatError(
            path, f"is a list-mode file ({fmt}); frame it with ndp.spectra.framing.frame_events"
        )
    if fmt not in FORMATS:
        raise NdpError(f"format: unknown {fmt!r}; expected one of {', '.join(FORMATS)}")
    return FORMATS[fmt][0].read(path, **kwargs)


def expand(patterns: str | Sequence[str], base: str | os.PathLike | None = None) -> list[Path]:
    """Paths matching globs (relative to ``base``), sorted and without duplicates.

    Raises
    ------
    NdpError
        When a pattern matches nothing.
    """
    if isinstance(patterns, str | os.PathLike):
        patterns = [patterns]
    out: list[Path] = []
    for pat in patterns:
        p = Path(pat).expanduser()
        full = p if p.is_absolute() or base is None else Path(base) / p
        hits = sorted(Path(h) for h in glob.glob(str(full)))
        if not hits:
            raise NdpError(f"{pat}: no file matches")
        out += [h for h in hits if h not in out]
    return out


def _frames_of(path, **kwargs) -> Frames:
    fmt = detect(path)
    if fmt in LISTMODE:
        raise FileFormatError(
            path, f"is a list-mode file ({fmt}); frame it with ndp.spectra.framing.frame_events"
        )
    return FORMATS[fmt][0].read_frames(path, **kwargs)


def read_spectra(
    paths: Iterable[str | os.PathLike],
    *,
    progress: Callable[[int], None] | None = None,
    **kwargs,
) -> xr.Dataset:
    """Read files (one or more frames each) into one Dataset ordered by acquisition start.

    All frames must have the same number of channels; files without a start time keep their
    order after those with one.
    """
    parts: list[Frames] = []
    for i, p in enumerate(paths):
        parts.append(_frames_of(p, **kwargs))
        if progress is not None:
            progress(i + 1)
    if not parts:
        raise NdpError("no spectrum files given")
    # One Dataset built from stacked arrays: xr.concat over a thousand files is far slower.
    out = Frames.concat(parts).to_dataset()
    order = np.argsort(out.start.values, kind="stable")
    out = out.isel(frame=order).assign_coords(frame=np.arange(out.sizes["frame"]))
    _check_distinct_starts(out)
    return out


#: Files read at a time by :func:`spool_spectra`.
SPOOL_BLOCK_FILES = 1024


def spool_spectra(paths: Sequence[str | os.PathLike], spool: str | os.PathLike, *,
                  progress: Callable[[int], None] | None = None) -> xr.Dataset:  # fmt: skip
    """:func:`read_spectra` for series too long to hold: counts go to a file, read back lazily.

    The files are read :data:`SPOOL_BLOCK_FILES` at a time and their counts appended to a
    chunked NetCDF-4 file ``spool``; the Dataset returned has the per-frame coordinates in
    memory and ``counts`` on disk, read when asked for (a block of frames at a time by the
    streaming inversion). Keep ``spool`` while the Dataset is used.

    Returns
    -------
    xarray.Dataset
        As :func:`read_spectra` returns it, but for where ``counts`` lives.
    """
    import h5netcdf  # only where a NetCDF file is written

    paths = list(paths)
    if not paths:
        raise NdpError("no spectrum files given")
    heads: list[Frames] = []
    n = 0
    with h5netcdf.File(spool, "w") as f:
        for a in range(0, len(paths), SPOOL_BLOCK_FILES):
            part = Frames.concat([_frames_of(p) for p in paths[a : a + SPOOL_BLOCK_FILES]])
            k, n_ch = part.counts.shape
            if n == 0:
                f.dimensions = {"frame": None, "channel": n_ch}
                counts = f.create_variable(
                    "counts", ("frame", "channel"), dtype=np.int64, chunks=(min(32, k), n_ch)
                )
            elif n_ch != heads[0].counts.shape[1]:
                raise FileFormatError(part.source[0], f"{n_ch} channels, but {heads[0].source[0]} "
                                      f"has {heads[0].counts.shape[1]}; all frames must have the same channel count")  # fmt: skip
            f.resize_dimension("frame", n + k)
            counts[n : n + k] = part.counts
            n += k
            # Keep the per-frame coordinates, not the counts.
            heads.append(dataclasses.replace(part, counts=np.empty((0, n_ch), part.counts.dtype)))
            if progress is not None:
                progress(min(a + SPOOL_BLOCK_FILES, len(paths)))
    cals = {tuple(h.calibration) if h.calibration is not None else None for h in heads}
    frames = Frames.concat(heads)
    frames = dataclasses.replace(frames, calibration=frames.calibration if len(cals) == 1 else None)
    # Frames in order of acquisition start, as read_spectra orders them (file names such as
    # frame-9, frame-10 sort otherwise): the counts are copied into that order on disk, a
    # block at a time, from increasing rows of the first file.
    order = np.argsort(frames.start, kind="stable")
    if np.any(order != np.arange(n)):
        spool = Path(spool)
        ordered = spool.with_name(spool.stem + "-ordered" + spool.suffix)
        with h5netcdf.File(spool, "r") as src, h5netcdf.File(ordered, "w") as dst:
            dst.dimensions = {"frame": n, "channel": src.dimensions["channel"].size}
            out_counts = dst.create_variable("counts", ("frame", "channel"), dtype=np.int64,
                                             chunks=src.variables["counts"].chunks)  # fmt: skip
            rows = src.variables["counts"]
            for a in range(0, n, SPOOL_BLOCK_FILES):
                want = order[a : a + SPOOL_BLOCK_FILES]
                have = np.sort(want)
                out_counts[a : a + want.size] = rows[have, :][np.searchsorted(have, want)]
        ordered.replace(spool)
        frames = dataclasses.replace(
            frames, start=frames.start[order], live_time_s=frames.live_time_s[order],
            real_time_s=frames.real_time_s[order], monitor=frames.monitor[order],
            source=[frames.source[i] for i in order], detector=[frames.detector[i] for i in order],
        )  # fmt: skip
    # The Dataset's layout from the coordinates alone (a zero-stride stand-in for the counts),
    # then the counts on disk in its place.
    stand_in = np.broadcast_to(np.zeros((), np.int64), (n, heads[0].counts.shape[1]))
    out = dataclasses.replace(frames, counts=stand_in).to_dataset()
    on_disk = xr.open_dataset(spool, engine="h5netcdf", cache=False)
    out["counts"] = on_disk.counts.variable.copy(deep=False)
    out["counts"].attrs["units"] = "counts"
    _check_distinct_starts(out)
    return out


def _check_distinct_starts(ds: xr.Dataset) -> None:
    """Two frames of one detector cannot start at the same instant: a file given twice, or a
    copy under another name, would count its Li twice."""
    start, det, src = ds.start.values, ds.detector.values, ds.source.values
    same = np.flatnonzero((start[1:] == start[:-1]) & ~np.isnat(start[1:]) & (det[1:] == det[:-1]))
    if same.size:
        k = int(same[0])
        raise FileFormatError(
            src[k + 1], f"starts at {np.datetime_as_string(start[k + 1], unit='s')}, as {src[k]} does; "
            "two frames of one detector cannot start together (a file given twice, or a copy?)",
        )  # fmt: skip


def describe(path: str | os.PathLike) -> dict:
    """What a spectrum or list-mode file holds: format, frames, channels, times, counts or events.

    Raises :class:`~ndp.errors.UnknownFormatError` for a file that is neither (``ndp.describe``
    then tries the cycler readers).
    """
    fmt = detect(path)
    if fmt in LISTMODE:
        n = 0
        t_lo, t_hi = np.inf, -np.inf
        dets: set[int] = set()
        ch_max = 0
        for chunk in _listmode.in_time_order(_listmode.iter_events(path, fmt, reuse=True), path):
            n += chunk.time_s.size
            if chunk.time_s.size:
                t_lo, t_hi = min(t_lo, chunk.time_s.min()), max(t_hi, chunk.time_s.max())
                dets.update(np.unique(chunk.detector).tolist())
                ch_max = max(ch_max, int(chunk.channel.max()))
        start = _listmode.listmode_start(path)
        return {
            "file": str(path), "format": fmt, "kind": "list-mode", "events": n,
            "detectors": ", ".join(str(d) for d in sorted(dets)), "highest_channel": ch_max,
            "first_event_s": float(t_lo) if n else None, "last_event_s": float(t_hi) if n else None,
            "start": iso_time(start),
        }  # fmt: skip
    ds = read(path, fmt)
    return {
        "file": str(path), "format": fmt, "kind": "spectra", "frames": ds.sizes["frame"],
        "channels": ds.sizes["channel"], "total_counts": int(ds.counts.sum()),
        "live_time_s": float(ds.live_time_s.sum()), "real_time_s": float(ds.real_time_s.sum()),
        "start": iso_time(ds.start.values[0]),
        "calibration_keV": ds.attrs.get("calibration"),
        "monitor": None if np.all(np.isnan(ds.monitor.values)) else float(np.nansum(ds.monitor.values)),
    }  # fmt: skip


def iso_time(when) -> str | None:
    """One spelling of a time for every kind of file: ISO 8601, to the microsecond at most."""
    import pandas as pd  # pandas costs ~0.3 s to import; only this path needs it

    if when is None or pd.isna(when):
        return None
    return pd.Timestamp(when).isoformat()
