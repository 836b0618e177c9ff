"""``ndp demo``: write the bundled synthetic beamtime and run it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from ndp.cli._common import Progress, fail


def demo(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the demo's runs and results.")
    ] = Path("ndp-demo"),
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild a demo folder that exists.")
    ] = False,
) -> None:
    """Bare Cu vs ZnO@Cu in a Cu|hybrid electrolyte|Li cell: 5 cycles, triton-only, ~1 min."""
    import shutil

    import pandas as pd

    from ndp.demo import build
    from ndp.pipeline import run as run_pipeline

    if output.exists() and any(output.iterdir()):
        if not force:
            raise fail(f"{output} exists; use --force to rebuild the demo there")
        if not (output / "bare-Cu" / "run.toml").exists():
            raise fail(f"{output} is not an ndp demo folder; choose another (it is never emptied)")
        shutil.rmtree(output)
    t0 = time.perf_counter()
    typer.echo(f"writing the demo's spectra and cycler logs to {output} …")
    runs = build(output)
    rows = []
    for name, info in runs.items():
        with Progress() as bar:
            result = run_pipeline(info["run_file"], progress=bar.update)
        truth = info["truth"]
        for (_, r), (_, t) in zip(result.cycles.iterrows(), truth.iterrows(), strict=True):
            rows.append({"cell": name, "cycle": int(r.cycle), "plated_mAh_cm2": r.plated_mAh_cm2,
                         "li_efficiency": r.li_efficiency, "li_eff_err": r.li_efficiency_err,
                         "li_eff_truth": t.li_efficiency, "coulombic_efficiency": r.coulombic_efficiency})  # fmt: skip
        typer.echo(f"{name}: {result.output}")
    table = pd.DataFrame(rows)
    typer.echo("")
    typer.echo(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    means = table.groupby("cell", sort=False)[["li_efficiency", "coulombic_efficiency"]].mean()
    typer.echo("")
    for cell, m in means.iterrows():
        typer.echo(
            f"{cell}: mean Li efficiency {m.li_efficiency:.1%}, Coulombic efficiency {m.coulombic_efficiency:.1%}"
        )
    typer.echo(f"figures: {output}/*/run-ndp/figures/ (heatmap, profiles, inventory, efficiency, spectra); "
               f"done in {time.perf_counter() - t0:.0f} s")  # fmt: skip
