"""``ndp info FILE``: what a spectrum or list-mode file holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import Format, FormatOption, emit


def info(
    files: Annotated[
        list[Path], typer.Argument(help="Spectrum or list-mode files.", show_default=False)
    ],
    fmt: FormatOption = Format.table,
) -> None:
    """Print format, frames, channels, times and counts (or events) of each file."""
    import pandas as pd

    from ..io import describe

    rows = [describe(f) for f in files]
    if fmt is Format.table:
        for row in rows:
            width = max(len(k) for k in row)
            for key, value in row.items():
                typer.echo(f"{key:<{width}}  {value if value is not None else '-'}")
            typer.echo("")
        return
    emit(pd.DataFrame(rows), fmt)
