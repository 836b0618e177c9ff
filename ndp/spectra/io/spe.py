"""ORTEC Maestro ASCII spectrum (``.Spe``): ``$SPEC_ID``, ``$DATE_MEA``, ``$MEAS_TIM``, ``$DATA``,
``$ENER_FIT``/``$MCA_CAL`` blocks, one value per line."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from ndp.errors import FileFormatError
from ndp.fileio import atomic_write
from ndp.spectra.dataset import Frames, check_frames
from ndp.spectra.io._text import check_times, parse_counts, read_text, to_datetime, to_float, to_int

__all__ = ["read", "read_frames", "sniff", "write"]


def sniff(head: bytes) -> bool:
    return head.lstrip().startswith(b"$SPEC_ID") or b"$DATA:" in head[:4096]


def read_frames(path: str | os.PathLike) -> Frames:
    """Read one ``.Spe`` file: one frame."""
    text = read_text(path)
    lines = text.splitlines()
    blocks: dict[str, tuple[int, list[str]]] = {}
    key = None
    for i, line in enumerate(lines, start=1):
        s = line.strip()
        if s.startswith("$"):
            key = s.rstrip(":").upper()
            blocks[key] = (i, [])
        elif key is not None:
            blocks[key][1].append(line)
    for need in ("$DATA", "$MEAS_TIM"):
        if need not in blocks:
            raise FileFormatError(path, f"no {need}: block; not an ORTEC .Spe file or truncated")
    line0, data = blocks["$DATA"]
    if not data:
        raise FileFormatError(path, "$DATA: block has no channel range line", line0)
    rng = data[0].split()
    if len(rng) != 2:
        raise FileFormatError(
            path, f"expected '$DATA:' range 'first last', got {data[0].strip()!r}", line0 + 1
        )
    first = to_int(rng[0], path, line0 + 1, "first channel")
    last = to_int(rng[1], path, line0 + 1, "last channel")
    n = last - first + 1
    values = data[1 : 1 + n]
    counts = parse_counts(values, path, line0 + 2, first)
    if len(values) < n:
        raise FileFormatError(
            path, f"$DATA: declares channels {first}..{last} ({n}) but holds {len(values)} values",
            line0 + 1 + len(values),
        )  # fmt: skip
    tline, tvals = blocks["$MEAS_TIM"]
    parts = tvals[0].split() if tvals else []
    if len(parts) != 2:
        raise FileFormatError(path, "expected '$MEAS_TIM:' followed by 'live_s real_s'", tline + 1)
    live = to_float(parts[0], path, tline + 1, "live time")
    real = to_float(parts[1], path, tline + 1, "real time")
    check_times(path, live, real, tline + 1)
    start = np.datetime64("NaT")
    if "$DATE_MEA" in blocks and blocks["$DATE_MEA"][1]:
        dline, dvals = blocks["$DATE_MEA"]
        start = np.datetime64(to_datetime(dvals[0], path, dline + 1), "ns")
    calibration = None
    if "$MCA_CAL" in blocks and len(blocks["$MCA_CAL"][1]) >= 2:
        cline, cvals = blocks["$MCA_CAL"]
        n_coef = to_int(cvals[0], path, cline + 1, "number of calibration coefficients")
        tokens = cvals[1].split()[: max(2, min(n_coef, 3))]
        calibration = [to_float(t, path, cline + 2, "calibration coefficient") for t in tokens]
    elif "$ENER_FIT" in blocks and blocks["$ENER_FIT"][1]:
        cline, cvals = blocks["$ENER_FIT"]
        calibration = [
            to_float(t, path, cline + 1, "calibration coefficient") for t in cvals[0].split()[:2]
        ]
    if first != 0:
        counts = np.concatenate([np.zeros(first, dtype=np.int64), counts])
    label = blocks.get("$SPEC_ID", (0, [""]))[1]
    return check_frames(
        counts, start=[start], live_time_s=live, real_time_s=real, source=str(path), fmt="ortec-spe",
        calibration=calibration, label=label[0].strip() if label else "",
    )  # fmt: skip


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def write(path: str | os.PathLike, ds: xr.Dataset, frame: int = 0) -> Path:
    """Write one frame of a spectra Dataset as an ORTEC ``.Spe`` file (atomically)."""
    f = ds.isel(frame=frame)
    counts = np.asarray(f.counts.values)
    start = f.start.values
    lines = ["$SPEC_ID:", str(ds.attrs.get("label", "ndp")), "$SPEC_REM:", "written by ndp"]
    if not np.isnat(start):
        stamp = start.astype("datetime64[s]").item()
        lines += ["$DATE_MEA:", stamp.strftime("%m/%d/%Y %H:%M:%S")]
    lines += ["$MEAS_TIM:", f"{_num(f.live_time_s)} {_num(f.real_time_s)}"]
    lines += ["$DATA:", f"0 {counts.size - 1}"]
    lines += [f"{int(c):8d}" for c in counts]
    cal = ds.attrs.get("calibration")
    if cal is not None:
        c = list(cal) + [0.0] * (3 - len(cal))
        lines += [
            "$ENER_FIT:",
            f"{c[0]!r} {c[1]!r}",
            "$MCA_CAL:",
            str(len(cal)),
            f"{c[0]!r} {c[1]!r} {c[2]!r} keV",
        ]
    return atomic_write(path, "\r\n".join(lines) + "\r\n")


def read(path: str | os.PathLike) -> xr.Dataset:
    """The file as a spectra Dataset (:mod:`ndp.spectra.dataset`); see :func:`read_frames`."""
    return read_frames(path).to_dataset()
