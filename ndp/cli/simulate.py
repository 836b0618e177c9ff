"""``ndp simulate RUN.toml --truth PROFILE --output DIR``: synthetic spectra of a known profile."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ndp.cli._common import fail

WRITERS = {"spe": "Spe", "chn": "Chn", "mca": "mca", "lynx": "txt", "csv": "csv", "n42": "n42"}


def simulate(
    run_file: Annotated[
        Path,
        typer.Argument(
            metavar="RUN.toml",
            help="Run file: stack, detector, calibration, beam.",
            show_default=False,
        ),
    ],
    truth: Annotated[
        Path,
        typer.Option(
            "--truth",
            help="CSV: depth_um, li_density_cm3 (or li_density_rel) [, frame].",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the spectra.", show_default=False)
    ],
    file_format: Annotated[
        str,
        typer.Option(
            "--file-format", help="spe, chn, mca, lynx, csv or n42 (one file for all frames)."
        ),
    ] = "spe",
    frame_s: Annotated[
        float | None,
        typer.Option("--frame-s", help="Frame duration, s (default: run.frame_s or 600)."),
    ] = None,
    channels: Annotated[int, typer.Option("--channels", help="Channels per spectrum.")] = 4096,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Seed of the Poisson sampling (>= 0).")
    ] = 0,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite spectra already in the output folder.")
    ] = False,
) -> None:
    """Write Poisson-sampled spectra of a Li profile through the run file's stack and detector."""
    import math

    import numpy as np

    from ndp.model.scale import Scale
    from ndp.model.simulate import read_truth
    from ndp.model.simulate import simulate as simulate_spectra
    from ndp.runfile import load_run
    from ndp.spectra.calibration import Calibration
    from ndp.spectra.dataset import MAX_CHANNELS
    from ndp.spectra.io import chn, lynx, mca, n42, spe, text

    key = file_format.lower()
    if key not in WRITERS:
        raise fail(f"--file-format: expected one of {', '.join(WRITERS)}, got {file_format!r}")
    cfg = load_run(run_file)
    if not isinstance(cfg.calibration, tuple):
        raise fail(
            f"{run_file}: [detector] calibration must be coefficients to simulate, e.g. [-10.0, 0.75]"
        )
    if cfg.flux is None:
        raise fail(f"{run_file}: [beam] flux is needed to simulate counts")
    profile = read_truth(truth)
    frame = frame_s if frame_s is not None else cfg.frame_s or 600.0
    if not math.isfinite(frame) or frame <= 0:
        raise fail(f"--frame-s: expected a duration > 0 s, got {frame_s}")
    if not 0 < channels <= MAX_CHANNELS:
        raise fail(f"--channels: expected 1 to {MAX_CHANNELS}, got {channels}")
    scale = Scale.from_beam(cfg.flux, cfg.area_cm2, cfg.detector.solid_angle_sr, cfg.li6_abundance)
    start = np.datetime64(cfg.time_zero) if cfg.time_zero else None
    ds = simulate_spectra(
        cfg.stack, cfg.detector, Calibration(cfg.calibration), profile, scale=scale,
        n_channels=channels, live_time_s=frame, start=start, seed=seed,
    )  # fmt: skip
    ds = ds.drop_vars("expected")
    ds.attrs["label"] = cfg.name
    output.mkdir(parents=True, exist_ok=True)
    ext = WRITERS[key]
    names = (
        [output / "spectra.n42"]
        if key == "n42"
        else [output / f"frame_{i:04d}.{ext}" for i in range(ds.sizes["frame"])]
    )
    existing = [p for p in names if p.exists()]
    if existing and not force:
        raise fail(f"{existing[0]} exists; use --force to overwrite simulated spectra")
    if key == "n42":
        n42.write(names[0], ds)
    else:
        writer = {"spe": spe, "chn": chn, "mca": mca, "lynx": lynx, "csv": text}[key]
        for i, p in enumerate(names):
            writer.write(p, ds, i)
    typer.echo(f"wrote {ds.sizes['frame']} frame(s), {int(ds.counts.sum())} counts, to {output}")
