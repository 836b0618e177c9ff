"""What a file holds, whatever it is: a spectrum, a list-mode file or a cycler log (``ndp info``).

Each reader family says what its own files hold (:func:`ndp.spectra.io.describe`,
:func:`ndp.cycling.cycler.read_cycler`); this module, above both, tries them in turn.
"""

from __future__ import annotations

import os

from ndp.cycling.cycler import CYCLER_FORMATS, read_cycler
from ndp.cycling.cycles import half_cycles
from ndp.errors import NdpError, UnknownFormatError
from ndp.fileio import read_bytes
from ndp.spectra import io as spectra_io
from ndp.spectra.io import text

__all__ = ["describe"]

#: First-line fields of a text file headed like a spectrum (not a cycler table).
_SPECTRUM_HEADERS = {"channel", "channels", "ch", "count", "counts", "energy", "energy_kev"}


def describe(path: str | os.PathLike) -> dict:
    """What ``path`` holds, as a flat dict (``kind``: spectra, list-mode or cycler log).

    Raises
    ------
    FileFormatError
        For a file that no reader knows (naming every format ndp reads), or a damaged one (with
        the complaint of the reader its content points to).
    """
    try:
        return spectra_io.describe(path)
    except UnknownFormatError:
        return _describe_cycler(path)


def _describe_cycler(path) -> dict:
    head = read_bytes(path, 4096).decode("latin-1").lstrip("\ufeff")
    first = next(
        (ln for ln in head.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), ""
    )
    fields = {
        f.strip().strip('"').lower() for f in first.replace(";", ",").replace("\t", ",").split(",")
    }
    if fields and fields <= _SPECTRUM_HEADERS:
        # Headed like a spectrum: its reader's complaint (naming the line) is the one to show.
        text.read(path, live_time_s=1.0)
    try:
        log = read_cycler(path)
    except UnknownFormatError:
        raise UnknownFormatError(
            path,
            f"unknown file format; ndp reads spectra ({', '.join(spectra_io.FORMATS)}), list-mode "
            f"({', '.join(spectra_io.LISTMODE)}) and cycler logs ({', '.join(CYCLER_FORMATS)})",
        ) from None
    try:
        n_half = len(half_cycles(log))
    except NdpError:
        n_half = 0
    return {
        "file": str(path), "format": log.attrs["format"], "kind": "cycler log", "rows": len(log),
        "start": spectra_io.iso_time(log.attrs.get("start")),
        "duration_s": float(log.time_s.iloc[-1] - log.time_s.iloc[0]),
        "current_mA": f"{log.current_mA.min():.4g} … {log.current_mA.max():.4g}",
        "half_cycles": n_half, "columns": ", ".join(log.columns),
    }  # fmt: skip
