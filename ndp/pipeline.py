"""The whole pipeline of one beamtime run: run file → spectra → profiles → cycles → outputs.

:func:`run` does what ``ndp run RUN.toml`` does and returns the results, so a notebook can do
anything the command does. Outputs are built in a temporary folder beside the output folder and
moved into place only when complete: an interrupted run leaves no partial outputs, and a run
never writes over its inputs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from . import __version__
from .calibration import Calibration, fit_b10, fit_li6
from .errors import ConfigError, NdpError
from .runfile import RunConfig, load_run

__all__ = ["RunResult", "run"]

CYCLE_COLUMNS = ["cycle", "plated_mAh_cm2", "stripped_mAh_cm2", "li_efficiency", "inactive_li_mAh_cm2",
                 "charge_plated_mAh_cm2", "charge_stripped_mAh_cm2", "coulombic_efficiency"]  # fmt: skip


@dataclass
class RunResult:
    """What a run produced (also written to the output folder).

    Attributes
    ----------
    config : RunConfig
    spectra : xarray.Dataset
    profiles : xarray.Dataset
        ``profiles.nc``'s content.
    cycles : pandas.DataFrame
        ``cycles.csv``'s content (empty without a cycler log).
    log : pandas.DataFrame or None
        The cycler log on the NDP clock (``time_s`` shifted).
    halves : pandas.DataFrame or None
    indicators : xarray.Dataset or None
    output : Path or None
    figures : list of Path
    """

    config: RunConfig
    spectra: xr.Dataset
    profiles: xr.Dataset
    cycles: pd.DataFrame
    log: pd.DataFrame | None = None
    halves: pd.DataFrame | None = None
    indicators: xr.Dataset | None = None
    output: Path | None = None
    figures: list[Path] = field(default_factory=list)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _expand(cfg: RunConfig, key: str, patterns) -> list[Path]:
    from .io import expand

    try:
        return expand(patterns, base=cfg.base)
    except NdpError as exc:
        raise ConfigError(cfg.path, f"run.{key}", str(exc), line=_line(cfg, f"run.{key}")) from None


def _line(cfg: RunConfig, key: str):
    from .runfile import _locate

    if cfg.path is None:
        return None
    return _locate(cfg.path.read_text(encoding="utf-8"), key)


def _calibration(cfg: RunConfig, inputs: list[Path]) -> Calibration:
    if cfg.calibration is None:
        raise ConfigError(cfg.path, "detector.calibration", "missing: give [c0, c1] in keV or a reference spectrum",
                          line=_line(cfg, "detector"))  # fmt: skip
    if isinstance(cfg.calibration, tuple):
        return Calibration(cfg.calibration)
    from .io import read_spectra

    ref = _expand(cfg, "calibration", [cfg.calibration])
    inputs += ref
    fit = (fit_b10 if cfg.calibration_standard == "b10" else fit_li6)(read_spectra(ref))
    return fit.calibration


def _read_spectra(cfg: RunConfig, inputs: list[Path], progress) -> xr.Dataset:
    from .io import read_spectra

    if cfg.spectra:
        files = _expand(cfg, "spectra", cfg.spectra)
        inputs += files
        return read_spectra(files, progress=progress)
    if cfg.listmode:
        from .framing import frame_events
        from .io.listmode import iter_events, listmode_start

        files = _expand(cfg, "listmode", cfg.listmode)
        if len(files) != 1:
            raise ConfigError(
                cfg.path, "run.listmode", f"expected one list-mode file, {len(files)} match"
            )
        inputs += files
        start = listmode_start(files[0])
        if np.isnat(start) and cfg.time_zero is not None:
            start = np.datetime64(cfg.time_zero, "ns")
        return frame_events(
            iter_events(files[0]), frame_s=cfg.frame_s, start=start, source=str(files[0])
        )
    raise ConfigError(
        cfg.path, "run", "give run.spectra (files, a glob) or run.listmode", line=_line(cfg, "run")
    )


def run(run_file, *, output=None, force: bool = False, progress: Callable[[str, int, int], None] | None = None,
        figures: bool = True) -> RunResult:  # fmt: skip
    """Run the pipeline of a run file and write its outputs.

    Parameters
    ----------
    run_file : path-like
    output : path-like, optional
        Output folder (default: ``<run file's folder>/<run file's stem>-ndp``).
    force : bool
        Replace an existing output folder (never an input).
    progress : callable, optional
        ``progress(stage, done, total)``, for a progress bar.
    figures : bool
        Draw the figures (PNG and PDF).

    Returns
    -------
    RunResult
    """
    from .invert import invert
    from .reduce import sum_frames
    from .scale import Scale

    cfg = load_run(run_file)
    out_dir = Path(output) if output is not None else cfg.base / f"{Path(run_file).stem}-ndp"
    out_dir = out_dir.resolve()
    inputs: list[Path] = [Path(run_file).resolve()]

    def tick(stage):
        return None if progress is None else (lambda done, total=0: progress(stage, done, total))

    spectra = _read_spectra(cfg, inputs, tick("reading spectra"))
    cal = _calibration(cfg, inputs)
    background = None
    if cfg.background:
        from .io import read_spectra

        blank_files = _expand(cfg, "background", cfg.background)
        inputs += blank_files
        background = sum_frames(read_spectra(blank_files)).drop_vars("variance")
    log = None
    if cfg.cycler:
        from .io.cycler import read_cycler

        cyc = cfg.resolve(cfg.cycler)
        if not cyc.exists():
            raise ConfigError(
                cfg.path, "run.cycler", f"{cfg.cycler}: no such file", line=_line(cfg, "run.cycler")
            )
        inputs.append(cyc)
        log = read_cycler(cyc)

    _check_output(out_dir, inputs, force)

    scale = (
        Scale.from_beam(cfg.flux, cfg.area_cm2, cfg.detector.solid_angle_sr, cfg.li6_abundance)
        if cfg.flux is not None
        else Scale.relative()
    )
    time_zero = np.datetime64(cfg.time_zero, "ns") if cfg.time_zero is not None else None
    n = spectra.sizes["frame"]
    monitor = spectra.monitor.values
    weights = None
    if np.all(np.isfinite(monitor)) and np.all(monitor > 0):
        # A beam monitor in every frame: follow the flux drift (the scale is the mean flux).
        rate = monitor / spectra.real_time_s.values
        weights = rate / rate.mean()
    profiles = invert(
        spectra, cfg.stack, cfg.detector, cal, scale=scale, method=cfg.analysis.method,
        particles=cfg.analysis.particles, depth_step_um=cfg.analysis.depth_step_um,
        li_region_um=cfg.analysis.li_region_um, background=background, time_zero=time_zero,
        flux_weights=weights,
        progress=None if progress is None else (lambda i: progress("inverting frames", i, n)),
    )  # fmt: skip
    if cfg.analysis.matrix == "self-consistent":
        from .matrix import self_consistent

        profiles = self_consistent(profiles, cfg.stack)

    host = cfg.stack.profiled.material.li_atoms_cm3
    table = pd.DataFrame(columns=CYCLE_COLUMNS)
    halves = ind = None
    if log is not None:
        from .cycles import cycles, half_cycles
        from .efficiency import align, efficiency_table

        shift = align(profiles, log, cfg.cycler_offset_s)
        halves = half_cycles(log, plating=cfg.plating)
        table = efficiency_table(profiles, halves, cycles(halves), shift_s=shift, area_cm2=cfg.area_cm2,
                                 host_li_cm3=host)  # fmt: skip
        log = log.assign(time_s=log.time_s + shift)
        halves = halves.assign(start_s=halves.start_s + shift, end_s=halves.end_s + shift)
    if scale.absolute:
        from .indicators import indicators

        ind = indicators(profiles)

    profiles.attrs.update(
        ndp_version=__version__,
        run_name=cfg.name,
        run_file=str(Path(run_file).resolve()),
        config=json.dumps(cfg.raw, default=str),
        input_sha256=json.dumps({str(p): _sha256(p) for p in inputs}),
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        host_li_cm3=host,
    )  # fmt: skip
    result = RunResult(cfg, spectra, profiles, table, log, halves, ind, out_dir)
    _write(result, out_dir, force, figures)
    return result


def _check_output(out_dir: Path, inputs: list[Path], force: bool) -> None:
    for p in inputs:
        if out_dir == p or out_dir in p.resolve().parents:
            raise NdpError(
                f"--output {out_dir}: holds the input {p}; choose another folder (inputs are never written)"
            )
    if out_dir.exists() and not force:
        raise NdpError(f"{out_dir} exists; use --force to replace its outputs")
    if out_dir.exists() and not (out_dir / "profiles.nc").exists() and any(out_dir.iterdir()):
        raise NdpError(
            f"{out_dir} exists and is not an ndp output folder; choose another (it is never emptied)"
        )


def _summary(result: RunResult) -> str:
    cfg, p, t = result.config, result.profiles, result.cycles
    lines = [
        f"ndp {__version__} — {cfg.name}",
        f"run file: {cfg.path}",
        f"frames: {p.sizes['time']}, {p.attrs['method']} ({p.attrs['particles']}), depth step "
        f"{p.attrs['depth_step_um']:g} µm, scale: {p.attrs['scale']}",
        f"stack: {p.attrs['stack']}",
        f"matrix: {p.attrs['matrix']}",
        "",
    ]
    if len(t):
        show = t[CYCLE_COLUMNS].copy()
        if t.attrs.get("inventory_units", "mAh/cm2") == "mAh/cm2":
            lines.append("Per cycle (mAh/cm2; efficiencies as fractions):")
        else:
            lines.append("Per cycle (plated, stripped, inactive Li in arbitrary units: no [beam] flux, so no "
                         "absolute scale; charges in mAh/cm2; efficiencies as fractions):")  # fmt: skip
        lines.append(show.to_string(index=False, float_format=lambda v: f"{v:.4g}", na_rep="-"))
        if "li_efficiency_err" in t:
            errs = ", ".join(
                f"{c}: ±{e:.3f}"
                for c, e in zip(t.cycle, t.li_efficiency_err, strict=True)
                if np.isfinite(e)
            )
            lines.append(f"Li efficiency 1σ: {errs}")
    else:
        lines.append("No cycler log: no per-cycle table.")
    lines.append("")
    lines.append(f"Li inventory (window {p.attrs['li_region_um']} µm), first → last frame: "
                 f"{float(p.li_capacity[0]):.4g} → {float(p.li_capacity[-1]):.4g} {p.li_capacity.attrs['units']}")  # fmt: skip
    return "\n".join(lines) + "\n"


def _write(result: RunResult, out_dir: Path, force: bool, figures: bool) -> None:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        result.profiles.to_netcdf(tmp / "profiles.nc", engine="h5netcdf")
        result.cycles.to_csv(tmp / "cycles.csv", index=False, float_format="%.6g")
        (tmp / "summary.txt").write_text(_summary(result), encoding="utf-8")
        if figures:
            from .plot import save_run_figures

            save_run_figures(result, tmp / "figures")
        # Everything is written: swap it in.
        old = None
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old")
            if old.exists():
                shutil.rmtree(old)
            out_dir.rename(old)
        tmp.rename(out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    result.output = out_dir
    result.figures = sorted((out_dir / "figures").glob("*.png")) if figures else []
