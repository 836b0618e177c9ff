"""``ndp cycles CYCLER_FILE``: per-cycle charges and Coulombic efficiency from a cycler log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ndp.cli._common import Format, FormatOption, emit, fail


def cycles(
    cycler_file: Annotated[
        Path,
        typer.Argument(
            metavar="CYCLER_FILE",
            help="BioLogic .mpt/.mpr, Neware .csv/.nda/.ndax, Arbin .csv/.xlsx, Maccor .txt, LAND .xlsx or a CSV.",
            show_default=False,
        ),
    ],
    plating: Annotated[
        str,
        typer.Option(
            "--plating",
            help="Current sign that plates Li on the profiled electrode: negative (Cu|Li cells) or positive.",
        ),
    ] = "negative",
    dead_band: Annotated[
        float | None,
        typer.Option(
            "--dead-band",
            help="Currents within ± this (mA) are rest (default: 2 % of the typical current).",
        ),
    ] = None,
    area: Annotated[
        float | None, typer.Option("--area", help="Electrode area, cm2: adds per-cm2 columns.")
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Split the log into plating/stripping half cycles and print charges and CE per cycle."""
    from ndp.cycling.cycler import read_cycler
    from ndp.cycling.cycles import cycles as pair
    from ndp.cycling.cycles import half_cycles

    if area is not None and not area > 0:
        raise fail(f"--area: expected > 0 cm2, got {area}")
    log = read_cycler(cycler_file)
    halves = half_cycles(log, dead_band_mA=dead_band, plating=plating)
    table = pair(halves)
    cols = ["cycle", "charge_plated_mAh", "charge_stripped_mAh", "coulombic_efficiency"]
    df = table[cols].copy()
    if area is not None:
        df["charge_plated_mAh_cm2"] = df.charge_plated_mAh / area
        df["charge_stripped_mAh_cm2"] = df.charge_stripped_mAh / area
    start = log.attrs.get("start")
    checked = halves.dropna(subset=["cycler_charge_mAh"])
    notes = [
        f"{cycler_file}: {log.attrs['format']}, {len(log)} rows over {log.time_s.iloc[-1] - log.time_s.iloc[0]:.0f} s"
        + (f" from {start}" if start is not None else ""),
        f"{len(halves)} half cycles (dead band ±{halves.attrs['dead_band_mA']:.3g} mA, plating = {plating} current)",
    ]
    if log.attrs.get("dropped_rows"):
        notes.append(
            f"{log.attrs['dropped_rows']} row(s) without a readable time or current were skipped"
        )
    if len(checked):
        rel = (checked.integrated_mAh / checked.cycler_charge_mAh - 1).abs()
        notes.append(
            f"∫I dt vs the cycler's capacity counters: median {rel.median():.2%}, worst {rel.max():.2%}"
        )
    for notice in halves.attrs.get("notices", []):
        # Said on stderr too, so csv and json output do not hide it.
        typer.echo(f"ndp cycles: {notice}", err=True)
        notes.append(notice)
    emit(df, fmt, notes=notes)
