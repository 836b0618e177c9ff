"""``ndp run RUN.toml``: the whole pipeline of one beamtime run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import Progress


def run(
    run_file: Annotated[
        Path,
        typer.Argument(
            metavar="RUN.toml",
            help="The run file (paths in it are relative to it).",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Output folder (default: <run file>-ndp beside the run file)."
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace an existing output folder (inputs are never written)."
        ),
    ] = False,
    no_figures: Annotated[
        bool, typer.Option("--no-figures", help="Skip the figures (faster).")
    ] = False,
) -> None:
    """Spectra → calibrated, corrected → Li depth profiles → per-cycle Li and Coulombic efficiency → figures."""
    from ..pipeline import run as run_pipeline

    with Progress() as bar:
        result = run_pipeline(
            run_file, output=output, force=force, progress=bar.update, figures=not no_figures
        )
    typer.echo((result.output / "summary.txt").read_text(encoding="utf-8"), nl=False)
    typer.echo(
        f"outputs: {result.output} (profiles.nc, cycles.csv, summary.txt{', figures/' if result.figures else ''})"
    )
