"""ORTEC binary ``.Chn``: a 32-byte header (signature −1, real and live time in 20 ms ticks,
start date and time as text), 32-bit counts, and an optional 512-byte trailer (signature −101
or −102) holding the energy calibration."""

from __future__ import annotations

import datetime as dt
import os
import struct
from pathlib import Path

import numpy as np
import xarray as xr

from ndp.errors import FileFormatError
from ndp.fileio import atomic_write
from ndp.spectra.dataset import Frames, check_frames

__all__ = ["read", "read_frames", "sniff", "write"]

_HEADER = struct.Struct("<hHH2sII8s4sHH")
_TICK_S = 0.02
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def sniff(head: bytes) -> bool:
    return len(head) >= _HEADER.size and struct.unpack_from("<h", head)[0] == -1


def _start(date: bytes, time: bytes, seconds: bytes) -> np.datetime64:
    try:
        d = date.decode("ascii")
        day, mon, yy = int(d[0:2]), _MONTHS.index(d[2:5].upper()) + 1, int(d[5:7])
        year = (2000 if d[7:8] == "1" else 1900) + yy
        t = time.decode("ascii")
        stamp = dt.datetime(year, mon, day, int(t[0:2]), int(t[2:4]), int(seconds.decode("ascii")))
    except (ValueError, UnicodeDecodeError, IndexError):
        return np.datetime64("NaT")
    return np.datetime64(stamp, "ns")


def read_frames(path: str | os.PathLike) -> Frames:
    """Read one ORTEC ``.Chn`` file: one frame."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileFormatError(path, f"cannot read the file ({exc.strerror})") from None
    if len(data) < _HEADER.size:
        raise FileFormatError(
            path, f"{len(data)} bytes: too short for an ORTEC .Chn header (32 bytes)"
        )
    sig, mca, _seg, secs, real_t, live_t, date, time, offset, n = _HEADER.unpack_from(data)
    if sig != -1:
        raise FileFormatError(path, f"not an ORTEC .Chn file (first word {sig}, expected -1)")
    end = _HEADER.size + 4 * n
    if n == 0 or len(data) < end:
        raise FileFormatError(
            path, f"header declares {n} channels but the file holds {(len(data) - 32) // 4}"
        )
    counts = np.frombuffer(data, dtype="<u4", count=n, offset=_HEADER.size).astype(np.int64)
    live, real = live_t * _TICK_S, real_t * _TICK_S
    if live <= 0:
        raise FileFormatError(path, "live time is 0 s")
    if live > real:
        raise FileFormatError(path, f"live time {live:g} s exceeds real time {real:g} s")
    calibration = None
    if len(data) >= end + 16 and struct.unpack_from("<h", data, end)[0] in (-101, -102):
        zero, slope, quad = struct.unpack_from("<3f", data, end + 4)
        if slope != 0:
            calibration = [float(zero), float(slope)] + ([float(quad)] if quad else [])
    if offset:
        counts = np.concatenate([np.zeros(offset, dtype=np.int64), counts])
    return check_frames(
        counts, start=[_start(date, time, secs)], live_time_s=live, real_time_s=real,
        source=str(path), fmt="ortec-chn", calibration=calibration, detector=str(mca),
    )  # fmt: skip


def write(path: str | os.PathLike, ds: xr.Dataset, frame: int = 0) -> Path:
    """Write one frame as an ORTEC ``.Chn`` file (times rounded to 20 ms ticks)."""
    f = ds.isel(frame=frame)
    counts = np.asarray(f.counts.values)
    if counts.max(initial=0) > np.iinfo(np.uint32).max:
        raise FileFormatError(path, "counts above 2^32 cannot be stored in .Chn")
    start = f.start.values
    if np.isnat(start):
        date, time, secs = b"01JAN001", b"0000", b"00"
    else:
        s = start.astype("datetime64[s]").item()
        date = f"{s.day:02d}{_MONTHS[s.month - 1]}{s.year % 100:02d}{1 if s.year >= 2000 else 0}".encode()
        time, secs = f"{s.hour:02d}{s.minute:02d}".encode(), f"{s.second:02d}".encode()
    header = _HEADER.pack(
        -1, 1, 1, secs, round(float(f.real_time_s) / _TICK_S), round(float(f.live_time_s) / _TICK_S),
        date, time, 0, counts.size,
    )  # fmt: skip
    cal = [*ds.attrs.get("calibration", [0.0, 0.0]), 0.0, 0.0]
    trailer = struct.pack("<hh3f3f", -102 if cal[2] else -101, 0, cal[0], cal[1], cal[2], 0, 0, 0)
    trailer += bytes(512 - len(trailer))
    return atomic_write(path, header + counts.astype("<u4").tobytes() + trailer)


def read(path: str | os.PathLike) -> xr.Dataset:
    """The file as a spectra Dataset (:mod:`ndp.spectra.dataset`); see :func:`read_frames`."""
    return read_frames(path).to_dataset()
