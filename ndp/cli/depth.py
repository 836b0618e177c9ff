"""``ndp depth RUN.toml``: the energy ↔ depth map and depth resolution of a run's stack."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import Format, FormatOption, emit


def depth(
    run_file: Annotated[
        Path,
        typer.Argument(
            metavar="RUN.toml",
            help="Run file whose [sample] stack and [detector] to use.",
            show_default=False,
        ),
    ],
    particle: Annotated[
        str | None,
        typer.Option(
            "--particle",
            "-p",
            help="alpha, triton or auto (default: the run file's analysis.particles).",
        ),
    ] = None,
    step: Annotated[
        float | None,
        typer.Option(
            "--step", help="Depth step, µm (default: the run file's analysis.depth_step_um)."
        ),
    ] = None,
    max_depth: Annotated[
        float | None,
        typer.Option("--max-depth", help="Deepest depth to list, µm (default: deepest escape)."),
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Print detected energy, dE/dx and depth resolution (FWHM) vs depth, per particle."""
    from ..resolution import depth_scale
    from ..runfile import load_run

    cfg = load_run(run_file)
    ds = depth_scale(
        cfg.stack,
        cfg.detector,
        particles=particle or cfg.analysis.particles,
        depth_step_um=step or cfg.analysis.depth_step_um,
        max_depth_um=max_depth,
    )
    df = ds[["energy_keV", "dE_dx_keV_um", "resolution_um", "resolution_keV"]].to_dataframe()
    df = df.reset_index().rename(
        columns={"depth": "depth_um", "depth_areal": "depth_1e15_atoms_cm2"}
    )
    df = df.dropna(subset=["energy_keV"])
    cols = [
        "particle",
        "depth_um",
        "energy_keV",
        "dE_dx_keV_um",
        "resolution_um",
        "depth_1e15_atoms_cm2",
        "resolution_keV",
    ]
    notes = [f"{cfg.name}: {ds.attrs['stack']}", f"depth in {ds.attrs['matrix']}"]
    for p in ds.particle.values:
        notes.append(
            f"{p}: surface edge {float(ds.surface_energy_keV.sel(particle=p)):.1f} keV, seen down to "
            f"{float(ds.max_depth_um.sel(particle=p)):.2f} µm (threshold {cfg.detector.threshold_keV:g} keV)"
        )
    emit(df[cols], fmt, notes=notes)
