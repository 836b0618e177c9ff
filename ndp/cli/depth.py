"""``ndp depth RUN.toml``: the energy ↔ depth map and depth resolution of a run's stack."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ndp.cli._common import Format, FormatOption, emit


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
    """Print detected energy, dE/dx and depth resolution (FWHM) vs depth, per particle.

    The notes give each particle's surface edge and resolution with the run file's detector
    effects (straggling model, cone, dead layer, pulse-height defect, tail).
    """
    from ndp.errors import NdpError
    from ndp.physics.resolution import depth_scale
    from ndp.runfile import MAX_DEPTH_CELLS, load_run

    cfg = load_run(run_file)
    step = cfg.analysis.depth_step_um if step is None else step
    if not step > 0:
        raise NdpError(f"--step: expected a depth step > 0 µm, got {step:g}")
    span = min(cfg.stack.region_thickness_um, max_depth) if max_depth is not None else cfg.stack.region_thickness_um
    if span / step > MAX_DEPTH_CELLS:
        raise NdpError(f"--step: {step:g} µm lists {span / step:.3g} depths; expected at most {MAX_DEPTH_CELLS} "
                       f"(a step >= {span / MAX_DEPTH_CELLS:.2g} µm)")  # fmt: skip
    if max_depth is not None and not max_depth > 0:
        raise NdpError(f"--max-depth: expected a depth > 0 µm, got {max_depth:g}")
    ds = depth_scale(
        cfg.stack,
        cfg.detector,
        particles=particle or cfg.analysis.particles,
        depth_step_um=step,
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
    a = ds.attrs
    notes = [
        f"{cfg.name}: {a['stack']}",
        f"depth in {a['matrix']}",
        f"detector: {a['detector_resolution_keV']:g} keV FWHM, cone {a['acceptance_half_angle_deg']:g}° "
        f"({a['cone']}), straggling {a['straggling']} ×{a['straggling_scale']:g}, "
        f"dead layer {a['dead_layer']}, pulse-height defect {a['pulse_height_defect_keV']} keV, "
        f"tail {a['tail']}",
    ]
    for p in ds.particle.values:
        sel = ds.sel(particle=p)
        notes.append(
            f"{p}: surface edge {float(sel.surface_energy_keV):.1f} keV "
            f"(mean over the cone {float(sel.edge_mean_keV):.1f} keV), "
            f"FWHM {float(sel.surface_resolution_keV):.1f} keV there "
            f"(straggling σ {float(sel.surface_straggling_keV):.1f} keV), seen down to "
            f"{float(sel.max_depth_um):.2f} µm (threshold {cfg.detector.threshold_keV:g} keV)"
        )
    emit(df[cols], fmt, notes=notes)
