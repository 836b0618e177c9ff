"""``ndp run RUN.toml``: the whole pipeline of one beamtime run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ndp.cli._common import Progress

#: Exit code of a run whose outputs are written but marked NOT VALID.
EXIT_NOT_VALID = 3


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
    jobs: Annotated[
        int,
        typer.Option("--jobs", "-j", min=0,
                     help="Processes for the inversion (0: every core). Results do not depend on it."),
    ] = 0,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", metavar="ADDRESS",
                     help="Run the inversion on a dask.distributed scheduler (tcp://host:8786) instead."),
    ] = None,
    accept_poor_fit: Annotated[
        bool,
        typer.Option(
            "--accept-poor-fit",
            help=f"Exit 0 even when the results are marked NOT VALID (otherwise exit {EXIT_NOT_VALID}).",
        ),
    ] = False,
) -> None:
    """Spectra → calibrated, corrected → Li depth profiles → per-cycle Li and Coulombic efficiency → figures.

    Exit codes: 0 done; 2 a mistake in the input (one line on stderr); 3 the outputs were
    written but the model does not describe the data (median χ²/channel above 2, or a frame
    whose solver did not converge): summary.txt, profiles.nc and cycles.csv say NOT VALID.
    """
    from ndp.pipeline import run as run_pipeline

    with Progress() as bar:
        result = run_pipeline(
            run_file, output=output, force=force, progress=bar.update, figures=not no_figures,
            jobs=jobs, scheduler=scheduler,
        )
    typer.echo((result.output / "summary.txt").read_text(encoding="utf-8"), nl=False)
    typer.echo(
        f"outputs: {result.output} (profiles.nc, cycles.csv, summary.txt{', figures/' if result.figures else ''})"
    )
    if not result.valid and not accept_poor_fit:
        typer.echo(
            f"ndp run: results NOT VALID ({result.profiles.attrs['validity']}); outputs written, "
            f"exit {EXIT_NOT_VALID} (--accept-poor-fit to exit 0)",
            err=True,
        )
        raise typer.Exit(code=EXIT_NOT_VALID)
