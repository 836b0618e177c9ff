"""Small helpers the text readers share, so every error names the file and line."""

from __future__ import annotations

import datetime as dt
import math
import os

import numpy as np

from ndp.errors import FileFormatError
from ndp.fileio import read_bytes


def read_text(path: str | os.PathLike) -> str:
    """The file's text (UTF-8, else Latin-1), or a FileFormatError if it cannot be read."""
    raw = read_bytes(path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


#: Largest count or channel number a file may hold: above it a value is corruption, not data,
#: and would overflow the 64-bit integers (and float64 sums) counts are kept in.
MAX_WHOLE = 2**53


def to_int(token: str, path, line: int, what: str) -> int:
    try:
        value = float(token.strip().replace(",", "."))
    except ValueError:
        raise FileFormatError(
            path, f"expected {what} (a whole number), got {token.strip()!r}", line
        ) from None
    if not math.isfinite(value) or abs(value) > MAX_WHOLE:
        raise FileFormatError(
            path, f"expected {what} (a whole number below 2^53), got {token.strip()!r}", line
        )
    if value != int(value):
        raise FileFormatError(
            path, f"expected {what} (a whole number), got {token.strip()!r}", line
        )
    return int(value)


def parse_counts(values: list[str], path, first_line: int, first_channel: int = 0) -> np.ndarray:
    """Counts from one-value-per-line text, fast; on a bad value, name its line."""
    try:
        counts = np.array(values, dtype=np.int64)
    except (ValueError, OverflowError):
        counts = None
    if counts is None or np.any(counts < 0) or np.any(counts > MAX_WHOLE):
        checked = []
        for j, v in enumerate(values):
            c = to_int(v, path, first_line + j, f"counts of channel {first_channel + j}")
            if c < 0:
                raise FileFormatError(
                    path,
                    f"counts of channel {first_channel + j} must be >= 0, got {c}",
                    first_line + j,
                )
            checked.append(c)
        counts = np.array(checked, dtype=np.int64)  # values such as '12.0' are whole numbers too
    return counts


def to_float(token: str, path, line: int, what: str) -> float:
    try:
        value = float(token.strip().replace(",", "."))
    except ValueError:
        raise FileFormatError(
            path, f"expected {what} (a number), got {token.strip()!r}", line
        ) from None
    if not math.isfinite(value):
        raise FileFormatError(
            path, f"expected {what} (a finite number), got {token.strip()!r}", line
        )
    return value


_FORMATS = (
    "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%a %b %d %H:%M:%S %Y", "%d/%m/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p",
)  # fmt: skip


#: Acquisition dates outside these years are a corrupt header or an unset clock, and beyond
#: 2262 they would not even fit the nanosecond clock frames are kept on.
YEARS = (1950, 2200)


def to_datetime(text: str, path, line: int) -> dt.datetime:
    s = " ".join(text.strip().split())
    when = None
    try:
        when = dt.datetime.fromisoformat(s).replace(tzinfo=None)
    except ValueError:
        for fmt in _FORMATS:
            try:
                when = dt.datetime.strptime(s, fmt)
                break
            except ValueError:
                continue
    if when is not None:
        if not YEARS[0] <= when.year <= YEARS[1]:
            raise FileFormatError(
                path,
                f"acquisition date {s!r} is outside {YEARS[0]}-{YEARS[1]}; check the header",
                line,
            )
        return when
    raise FileFormatError(
        path, f"expected a date and time (e.g. 03/01/2020 09:00:00), got {s!r}", line
    )


def check_times(path, live: float, real: float, line: int | None) -> None:
    """Live time must be positive and (within rounding) not above real time."""
    if live <= 0:
        raise FileFormatError(path, f"live time must be > 0 s, got {live:g}", line)
    if live > real * (1 + 1e-6) + 1e-3:
        raise FileFormatError(path, f"live time {live:g} s exceeds real time {real:g} s", line)
