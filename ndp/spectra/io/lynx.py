"""Canberra/Mirion Lynx text export as NIST's NDP instrument writes it.

Header lines ``Detector: …``, ``Label: …``, ``Start Time: …``, ``Live Time: …``,
``Real Time: …`` (the NIST NDP code reads them at fixed positions; this reader goes by the
keys), then ``channel counts`` lines.
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

_KEYS = {"detector": "detector", "name": "detector", "label": "label", "start time": "start",
         "live time": "live", "real time": "real", "monitor": "monitor"}  # fmt: skip


def sniff(head: bytes) -> bool:
    text = head[:2048].decode("latin-1").lower()
    has_times = "live time" in text or "real time" in text
    return has_times and not text.lstrip().startswith(("<", "$"))


def read_frames(path: str | os.PathLike) -> Frames:
    """Read one Lynx text export: one frame."""
    lines = read_text(path).splitlines()
    head: dict[str, tuple[int, str]] = {}
    channels: list[int] = []
    counts: list[int] = []
    for i, line in enumerate(lines, start=1):
        s = line.strip()
        if not s:
            continue
        m = re.match(r"^([A-Za-z][A-Za-z ]*?)\s*:\s*(.*)$", s)
        if m and not channels and m.group(1).lower() in _KEYS:
            head[_KEYS[m.group(1).lower()]] = (i, m.group(2).strip())
            continue
        parts = s.replace(",", " ").replace(";", " ").split()
        if len(parts) == 2 and re.fullmatch(r"[-+]?\d+", parts[0]):
            ch = to_int(parts[0], path, i, "channel")
            c = to_int(parts[1], path, i, f"counts of channel {ch}")
            if c < 0:
                raise FileFormatError(path, f"counts of channel {ch} must be >= 0, got {c}", i)
            if channels and ch != channels[-1] + 1:
                raise FileFormatError(path, f"expected channel {channels[-1] + 1}, got {ch}", i)
            channels.append(ch)
            counts.append(c)
        elif channels:
            raise FileFormatError(path, f"expected 'channel counts', got {s[:40]!r}", i)
    for key in ("live", "real"):
        if key not in head:
            raise FileFormatError(path, f"no '{key.capitalize()} Time:' line in the header")
    if not counts:
        raise FileFormatError(path, "no 'channel counts' lines", len(lines))
    li, lv = head["live"]
    ri, rv = head["real"]
    live = to_float(lv.split()[0], path, li, "live time")
    real = to_float(rv.split()[0], path, ri, "real time")
    check_times(path, live, real, li)
    start = np.datetime64("NaT")
    if "start" in head:
        start = np.datetime64(to_datetime(head["start"][1], path, head["start"][0]), "ns")
    monitor = None
    if "monitor" in head:
        monitor = to_float(head["monitor"][1], path, head["monitor"][0], "monitor counts")
    full = np.zeros(channels[0] + len(counts), dtype=np.int64)
    full[channels[0] :] = counts
    return check_frames(
        full, start=[start], live_time_s=live, real_time_s=real, source=str(path), fmt="lynx-text",
        monitor=monitor, detector=head.get("detector", (0, ""))[1], label=head.get("label", (0, ""))[1],
    )  # fmt: skip


def write(path: str | os.PathLike, ds: xr.Dataset, frame: int = 0) -> Path:
    """Write one frame as a Lynx text export (atomically)."""
    f = ds.isel(frame=frame)
    start = f.start.values
    lines = [
        f"Detector:   {f.detector.item() or 'Lynx'}",
        f"Label:  {ds.attrs.get('label', 'ndp')}",
        f"Start Time: {'' if np.isnat(start) else start.astype('datetime64[s]').item():%Y-%m-%d %H:%M:%S}",
        f"Live Time:  {float(f.live_time_s)!r}",
        f"Real Time:  {float(f.real_time_s)!r}",
    ]
    if np.isfinite(f.monitor.values):
        lines.append(f"Monitor:  {float(f.monitor)!r}")
    lines += ["", "Channel Counts"]
    lines += [f"{i} {int(c)}" for i, c in enumerate(f.counts.values)]
    return atomic_write(path, "\n".join(lines) + "\n")


def read(path: str | os.PathLike) -> xr.Dataset:
    """The file as a spectra Dataset (:mod:`ndp.spectra.dataset`); see :func:`read_frames`."""
    return read_frames(path).to_dataset()
