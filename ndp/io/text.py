"""Plain text / CSV spectra: one count per line, or ``channel,counts`` (comma, semicolon, tab
or spaces), with or without a header line. No times in the file: live and real time must be
given (``read(path, live_time_s=..., real_time_s=...)``) or default to 1 s (rates)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import xarray as xr

from .._fileio import atomic_write
from ..errors import FileFormatError
from ._spectra import make_spectra
from ._text import read_text, to_int

__all__ = ["read", "sniff", "write"]


def sniff(head: bytes) -> bool:
    text = head[:4096].decode("latin-1")
    rows = [r for r in text.splitlines()[1:10] if r.strip()]
    return bool(rows) and all(re.fullmatch(r"\s*\d+([\s,;\t]+\d+)?\s*", r) for r in rows)


def read(path: str | os.PathLike, *, raw: bool = False, live_time_s: float = 1.0, real_time_s: float | None = None,
         start=None) -> xr.Dataset:  # fmt: skip
    """Read a one-column or two-column text spectrum: one frame."""
    lines = read_text(path).splitlines()
    counts: list[int] = []
    ncol = None
    for i, line in enumerate(lines, start=1):
        s = line.strip()
        if not s or s.startswith("#"):
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
    return make_spectra(
        np.array(counts), start=[np.datetime64("NaT") if start is None else start],
        live_time_s=live_time_s, real_time_s=live_time_s if real_time_s is None else real_time_s,
        source=str(path), fmt="text", raw=raw,
    )  # fmt: skip


def write(path: str | os.PathLike, ds: xr.Dataset, frame: int = 0, *, columns: int = 2) -> Path:
    """Write one frame as ``channel,counts`` CSV with a header (or one count per line)."""
    counts = ds.isel(frame=frame).counts.values
    if columns == 2:
        body = "channel,counts\n" + "".join(f"{i},{int(c)}\n" for i, c in enumerate(counts))
    else:
        body = "".join(f"{int(c)}\n" for c in counts)
    return atomic_write(path, body)
