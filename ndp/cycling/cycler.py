"""Cycler logs into one canonical table.

:func:`read_cycler` returns a pandas DataFrame with

* ``time_s`` (s from the log's start), ``current_mA``, ``voltage_V``;
* when the cycler writes them: ``cycle``, ``step`` and its capacity counters, as
  ``capacity_mAh`` or ``charge_capacity_mAh`` / ``discharge_capacity_mAh`` (as the cycler counts
  them: they may reset per step, half cycle or cycle);
* ``attrs``: ``start`` (absolute start, pandas Timestamp or None), ``source``, ``format``.

Units are converted from the headers (A → mA, Ah → mAh, h → s). Text formats are read here:
BioLogic ``.mpt``, Neware flat and three-level CSV, Arbin CSV and ``.xlsx``, Maccor text, LAND
``.xlsx`` and any CSV with a column mapping. Binary formats use well-kept readers when installed
(``pip install "ndp[cycler]"``): NewareNDA for Neware ``.nda``/``.ndax`` and galvani (GPL-3) for
BioLogic ``.mpr``.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ndp.errors import FileFormatError, UnknownFormatError
from ndp.fileio import atomic_write
from ndp.optional import require

__all__ = ["CYCLER_FORMATS", "detect_cycler", "read_cycler"]

CYCLER_FORMATS = ("biologic-mpt", "biologic-mpr", "neware-csv", "neware-3level-csv", "neware-nda",
                  "arbin-csv", "arbin-xlsx", "maccor-txt", "land-xlsx", "csv")  # fmt: skip

# Canonical column → header aliases (compared lower-case, without spaces, units stripped).
_ALIASES = {
    "time_s": ["time", "test_time", "testtime", "total time", "totaltime", "cumulative time",
               "cumulativetime", "time/s", "record time"],
    "current_mA": ["current", "i", "<i>", "amps", "current/ma", "i/ma", "<i>/ma"],
    "voltage_V": ["voltage", "ewe", "<ewe>", "volts", "ecell", "v", "voltage/v"],
    "cycle": ["cycle", "cycle_index", "cycle index", "cyc#", "cycle number", "cycle_number"],
    "step": ["step", "step_index", "step index", "step#"],
    "charge_capacity_mAh": ["charge_capacity", "chg. cap.", "chg.cap.", "q charge", "charge capacity",
                            "specificcapacity(charge)"],
    "discharge_capacity_mAh": ["discharge_capacity", "dchg. cap.", "dchg.cap.", "q discharge",
                               "discharge capacity"],
    "capacity_mAh": ["capacity", "amp-hr", "q charge/discharge", "cap"],
    "timestamp": ["date", "datetime", "date_time", "dpt time", "systime", "timestamp", "absolute time",
                  "realtime"],
}  # fmt: skip


#: ndp's canonical column names and the unit each carries.
_CANONICAL = {"time_s": "s", "current_mA": "ma", "voltage_V": "v", "capacity_mAh": "mah",
              "charge_capacity_mAh": "mah", "discharge_capacity_mAh": "mah", "cycle": "", "step": ""}  # fmt: skip

#: Largest current a cycler log may hold, mA: no laboratory cell carries a kiloampere.
MAX_CURRENT_MA = 1e6


def _split_unit(header: str) -> tuple[str, str]:
    """'Current(A)' → ('current', 'a'); 'I/mA' → ('i', 'ma'); 'Voltage' → ('voltage', '')."""
    h = header.strip()
    m = re.match(r"^(.*?)\s*\(([^()]*)\)\s*$", h)
    if m:
        return m.group(1).strip().lower(), m.group(2).strip().lower()
    if "/" in h and not h.lower().startswith(("q charge/discharge", "q charge/")):
        name, _, unit = h.rpartition("/")
        if name and unit and len(unit) <= 6:
            return name.strip().lower(), unit.strip().lower()
    m = re.match(r"^(q charge/discharge|q charge|q discharge)/(.*)$", h, re.IGNORECASE)
    if m:
        return m.group(1).lower(), m.group(2).lower()
    return h.lower(), ""


_SCALE = {
    "current_mA": {
        "a": 1e3,
        "ma": 1.0,
        "µa": 1e-3,
        "ua": 1e-3,
        "\u03bca": 1e-3,  # Greek mu, beside the micro sign above
        "na": 1e-6,
        "": None,
    },
    "voltage_V": {"v": 1.0, "mv": 1e-3, "": 1.0},
    "capacity": {
        "ah": 1e3,
        "a.h": 1e3,
        "mah": 1.0,
        "ma.h": 1.0,
        "µah": 1e-3,
        "µa.h": 1e-3,
        "": None,
    },
    "time_s": {"s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0, "hr": 3600.0, "ms": 1e-3, "": 1.0},
}


def _to_seconds(values: pd.Series) -> np.ndarray:
    """Numbers, or durations like '00:01:00', '1:02:03.5', '0d 00:00:5', '1-02:03:04'."""
    num = pd.to_numeric(values, errors="coerce")
    if num.notna().all() or pd.api.types.is_numeric_dtype(values):
        # Numbers, perhaps with gaps (NaN): the gaps are dropped rows, not durations.
        return num.to_numpy(dtype=float)
    s = values.astype(str).str.strip()
    m = s.str.extract(r"^(?:(\d+)\s*d\s*|(\d+)-)?(\d+):(\d+):(\d+(?:[.,]\d*)?)$")
    days = pd.to_numeric(m[0].fillna(m[1]).fillna("0"), errors="coerce")
    h, mi = pd.to_numeric(m[2], errors="coerce"), pd.to_numeric(m[3], errors="coerce")
    sec = pd.to_numeric(m[4].str.replace(",", ".", regex=False), errors="coerce")
    out = ((days * 24 + h) * 60 + mi) * 60 + sec
    return out.to_numpy(dtype=float)


def _find_columns(path, names: list, columns: Mapping[str, str] | None) -> dict[str, tuple]:
    """Canonical name → (the table's column, its unit), given ones first, then by alias."""
    found: dict[str, tuple[str, str]] = {}
    given = dict(columns or {})
    for canon, header in given.items():
        if header not in names:
            raise FileFormatError(
                path,
                f"column mapping: no column {header!r} (has {', '.join(map(str, names))})",
            )
        found[canon] = (header, _split_unit(str(header))[1])
    for col in names:
        if str(col) in _CANONICAL and str(col) not in found:
            # ndp's own column names (ndp writes them; users copy them): their unit is in the name.
            found[str(col)] = (col, _CANONICAL[str(col)])
            continue
        name, unit = _split_unit(str(col))
        key = re.sub(r"\s+", " ", name)
        for canon, aliases in _ALIASES.items():
            if canon in found:
                continue
            if key in aliases or key.replace(" ", "") in aliases or f"{key}/{unit}" in aliases:
                found[canon] = (col, unit)
                break
    return found


def normalize(df: pd.DataFrame, path, fmt: str, *, columns: Mapping[str, str] | None = None,
              start=None, current_units: str | None = None) -> pd.DataFrame:  # fmt: skip
    """Map a cycler table's columns to the canonical ones, converting units from the headers.

    ``columns`` maps canonical names (``time_s``, ``current_mA``, ``voltage_V``, ``cycle``,
    ``step``, ``capacity_mAh``, ``charge_capacity_mAh``, ``discharge_capacity_mAh``,
    ``timestamp``) to the file's headers, for files whose headers ndp does not recognise.
    """
    found = _find_columns(path, list(df.columns), columns)
    if "current_mA" not in found:
        raise FileFormatError(
            path,
            f"no current column (looked for Current(A), I/mA, <I>/mA, Amps, …; the file has {', '.join(map(str, df.columns[:12]))})",
        )
    out = pd.DataFrame(index=df.index)
    col, unit = found["current_mA"]
    unit = current_units or unit
    factor = _SCALE["current_mA"].get(unit.replace(" ", ""))
    if factor is None:
        # No unit in the header: cyclers writing "Current" or "Amps" bare mean amperes.
        factor = 1e3
    out["current_mA"] = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float) * factor
    if "time_s" in found:
        col, unit = found["time_s"]
        out["time_s"] = _to_seconds(df[col]) * _SCALE["time_s"].get(unit, 1.0)
    stamps = None
    if "timestamp" in found:
        col, _ = found["timestamp"]
        raw = df[col]
        if pd.api.types.is_numeric_dtype(raw):
            stamps = pd.to_datetime(raw, unit="s", errors="coerce")
        else:
            stamps = pd.to_datetime(raw, errors="coerce", format="mixed")
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert(None)
        if "time_s" not in out and stamps.notna().all():
            out["time_s"] = (stamps - stamps.iloc[0]).dt.total_seconds().to_numpy()
    if "time_s" not in out:
        raise FileFormatError(path, "no time column (test time, or a date/time per row)")
    if "voltage_V" in found:
        col, unit = found["voltage_V"]
        out["voltage_V"] = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float) * _SCALE[
            "voltage_V"
        ].get(unit, 1.0)
    for canon in ("cycle", "step"):
        if canon in found:
            out[canon] = pd.to_numeric(df[found[canon][0]], errors="coerce")
    for canon in ("capacity_mAh", "charge_capacity_mAh", "discharge_capacity_mAh"):
        if canon in found:
            col, unit = found[canon]
            f = _SCALE["capacity"].get(unit.replace(" ", ""))
            out[canon] = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float) * (
                1e3 if f is None else f
            )
    bad = ~np.isfinite(out["time_s"].to_numpy()) | ~np.isfinite(out["current_mA"].to_numpy())
    if bad.all():
        raise FileFormatError(path, "no row has a readable time and current")
    huge = np.flatnonzero(np.abs(np.nan_to_num(out["current_mA"].to_numpy())) > MAX_CURRENT_MA)
    if huge.size:
        k = int(huge[0])
        raise FileFormatError(
            path, f"data row {k + 1}: current {out['current_mA'].iloc[k]:g} mA; expected at most "
            f"{MAX_CURRENT_MA:g} mA in magnitude (a corrupt value, or the wrong unit in the header)",
        )  # fmt: skip
    times = out["time_s"].to_numpy()
    if np.any(np.abs(times[np.isfinite(times)]) > 1e10):
        raise FileFormatError(
            path, "times beyond 1e10 s (300 years); expected seconds from the log's start"
        )
    out = out[~bad].reset_index(drop=True)
    if start is None and stamps is not None:
        first = stamps[~bad].iloc[0] if (~bad).any() else None
        start = first if first is not None and not pd.isna(first) else None
        if start is not None:
            start = start - pd.Timedelta(seconds=float(out["time_s"].iloc[0]))
    out = _stitch(out, path, stamps[~bad].reset_index(drop=True) if stamps is not None else None)
    out.attrs.update(
        start=None if start is None else pd.Timestamp(start),
        source=str(path),
        format=fmt,
        dropped_rows=int(bad.sum()),
    )
    return out


def _stitch(df: pd.DataFrame, path, stamps) -> pd.DataFrame:
    """Time must not go backwards; concatenated logs are stitched by their absolute stamps."""
    t = df["time_s"].to_numpy()
    back = np.flatnonzero(np.diff(t) < 0)
    if back.size == 0:
        return df
    if (
        stamps is not None
        and stamps.notna().all()
        and np.all(np.diff(stamps.to_numpy().astype("int64")) >= 0)
    ):
        df = df.copy()
        df["time_s"] = (stamps - stamps.iloc[0]).dt.total_seconds().to_numpy() + t[0]
        return df
    i = int(back[0]) + 1
    raise FileFormatError(
        path, f"time goes backwards at row {i + 1} ({t[i]:g} s after {t[i - 1]:g} s) and the rows carry no "
        "absolute time to stitch them by; split the log into its runs",
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Formats


def _check_last_row(path, text: str, sep: str) -> None:
    """A file that ends mid-row (copied while the cycler was writing it) says so."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 3 or text.endswith(("\n", "\r")):
        return
    want, have = lines[-2].count(sep), lines[-1].count(sep)
    if have < want:
        raise FileFormatError(
            path, f"the last row has {have + 1} of {want + 1} fields and no line end: the file ends "
            "mid-row (copied while being written?); re-export it or delete that row", len(text.splitlines()),
        )  # fmt: skip


#: Characters str.splitlines breaks lines at besides CR and LF (the reference reader splits the
#: text that way; pandas does not), and the quote, which lets a field span lines: a file holding
#: any of them is read by the reference reader.
_MPT_ODD = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", '"')

#: Column name given to the empty field after a row's trailing tab (EC-Lab ends rows with one).
_MPT_TRAIL = "\x00ndp:trailing-tab"


def _mpt_header(path: Path, lines: list[str]) -> tuple[int, object]:
    """The number of header lines and the acquisition start (or None) of an .mpt file's lines."""
    if not lines or "ASCII FILE" not in lines[0].upper():
        raise FileFormatError(
            path, "not an EC-Lab ASCII file (first line should read 'EC-Lab ASCII FILE')", 1
        )
    m = re.match(r"\s*Nb header lines\s*:\s*(\d+)", lines[1]) if len(lines) > 1 else None
    if not m:
        raise FileFormatError(path, "expected 'Nb header lines : N'", 2)
    n = int(m.group(1))
    start = None
    for ln in lines[:n]:
        mm = re.match(r"\s*Acquisition started on\s*:\s*(.+?)\s*$", ln)
        if mm:
            for f in (
                "%m/%d/%Y %H:%M:%S.%f",
                "%m/%d/%Y %H:%M:%S",
                "%d/%m/%Y %H:%M:%S.%f",
                "%Y-%m-%d %H:%M:%S.%f",
            ):
                try:
                    start = pd.to_datetime(mm.group(1), format=f)
                    break
                except ValueError:
                    continue
    return n, start


def _mpt_columns(names) -> dict[str, str]:
    """Canonical name → the EC-Lab column holding it, by EC-Lab's own spellings."""
    cols = {}
    for want, options in (
        ("current_mA", ["I/mA", "<I>/mA", "control/mA"]),
        ("voltage_V", ["Ewe/V", "<Ewe>/V", "Ecell/V"]),
    ):
        for o in options:
            if o in names:
                cols[want] = o
                break
    if "time/s" in names:
        cols["time_s"] = "time/s"
    if "cycle number" in names:
        cols["cycle"] = "cycle number"
    for a, b in (
        ("charge_capacity_mAh", "Q charge/mA.h"),
        ("discharge_capacity_mAh", "Q discharge/mA.h"),
    ):
        if b in names:
            cols[a] = b
    return cols


def _mpt_needs_dq(cols: Mapping[str, str], names) -> bool:
    """No current column: the current comes from the charge increments dq and the times."""
    return "current_mA" not in cols and "dq/mA.h" in names and "time/s" in names


def _mpt_finish(df: pd.DataFrame, path: Path, start) -> pd.DataFrame:
    cols = _mpt_columns(df.columns)
    if _mpt_needs_dq(cols, df.columns):
        df["I/mA"] = _current_from_dq(df["time/s"].to_numpy(float), df["dq/mA.h"].to_numpy(float))
        cols["current_mA"] = "I/mA"
    out = normalize(df, path, "biologic-mpt", columns=cols, start=start)
    # EC-Lab's I and <I> are means over the interval ending at each row (dq = <I>·dt).
    out.attrs["current"] = "interval mean"
    return out


class _Latin1Chunks:
    """The text of a binary file from its current position, decoded chunk by chunk for pandas,
    noting whether any chunk holds one of :data:`_MPT_ODD`."""

    def __init__(self, fh):
        self._fh = fh
        self.odd = False

    def read(self, size: int = -1) -> str:
        text = self._fh.read(size).decode("latin-1")
        # Single-character `in` is a memchr-speed scan: a few ms per 100 MB.
        self.odd = self.odd or any(c in text for c in _MPT_ODD)
        return text

    def __iter__(self):  # pandas takes an object with read and __iter__ for a file
        return iter(self.read, "")


def _read_mpt_fast(path: Path) -> pd.DataFrame | None:
    """An .mpt file read straight by pandas: only the columns ndp uses, decimal commas parsed
    in place, without holding the file's text. None when the file has anything the reference
    reader (:func:`_read_mpt_reference`) treats otherwise; that reader then reads it."""
    with open(path, "rb") as fh:
        raw = b""
        size = 1 << 16
        while True:
            more = fh.read(size)
            raw += more
            eof = len(more) < size
            text = raw.decode("latin-1")
            lines = text.splitlines()
            m = re.match(r"\s*Nb header lines\s*:\s*(\d+)", lines[1]) if len(lines) > 2 else None
            # Header lines and the first data row, all complete: a line is complete once
            # another one follows it.
            if eof or (m and len(lines) >= int(m.group(1)) + 2) or (len(lines) > 2 and not m):
                break
            size *= 2
        n, start = _mpt_header(path, lines)
        if n < 2 or len(lines) <= n:
            return None  # no column names or no data rows: the reference reader says so
        first = lines[n]
        if "." in first:
            decimal = "."
        elif "," in first:
            decimal = ","  # the reference reader's rule: commas are decimals (German locale)
        else:
            return None  # no separator on the first row: the rule needs the whole text
        header = lines[n - 1].rstrip("\t").split("\t")
        if _MPT_TRAIL in header or len(set(header)) < len(header):
            return None
        # Only the columns normalize() would take, found as it finds them.
        cols = _mpt_columns(header)
        dq = _mpt_needs_dq(cols, header)
        if dq:
            cols["current_mA"] = "I/mA"
        found = _find_columns(path, header + (["I/mA"] if dq else []), cols)
        used = {col for col, _ in found.values()} | ({"time/s", "dq/mA.h"} if dq else set())
        fh.seek(sum(map(len, text.splitlines(keepends=True)[:n])))
        chunks = _Latin1Chunks(fh)
        # pandas sizes the table by the first row, so the trailing tab's empty field gets a
        # name when that row has one. With usecols, a later row's extra fields are ignored
        # (the reference reader refused a row with a value after the last column).
        trail = [_MPT_TRAIL] if first.endswith("\t") else []
        try:
            df = pd.read_csv(chunks, sep="\t", header=None, names=header + trail,
                             usecols=[c for c in header if c in used] + trail,
                             decimal=decimal, engine="c")  # fmt: skip
        except (pd.errors.ParserError, ValueError):
            return None
    if (
        chunks.odd
        or (trail and df.pop(_MPT_TRAIL).notna().any())
        or not isinstance(df.index, pd.RangeIndex)
        or not all(pd.api.types.is_numeric_dtype(dt) for dt in df.dtypes)
        or df.isna().all(axis=1).any()
    ):
        # A field after the columns, a text value, a blank row of tabs: the reference reader
        # (which strips trailing tabs and replaces commas) decides what they mean.
        return None
    return _mpt_finish(df, path, start)


def _read_mpt(path: Path, *, fast: bool = True) -> pd.DataFrame:
    """An EC-Lab ASCII export; ``fast=False`` forces the reference reader (tests compare)."""
    out = _read_mpt_fast(path) if fast else None
    return out if out is not None else _read_mpt_reference(path)


def _read_mpt_reference(path: Path) -> pd.DataFrame:
    """The whole text in memory, trailing tabs stripped and decimal commas replaced: slow and
    memory-hungry (≈6 GB for 10⁶ rows), but it reads whatever the fast reader declines."""
    raw = path.read_bytes()
    text = raw.decode("latin-1")
    lines = text.splitlines()
    n, start = _mpt_header(path, lines)
    if n > len(lines):
        raise FileFormatError(
            path, f"declares {n} header lines but has {len(lines)} lines", len(lines)
        )
    header = lines[n - 1].rstrip("\t").split("\t")
    body = "\n".join(ln.rstrip("\t") for ln in lines[n:])
    if "," in body and "." not in body.split("\n", 1)[0]:
        body = body.replace(",", ".")  # decimal commas
    try:
        df = pd.read_csv(io.StringIO(body), sep="\t", header=None, names=header, engine="c")
    except (pd.errors.ParserError, ValueError) as exc:
        raise FileFormatError(
            path,
            f"data rows do not match the {len(header)} columns ({str(exc).splitlines()[0]})",
            n + 1,
        ) from None
    return _mpt_finish(df, path, start)


def _current_from_dq(t: np.ndarray, dq: np.ndarray) -> np.ndarray:
    dt = np.diff(t, prepend=t[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(dt > 0, dq * 3600.0 / dt, 0.0)


def _read_mpr(path: Path) -> pd.DataFrame:
    BioLogic = require("galvani.BioLogic", path, "BioLogic .mpr",
                       "galvani (GPL-3; pip install 'ndp[cycler]'), or export the run as .mpt")  # fmt: skip
    try:
        # An open file of ours: galvani leaves the files it opens itself unclosed.
        with open(path, "rb") as fh:
            mpr = BioLogic.MPRfile(fh)
    except Exception as exc:  # galvani raises bare ValueError/NotImplementedError on odd files
        raise FileFormatError(path, f"galvani could not read it ({exc})") from None
    df = pd.DataFrame(mpr.data)
    cols = {"time_s": "time/s"}
    for o in ("I/mA", "<I>/mA", "control/mA"):
        if o in df.columns:
            cols["current_mA"] = o
            break
    else:
        if "dq/mA.h" not in df.columns:
            raise FileFormatError(path, "no current (I/mA) or charge increment (dq/mA.h) column")
        df["I/mA"] = _current_from_dq(df["time/s"].to_numpy(float), df["dq/mA.h"].to_numpy(float))
        cols["current_mA"] = "I/mA"
    for o in ("Ewe/V", "<Ewe>/V"):
        if o in df.columns:
            cols["voltage_V"] = o
            break
    if "Q charge/discharge/mA.h" in df.columns:
        cols["capacity_mAh"] = "Q charge/discharge/mA.h"
    out = normalize(df, path, "biologic-mpr", columns=cols, start=getattr(mpr, "timestamp", None))
    out.attrs["current"] = "interval mean"  # as in the .mpt export
    return out


def _read_nda(path: Path) -> pd.DataFrame:
    NewareNDA = require(
        "NewareNDA",
        path,
        "Neware .nda/.ndax",
        "NewareNDA (pip install 'ndp[cycler]'), or export a CSV",
    )
    try:
        df = NewareNDA.read(str(path))
    except Exception as exc:  # its own exceptions vary by version
        raise FileFormatError(path, f"NewareNDA could not read it ({exc})") from None
    return normalize(df, path, "neware-nda", columns={
        "current_mA": "Current(mA)", "voltage_V": "Voltage", "cycle": "Cycle", "step": "Step",
        "charge_capacity_mAh": "Charge_Capacity(mAh)", "discharge_capacity_mAh": "Discharge_Capacity(mAh)",
        "timestamp": "Timestamp",
    })  # fmt: skip


def _read_neware_3level(path: Path, text: str) -> pd.DataFrame:
    lines = text.splitlines()
    header = next((ln for ln in lines[:5] if ln.startswith(",,")), None)
    if header is None:
        raise FileFormatError(
            path, "three-level Neware CSV without its record header (',,DataPoint,…')", 3
        )
    cols = header.split(",")[2:]
    cycle = step = None
    rows, cycles, steps = [], [], []
    for ln in lines[3:]:
        if ln.startswith(",,"):
            rows.append(ln[2:])
            cycles.append(cycle)
            steps.append(step)
        elif ln.startswith(","):
            parts = ln.split(",")
            step = pd.to_numeric(parts[1], errors="coerce")
        elif ln.strip():
            cycle = pd.to_numeric(ln.split(",")[0], errors="coerce")
    if not rows:
        raise FileFormatError(path, "no record rows (',,…')")
    df = pd.read_csv(io.StringIO("\n".join(rows)), header=None, names=cols)
    df["Cycle Index"] = cycles
    df["Step Index"] = steps
    return normalize(
        df,
        path,
        "neware-3level-csv",
        columns={"time_s": "Total Time"} if "Total Time" in df else None,
    )


def _read_maccor(path: Path, text: str) -> pd.DataFrame:
    lines = text.splitlines()
    head = next((i for i, ln in enumerate(lines[:30]) if ln.startswith("Rec#")), None)
    if head is None:
        raise FileFormatError(path, "no 'Rec#' header line in the first 30 lines")
    df = pd.read_csv(io.StringIO("\n".join(lines[head:])), sep="\t", engine="c", low_memory=False)
    df.columns = [str(c).strip() for c in df.columns]
    state = df["State"].astype(str).str.strip().str.upper() if "State" in df else None
    amps = pd.to_numeric(df["Amps"], errors="coerce")
    if state is not None and (amps >= 0).all():
        # Maccor writes |I| and the state: D(ischarge) is the negative direction.
        df["Amps"] = np.where(state.str.startswith("D"), -amps.abs(), amps.abs())
    cols = {"current_mA": "Amps", "voltage_V": "Volts", "cycle": "Cyc#", "step": "Step",
            "capacity_mAh": "Amp-hr", "timestamp": "DPt Time"}  # fmt: skip
    # Test time, spelled as the export version spells it. 'DPt Time' is a wall-clock stamp to
    # the second only: never the time axis when the test time is there.
    for name in ("Test (Sec)", "TestTime", "Test Time", "Test Time (sec)", "Test (sec)"):
        if name in df.columns:
            cols["time_s"] = name
            break
    cols = {k: v for k, v in cols.items() if v in df.columns}
    return normalize(df, path, "maccor-txt", columns=cols, current_units="a")


def _read_xlsx(path: Path, fmt: str) -> pd.DataFrame:
    try:
        sheets = pd.read_excel(path, sheet_name=None)
    except ImportError:
        raise FileFormatError(path, "reading .xlsx needs openpyxl (pip install openpyxl)") from None
    except Exception as exc:
        raise FileFormatError(path, f"not a readable .xlsx workbook ({exc})") from None
    # The data sheet: Arbin "Channel_*", LAND "Record"/"record", else the largest.
    names = [n for n in sheets if re.match(r"(?i)^(channel|record|data)", n)] or list(sheets)
    data = [sheets[n] for n in names]
    df = (
        pd.concat(data, ignore_index=True)
        if len(data) > 1 and all(d.columns.equals(data[0].columns) for d in data)
        else max(data, key=len)
    )
    return normalize(df, path, fmt)


def detect_cycler(path: str | os.PathLike) -> str:
    """The cycler format of a file, from its content."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise FileFormatError(path, f"cannot read the file ({exc.strerror})") from None
    text = head.decode("latin-1")
    first = text.splitlines()[0] if text.strip() else ""
    suffix = path.suffix.lower()
    if "ASCII FILE" in first.upper() and ("EC-LAB" in first.upper() or "BT-LAB" in first.upper()):
        return "biologic-mpt"
    if head.startswith(b"BIO-LOGIC MODULAR FILE"):
        return "biologic-mpr"
    if (
        head.startswith(b"NEWARE")
        or suffix in (".nda", ".ndax")
        or (head.startswith(b"PK") and suffix == ".ndax")
    ):
        return "neware-nda"
    if head.startswith(b"PK"):
        return "arbin-xlsx" if suffix == ".xlsx" else "land-xlsx"
    if "Rec#" in text and "Cyc#" in text:
        return "maccor-txt"
    if first.startswith("Cycle Index") and "\n," in text:
        return "neware-3level-csv"
    if "Step Type" in first or "Cycle Index" in first:
        return "neware-csv"
    if "Data_Point" in first and "Test_Time" in first:
        return "arbin-csv"
    lines = text.splitlines()
    if len(head) == 4096 or not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line read may be cut short (or the file ends mid-row)
    rows = [ln for ln in lines[:6] if ln.strip()][:5]
    for sep in (",", ";", "\t"):
        counts = {ln.count(sep) for ln in rows}
        # A table: the same number of fields on every line we can see, and a header of names.
        if (
            len(rows) >= 2
            and len(counts) == 1
            and counts.pop() >= 1
            and not rows[0].lstrip().startswith(("#", "["))
        ):
            return "csv"
    raise UnknownFormatError(path, f"unknown cycler format; ndp reads {', '.join(CYCLER_FORMATS)}")


def read_cycler(path: str | os.PathLike, fmt: str | None = None, *,
                columns: Mapping[str, str] | None = None) -> pd.DataFrame:  # fmt: skip
    """Read a cycler log into the canonical table (see the module docstring).

    Parameters
    ----------
    path : path-like
    fmt : str, optional
        One of :data:`CYCLER_FORMATS`; detected from the content by default.
    columns : dict, optional
        For ``csv``: canonical name → the file's header (``time_s``, ``current_mA``, …).
    """
    path = Path(path)
    fmt = fmt or detect_cycler(path)
    if fmt not in CYCLER_FORMATS:
        raise FileFormatError(
            path, f"unknown cycler format {fmt!r}; ndp reads {', '.join(CYCLER_FORMATS)}"
        )
    if fmt == "biologic-mpt":
        return _read_mpt(path)
    if fmt == "biologic-mpr":
        return _read_mpr(path)
    if fmt == "neware-nda":
        return _read_nda(path)
    if fmt in ("arbin-xlsx", "land-xlsx"):
        return _read_xlsx(path, fmt)
    text = path.read_bytes().decode("latin-1")
    if not text.strip():
        raise FileFormatError(path, "the file is empty")
    if fmt == "maccor-txt":
        return _read_maccor(path, text)
    if fmt == "neware-3level-csv":
        return _read_neware_3level(path, text)
    sep = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    sep = "\t" if text.splitlines()[0].count("\t") > 2 else sep
    _check_last_row(path, text, sep)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, low_memory=False)
    except pd.errors.ParserError as exc:
        raise FileFormatError(path, f"not a readable CSV ({str(exc).splitlines()[0]})") from None
    df.columns = [str(c).strip() for c in df.columns]
    if fmt == "arbin-csv":
        cols = {"timestamp": "DateTime"} if "DateTime" in df.columns else None
        return normalize(df, path, fmt, columns=cols)
    return normalize(df, path, fmt, columns=columns)


def write_mpt(path: str | os.PathLike, log: pd.DataFrame) -> Path:
    """Write a canonical log as an EC-Lab ASCII (.mpt) file, as EC-Lab lays one out (atomically)."""

    start = log.attrs.get("start")
    header = [
        "EC-Lab ASCII FILE",
        "Nb header lines : {n}",
        "",
        "Galvanostatic Cycling with Potential Limitation",
        "",
        f"Acquisition started on : {pd.Timestamp(start):%m/%d/%Y %H:%M:%S.%f}"[:-3]
        if start is not None
        else "",
        "Saved by : ndp",
    ]
    cols = ["time/s", "<I>/mA", "Ewe/V"]
    header.append("\t".join(cols) + "\t")
    header[1] = header[1].format(n=len(header))
    v = log["voltage_V"].to_numpy() if "voltage_V" in log else np.zeros(len(log))
    body = "\n".join(
        f"{t:.4f}\t{i:.7E}\t{u:.7E}\t"
        for t, i, u in zip(log.time_s.to_numpy(), log.current_mA.to_numpy(), v, strict=True)
    )
    return atomic_write(
        path, ("\r\n".join(header) + "\r\n" + body.replace("\n", "\r\n") + "\r\n").encode("latin-1")
    )
