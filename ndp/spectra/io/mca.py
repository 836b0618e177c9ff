"""Amptek ``.mca`` (``<<PMCA SPECTRUM>>`` header of ``KEY - value`` lines, ``<<DATA>>`` ...
``<<END>>``, optional ``<<CALIBRATION>>`` of channel/energy pairs)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from ndp.errors import FileFormatError
from ndp.fileio import atomic_write
from ndp.spectra.dataset import Frames, check_frames
from ndp.spectra.io._text import check_times, read_text, to_datetime, to_float, to_int

__all__ = ["read", "read_frames", "sniff", "write"]


def sniff(head: bytes) -> bool:
    return head.lstrip().startswith(b"<<PMCA SPECTRUM>>")


def read_frames(path: str | os.PathLike) -> Frames:
    """Read one Amptek ``.mca`` file: one frame."""
    lines = read_text(path).splitlines()
    header: dict[str, tuple[int, str]] = {}
    section = None
    counts: list[int] = []
    cal_points: list[tuple[float, float]] = []
    data_line = None
    ended = False
    for i, line in enumerate(lines, start=1):
        s = line.strip()
        if s.startswith("<<") and s.endswith(">>"):
            section = s.upper()
            if section == "<<DATA>>":
                data_line = i
            if section == "<<END>>":
                ended = True
            continue
        if not s:
            continue
        if section == "<<PMCA SPECTRUM>>" and " - " in s:
            k, v = s.split(" - ", 1)
            header[k.strip().upper()] = (i, v.strip())
        elif section == "<<DATA>>":
            value = to_int(s, path, i, f"counts of channel {len(counts)}")
            if value < 0:
                raise FileFormatError(
                    path, f"counts of channel {len(counts)} must be >= 0, got {value}", i
                )
            counts.append(value)
        elif section == "<<CALIBRATION>>" and not s.upper().startswith("LABEL"):
            parts = s.split()
            if len(parts) >= 2:
                cal_points.append(
                    (to_float(parts[0], path, i, "channel"), to_float(parts[1], path, i, "energy"))
                )
    if data_line is None:
        raise FileFormatError(path, "no <<DATA>> section; not an Amptek .mca file or truncated")
    if not counts:
        raise FileFormatError(path, "<<DATA>> holds no counts", data_line)
    if not ended:
        raise FileFormatError(path, "no <<END>> after <<DATA>>: the file is truncated", len(lines))
    for key in ("LIVE_TIME", "REAL_TIME"):
        if key not in header:
            raise FileFormatError(path, f"no {key} line in the <<PMCA SPECTRUM>> header")
    li, lv = header["LIVE_TIME"]
    ri, rv = header["REAL_TIME"]
    live, real = to_float(lv, path, li, "live time"), to_float(rv, path, ri, "real time")
    check_times(path, live, real, li)
    start = np.datetime64("NaT")
    if "START_TIME" in header and header["START_TIME"][1]:
        si, sv = header["START_TIME"]
        start = np.datetime64(to_datetime(sv, path, si), "ns")
    calibration = None
    if len(cal_points) >= 2:
        ch, e = np.array(cal_points).T
        calibration = list(np.polyfit(ch, e, 1 if len(cal_points) == 2 else 2)[::-1])
    return check_frames(
        np.array(counts), start=[start], live_time_s=live, real_time_s=real, source=str(path),
        fmt="amptek-mca", calibration=calibration, label=header.get("TAG", (0, ""))[1],
    )  # fmt: skip


def write(path: str | os.PathLike, ds: xr.Dataset, frame: int = 0) -> Path:
    """Write one frame as an Amptek ``.mca`` file (atomically)."""
    f = ds.isel(frame=frame)
    lines = ["<<PMCA SPECTRUM>>", f"TAG - {ds.attrs.get('label', 'ndp')}", "DESCRIPTION - written by ndp",
             f"LIVE_TIME - {float(f.live_time_s)!r}", f"REAL_TIME - {float(f.real_time_s)!r}"]  # fmt: skip
    if not np.isnat(f.start.values):
        lines.append(
            f"START_TIME - {f.start.values.astype('datetime64[s]').item():%m/%d/%Y %H:%M:%S}"
        )
    cal = ds.attrs.get("calibration")
    if cal is not None and len(cal) == 2:
        n = f.channel.size - 1
        lines += ["<<CALIBRATION>>", "LABEL - keV", f"0 {cal[0]!r}", f"{n} {cal[0] + cal[1] * n!r}"]
    lines.append("<<DATA>>")
    lines += [str(int(c)) for c in f.counts.values]
    lines.append("<<END>>")
    return atomic_write(path, "\r\n".join(lines) + "\r\n")


def read(path: str | os.PathLike) -> xr.Dataset:
    """The file as a spectra Dataset (:mod:`ndp.spectra.dataset`); see :func:`read_frames`."""
    return read_frames(path).to_dataset()
