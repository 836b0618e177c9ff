"""Plain text / CSV spectra: one count per line, or ``channel,counts`` (comma, semicolon, tab
or spaces), with or without a header line.

Counts alone do not say how long they were collected, and every density ndp derives is a rate.
So the times come from ``# key: value`` lines above the counts (``ndp simulate`` and
:func:`write` put them there)::

    # live_time_s: 598.25
    # real_time_s: 600
    # start: 2020-03-01T09:00:00
    # calibration: -10.0 0.75

or from the caller (``read(path, live_time_s=...)``). A file with neither is refused rather
than read as 1 s.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import xarray as xr

from ndp.errors import FileFormatError
from ndp.fileio import atomic_write
from ndp.spectra.dataset import Frames, check_frames
from ndp.spectra.io._text import check_times, read_text, to_datetime, to_float, to_int

__all__ = ["read", "read_frames", "sniff", "write"]


_KEYS = ("live_time_s", "real_time_s", "start", "calibration")


def sniff(head: bytes) -> bool:
    text = head[:4096].decode("latin-1")
    lines = [r for r in text.splitlines() if not r.lstrip().startswith("#")]
    rows = [r for r in lines[1:10] if r.strip()]
    return bool(rows) and all(re.fullmatch(r"\s*\d+([\s,;\t]+\d+)?\s*", r) for r in rows)


def read_frames(path: str | os.PathLike, *, live_time_s: float | None = None,
         real_time_s: float | None = None, start=None) -> Frames:  # fmt: skip
    """Read a one-column or two-column text spectrum: one frame.

    ``live_time_s``, ``real_time_s`` and ``start`` given here override the file's ``#`` lines.
    """
    lines = read_text(path).splitlines()
    counts: list[int] = []
    ncol = None
    head: dict[str, tuple[int, str]] = {}
    for i, line in enumerate(lines, start=1):
        s = line.strip().lstrip("\ufeff")
        if s.startswith("#"):
            key, sep, value = s[1:].partition(":")
            if sep and key.strip().lower() in _KEYS and not counts:
                head[key.strip().lower()] = (i, value.strip())
            continue
        if not s:
            continue
        parts = [p for p in re.split(r"[,;\t ]+", s) if p]
        if not counts and ncol is None and not re.fullmatch(r"[-+\d.eE]+", parts[0]):
            continue  # a header line
        if ncol is None:
            ncol = len(parts)
            if ncol not in (1, 2):
                raise FileFormatError(
                    path, f"expected 'counts' or 'channel,counts', got {len(parts)} columns", i
                )
        if len(parts) != ncol:
            raise FileFormatError(
                path, f"expected {ncol} column(s) like the first row, got {len(parts)}", i
            )
        if ncol == 2:
            ch = to_int(parts[0], path, i, "channel")
            if ch != len(counts):
                raise FileFormatError(path, f"expected channel {len(counts)}, got {ch}", i)
        c = to_int(parts[-1], path, i, f"counts of channel {len(counts)}")
        if c < 0:
            raise FileFormatError(path, f"counts of channel {len(counts)} must be >= 0, got {c}", i)
        counts.append(c)
    if not counts:
        raise FileFormatError(path, "no counts found")
    if live_time_s is None:
        if "live_time_s" not in head:
            raise FileFormatError(
                path, "no live time: plain counts do not say how long they were collected; add a "
                "'# live_time_s: 600' line above them (or give live_time_s= when reading)",
            )  # fmt: skip
        live_time_s = to_float(head["live_time_s"][1], path, head["live_time_s"][0], "live time")
    if real_time_s is None:
        real_time_s = (
            to_float(head["real_time_s"][1], path, head["real_time_s"][0], "real time")
            if "real_time_s" in head
            else live_time_s
        )
    check_times(path, live_time_s, real_time_s, head.get("live_time_s", (None,))[0])
    if start is None and "start" in head:
        start = np.datetime64(to_datetime(head["start"][1], path, head["start"][0]), "ns")
    calibration = None
    if "calibration" in head:
        line, value = head["calibration"]
        calibration = [to_float(t, path, line, "calibration coefficient") for t in value.split()]
        if len(calibration) < 2:
            raise FileFormatError(path, "calibration: expected at least two coefficients", line)
    return check_frames(
        np.array(counts), start=[np.datetime64("NaT") if start is None else start],
        live_time_s=live_time_s, real_time_s=real_time_s, source=str(path), fmt="text",
        calibration=calibration,
    )  # fmt: skip


def write(path: str | os.PathLike, ds: xr.Dataset, frame: int = 0, *, columns: int = 2) -> Path:
    """Write one frame as ``channel,counts`` CSV (or one count per line) below ``#`` lines
    holding its live and real time, start and calibration (see the module docstring)."""
    f = ds.isel(frame=frame)
    counts = f.counts.values
    head = f"# live_time_s: {float(f.live_time_s)!r}\n# real_time_s: {float(f.real_time_s)!r}\n"
    start = f.start.values
    if not np.isnat(start):
        head += f"# start: {np.datetime_as_string(start, unit='us')}\n"
    cal = ds.attrs.get("calibration")
    if cal is not None:
        head += f"# calibration: {' '.join(repr(float(c)) for c in cal)}\n"
    if columns == 2:
        body = "channel,counts\n" + "".join(f"{i},{int(c)}\n" for i, c in enumerate(counts))
    else:
        body = "".join(f"{int(c)}\n" for c in counts)
    return atomic_write(path, head + body)


def read(path: str | os.PathLike, *, live_time_s: float | None = None,
         real_time_s: float | None = None, start=None) -> xr.Dataset:
    """The file as a spectra Dataset (:mod:`ndp.spectra.dataset`); see :func:`read_frames`."""
    return read_frames(
        path, live_time_s=live_time_s, real_time_s=real_time_s, start=start
    ).to_dataset()
