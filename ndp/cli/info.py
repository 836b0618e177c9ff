"""``ndp info FILE``: what a spectrum, list-mode file or cycler log holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ndp.cli._common import Format, FormatOption, _clean, emit


def info(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE...",
            help="Spectra, list-mode files or cycler logs (the format is read from the content).",
            show_default=False,
        ),
    ],
    fmt: FormatOption = Format.table,
) -> None:
    """Print what each file holds: format, frames, channels, times and counts of spectra; events
    of list-mode files; rows, duration, currents and half cycles of cycler logs."""
    import json

    import pandas as pd

    from ndp.describe import describe

    rows = [describe(f) for f in files]
    if fmt is Format.table:
        for row in rows:
            width = max(len(k) for k in row)
            for key, value in row.items():
                typer.echo(f"{key:<{width}}  {value if value is not None else '-'}")
            typer.echo("")
        return
    if fmt is Format.json:
        # Row by row: a table of mixed kinds would turn whole numbers into floats.
        clean = [{k: _clean(v) for k, v in row.items()} for row in rows]
        typer.echo(json.dumps(clean, indent=1, default=str))
        return
    emit(pd.DataFrame(rows), fmt)
