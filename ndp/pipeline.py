"""The whole pipeline of one beamtime run: run file → spectra → profiles → cycles → outputs.

:func:`run` does what ``ndp run RUN.toml`` does and returns the results, so a notebook can do
anything the command does. Outputs are built in a temporary folder beside the output folder and
moved into place only when complete: an interrupted run leaves no partial outputs, and a run
never writes over its inputs. The inversion writes ``profiles.nc`` block by block of frames
(:mod:`ndp.model.stream`), so profiles and fits of a long series are never all in memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import tempfile
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ndp import __version__
from ndp.cycling.cycler import read_cycler
from ndp.cycling.cycles import cycles, half_cycles
from ndp.cycling.efficiency import COLUMNS as CYCLE_COLUMNS
from ndp.cycling.efficiency import align, efficiency_table, host_li, measured_host_li
from ndp.cycling.indicators import indicators
from ndp.errors import NdpError
from ndp.fileio import held_lock, lock_output, publish_folder
from ndp.model.bounds import apparent_metal_density_rel
from ndp.model.instrument import Instrument, InstrumentFit
from ndp.model.invert import fit_instrument, invert
from ndp.model.matrix import self_consistent
from ndp.model.scale import Scale, is_absolute
from ndp.model.series import BLOCK_FRAMES
from ndp.model.stream import invert_to_netcdf
from ndp.parallel import executor
from ndp.physics.constants import LI_METAL_ATOMS_CM3
from ndp.runfile import RunConfig, load_run
from ndp.spectra.calibration import Calibration, fit_b10, fit_li6
from ndp.spectra.framing import frame_events
from ndp.spectra.io import expand, read_spectra, spool_spectra
from ndp.spectra.io.listmode import iter_events, listmode_start
from ndp.spectra.reduce import blank_counts, flux_weights

__all__ = ["CYCLE_COLUMNS", "RunResult", "load_result", "run"]

logger = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What a run produced (also written to the output folder).

    Attributes
    ----------
    config : RunConfig
    spectra : xarray.Dataset
    profiles : xarray.Dataset
        ``profiles.nc``'s content; opened lazily from the output folder when the frames were
        streamed into it (every method but the self-consistent matrix), so a long series'
        counts and fits are read when asked for, not held.
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
    instrument: InstrumentFit | None = None

    @property
    def valid(self) -> bool:
        """Whether the model describes the data (see ``profiles.attrs["validity"]``)."""
        return bool(self.profiles.attrs.get("valid", 1))


#: Median χ²/channel above which the model does not describe the spectra.
CHI2_VALID = 2.0


def _instrument(cfg: RunConfig, spectra, cal, scale, background, weights, progress):
    """Instrument corrections: fitted to the summed spectrum where the run file frees them."""

    ins = cfg.instrument
    fixed = Instrument(ins.window.nominal, ins.width.nominal)
    if cfg.analysis.method != "inversion" or not (ins.window.free or ins.width.free):
        return fixed, None
    if progress is not None:
        progress("fitting the instrument", 0, 1)
    fit = fit_instrument(spectra, cfg.stack, cfg.detector, cal, scale=scale, background=background,
                         depth_step_um=cfg.analysis.depth_step_um, window=ins.window, width=ins.width,
                         flux_weights=weights, upper_rel=cfg.analysis.max_li_density_rel,
                         fit_range_keV=cfg.analysis.fit_range_keV,
                         surface_contact=ins.surface_contact)  # fmt: skip
    if progress is not None:
        progress("fitting the instrument", 1, 1)
    return fit.instrument, fit


def _assess(profiles: xr.Dataset, table: pd.DataFrame, fit: InstrumentFit | None) -> None:
    """Say in the results whether they can be trusted: the model adequacy is a result."""
    reasons = []
    chi2 = profiles.chi2_per_channel.values
    med = float(np.nanmedian(chi2)) if np.isfinite(chi2).any() else float("nan")
    if profiles.attrs.get("method") == "inversion" and not med <= CHI2_VALID:
        reasons.append(f"median chi2/channel {med:.3g} > {CHI2_VALID:g}: the model does not describe the spectra")
    if "converged" in profiles:
        bad = np.flatnonzero(profiles.converged.values == 0)
        if bad.size:
            reasons.append(f"solver did not converge in frame(s) {', '.join(str(int(i)) for i in bad[:20])}"
                           + (" …" if bad.size > 20 else ""))  # fmt: skip
    if fit is not None:
        inst = fit.instrument
        profiles.attrs.update(
            instrument_free=",".join(fit.free),
            instrument_window_scale=float(inst.window_scale),
            instrument_window_scale_err=float(fit.errors["window_scale"]),
            instrument_width_scale=float(inst.width_scale),
            instrument_width_scale_err=float(fit.errors["width_scale"]),
            instrument_chi2_per_channel=float(fit.chi2_per_channel),
            instrument_chi2_per_channel_declared=float(fit.chi2_declared),
            instrument_notes="; ".join(fit.notes),
        )  # fmt: skip
    profiles.attrs["chi2_per_channel_median"] = med
    profiles.attrs["valid"] = int(not reasons)
    profiles.attrs["validity"] = "; ".join(reasons) if reasons else "ok"
    if len(table):
        table["valid"] = int(not reasons)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _expand(cfg: RunConfig, key: str, patterns) -> list[Path]:
    try:
        return expand(patterns, base=cfg.base)
    except NdpError as exc:
        raise cfg.error(f"run.{key}", str(exc)) from None


def _calibration(cfg: RunConfig, inputs: list[Path]) -> Calibration:
    if cfg.calibration is None:
        raise cfg.error("detector.calibration", "missing: give [c0, c1] in keV or a reference spectrum",
                        at="detector")  # fmt: skip
    if isinstance(cfg.calibration, tuple):
        return Calibration(cfg.calibration)

    ref = _expand(cfg, "calibration", [cfg.calibration])
    inputs += ref
    fit = (fit_b10 if cfg.calibration_standard == "b10" else fit_li6)(read_spectra(ref), detector=cfg.detector)
    return fit.calibration


#: Runs of more spectrum files than this keep their counts on disk (``spool_spectra``) while
#: the frames stream through the inversion: a day of 1-s frames is 2.8 GB of counts.
SPOOL_FILES = 4096


def _read_spectra(cfg: RunConfig, inputs: list[Path], progress, out_dir: Path) -> xr.Dataset:
    if cfg.spectra:
        files = _expand(cfg, "spectra", cfg.spectra)
        inputs += files
        if len(files) > SPOOL_FILES:
            out_dir.parent.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.spectra.", dir=out_dir.parent))
            try:
                spooled = spool_spectra(files, folder / "spectra.nc", progress=progress)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            # The counts stay readable while the run's spectra are used (RunResult.spectra).
            weakref.finalize(spooled, shutil.rmtree, folder, True)
            return spooled
        return read_spectra(files, progress=progress)
    if cfg.listmode:
        files = _expand(cfg, "listmode", cfg.listmode)
        if len(files) != 1:
            raise cfg.error("run.listmode", f"expected one list-mode file, {len(files)} match")
        inputs += files
        start = listmode_start(files[0])
        if np.isnat(start) and cfg.time_zero is not None:
            start = np.datetime64(cfg.time_zero, "ns")
        return frame_events(
            iter_events(files[0], reuse=True), frame_s=cfg.frame_s, start=start, source=str(files[0])
        )
    raise cfg.error("run", "give run.spectra (files, a glob) or run.listmode")


def _blank_counts(cfg: RunConfig, inputs: list[Path], spectra: xr.Dataset) -> np.ndarray | None:
    """The beam-on blank's counts in each frame (frames, channels), scaled by ndp.spectra.reduce."""
    if not cfg.background:
        return None

    files = _expand(cfg, "background", cfg.background)
    inputs += files
    try:
        blank = blank_counts(spectra, read_spectra(files))
    except NdpError as exc:
        raise cfg.error("run.background", str(exc)) from None
    return blank.counts.transpose("frame", "channel").values


def run(run_file, *, output=None, force: bool = False, progress: Callable[[str, int, int], None] | None = None,
        figures: bool = True, jobs: int | None = None, scheduler: str | None = None) -> RunResult:  # fmt: skip
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
    jobs : int, optional
        Processes for the inversion; None or 0: every available core (:func:`ndp.parallel.executor`).
    scheduler : str, optional
        A ``dask.distributed`` scheduler's address to run the inversion on instead.

    Returns
    -------
    RunResult
    """

    cfg = load_run(run_file)
    out_dir = Path(output) if output is not None else cfg.base / f"{Path(run_file).stem}-ndp"
    out_dir = out_dir.resolve()
    # The SRIM tables are inputs too: a run file means what its files say, on every machine.
    inputs: list[Path] = [Path(run_file).resolve(), *(Path(f).resolve() for f in cfg.srim_files)]

    def tick(stage):
        return None if progress is None else (lambda done, total=0: progress(stage, done, total))

    spectra = _read_spectra(cfg, inputs, tick("reading spectra"), out_dir)
    logger.info("%s: %d frames x %d channels", cfg.path or "run", spectra.sizes["frame"],
                spectra.sizes["channel"])
    cal = _calibration(cfg, inputs)
    logger.info("calibration: %s", cal)
    background = _blank_counts(cfg, inputs, spectra)
    log = None
    if cfg.cycler:
        cyc = cfg.resolve(cfg.cycler)
        if not cyc.exists():
            raise cfg.error("run.cycler", f"{cfg.cycler}: no such file")
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
    # Counts over live time (dead time), the blank scaled to each frame and the beam monitor's
    # flux drift all come from ndp.spectra.reduce; the inversion fits the raw counts.
    weights = flux_weights(spectra)
    instrument, inst_fit = _instrument(cfg, spectra, cal, scale, background, weights, progress)
    logger.info("instrument: window areal density x %.4f, width x %.3f (%s)", instrument.window_scale,
                instrument.width_scale, "fitted" if inst_fit is not None else "declared")
    kwargs = dict(
        scale=scale, method=cfg.analysis.method, particles=cfg.analysis.particles,
        depth_step_um=cfg.analysis.depth_step_um, li_region_um=cfg.analysis.li_region_um,
        background=background, time_zero=time_zero, flux_weights=weights, instrument=instrument,
        upper_rel=cfg.analysis.max_li_density_rel, regularization=cfg.analysis.regularization,
        fit_range_keV=cfg.analysis.fit_range_keV,
        progress=None if progress is None else (lambda i: progress("inverting frames", i, n)),
    )  # fmt: skip
    # The self-consistent matrix rescales every frame's profile after the fit: it needs them
    # all at once. Otherwise frames go block by block into profiles.nc (ndp.model.stream), so the
    # profiles and fits of a long series are never all in memory.
    streamed = cfg.analysis.matrix != "self-consistent"
    scratch = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.frames.", dir=out_dir.parent)) if streamed else None
    try:
        return _analyse(run_file, cfg, spectra, cal, log, inputs, out_dir, force, figures, inst_fit,
                        scratch, kwargs, jobs=jobs, scheduler=scheduler)  # fmt: skip
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _analyse(run_file, cfg: RunConfig, spectra: xr.Dataset, cal: Calibration, log, inputs: list[Path],
             out_dir: Path, force: bool, figures: bool, inst_fit, scratch: Path | None, kwargs: dict, *,
             jobs, scheduler) -> RunResult:  # fmt: skip
    """Profiles, cycles, indicators and outputs of :func:`run` (profiles streamed into
    ``scratch/profiles.nc`` when given, see :func:`_open_profiles`)."""

    n = spectra.sizes["frame"]
    logger.info("inverting %d frames (%s, %s particles, depth step %g um)", n, cfg.analysis.method,
                cfg.analysis.particles, cfg.analysis.depth_step_um)
    # A pool only pays for itself with more than one block of frames.
    with executor(1 if n <= BLOCK_FRAMES and scheduler is None else jobs, scheduler=scheduler) as pool:
        if scratch is None:
            profiles = invert(spectra, cfg.stack, cfg.detector, cal, executor=pool, **kwargs)
        else:
            invert_to_netcdf(spectra, scratch / "profiles.nc", cfg.stack, cfg.detector, cal,
                             executor=pool, **kwargs)  # fmt: skip
    if scratch is not None:
        profiles = _open_profiles(scratch / "profiles.nc")
    if cfg.analysis.matrix == "self-consistent":
        profiles = self_consistent(profiles, cfg.stack)

    declared = cfg.stack.profiled.material.li_atoms_cm3
    measured = (np.nan, np.nan, 0)
    table = pd.DataFrame(columns=CYCLE_COLUMNS)
    halves = ind = None
    shift = 0.0
    if log is not None:
        shift = align(profiles, log, cfg.cycler_offset_s)
        halves = half_cycles(log, plating=cfg.plating)
        if is_absolute(profiles):
            measured = measured_host_li(profiles, halves, shift_s=shift)

    host, host_err, host_source = host_li(cfg.analysis.host_li, declared_cm3=declared, measured=measured)
    logger.info("host Li displaced by the deposit: %.4g atoms/cm3 (%s)", host, host_source)
    if log is not None:
        # Host and deposit in the same apparent units: the matrix the window's depth is in.
        particle = profiles.attrs["particles"].split(",")[0]
        metal = apparent_metal_density_rel(cfg.stack.profiled.material, particle) * LI_METAL_ATOMS_CM3
        table = efficiency_table(profiles, halves, cycles(halves), shift_s=shift, area_cm2=cfg.area_cm2,
                                 host_li_cm3=host, metal_li_cm3=metal)  # fmt: skip
        log = log.assign(time_s=log.time_s + shift)
        halves = halves.assign(start_s=halves.start_s + shift, end_s=halves.end_s + shift)
    if is_absolute(profiles):
        ind = indicators(profiles)

    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    profiles.attrs.update(
        title=f"ndp Li depth profiles: {cfg.name}",
        source=f"ndp {__version__}, ndp run",
        history=f"{created} ndp run {Path(run_file).name}",
        ndp_version=__version__,
        run_name=cfg.name,
        run_file=str(Path(run_file).resolve()),
        config=json.dumps(cfg.raw, default=str),
        input_sha256=json.dumps({str(p): _sha256(p) for p in inputs}),
        created=created,
        host_li_cm3=host,
        host_li_err_cm3=host_err,
        host_li_source=host_source,
        host_li_measured_cm3=measured[0],
        host_li_measured_err_cm3=measured[1],
    )  # fmt: skip
    _assess(profiles, table, inst_fit)
    result = RunResult(cfg, spectra, profiles, table, log, halves, ind, out_dir, instrument=inst_fit)
    _write(result, out_dir, force, figures)
    return result


def _check_output(out_dir: Path, inputs: list[Path], force: bool) -> None:
    real = out_dir.resolve()  # links resolved: a link into an input folder is that folder
    for p in inputs:
        if real == p.resolve() or real in p.resolve().parents:
            raise NdpError(
                f"--output {out_dir}: holds the input {p}; choose another folder (inputs are never written)"
            )
    if out_dir.exists() and not out_dir.is_dir():
        raise NdpError(f"--output {out_dir}: is a file; expected a folder (files are never replaced)")
    lock = lock_output(out_dir)  # held until _write has swapped the outputs in
    if out_dir.exists() and not force:
        lock.release()
        raise NdpError(f"{out_dir} exists; use --force to replace its outputs")
    if out_dir.exists() and not (out_dir / "profiles.nc").exists() and any(out_dir.iterdir()):
        lock.release()
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
    ]
    if p.attrs.get("valid", 1):
        lines.insert(0, f"VALID: the model describes the spectra (median chi2/channel {p.attrs.get('chi2_per_channel_median', float('nan')):.3g})")
    else:
        lines.insert(0, f"NOT VALID: {p.attrs['validity']}. Look at figures/spectra before using any number below.")
    if "instrument_window_scale" in p.attrs:
        a = p.attrs
        lines.append(
            f"instrument (fitted to the summed spectrum; free: {a['instrument_free'] or 'none'}): "
            f"window areal density x {a['instrument_window_scale']:.4f} ± {a['instrument_window_scale_err']:.4f}, "
            f"width x {a['instrument_width_scale']:.3f} ± {a['instrument_width_scale_err']:.3f}; "
            f"summed-spectrum chi2/channel {a['instrument_chi2_per_channel']:.3g} "
            f"(declared instrument: {a['instrument_chi2_per_channel_declared']:.3g})"
        )
    rec, thr = p.attrs.get("recorded_from_keV", 0.0), p.attrs.get("threshold_keV", 0.0)
    if rec > thr + 2.0 * result.config.detector.resolution_keV:
        lines.append(f"the spectra record nothing below {rec:.0f} keV although the declared threshold is "
                     f"{thr:g} keV: fitted from {rec:.0f} keV (set [detector] threshold_keV to the discriminator)")  # fmt: skip
    if "lambda" in p:
        lines.append(f"smoothing: lambda {float(p['lambda'].values[0]):.3g} (relative; by the evidence) for every frame; "
                     f"{int(p.converged.sum())}/{p.sizes['time']} frames converged")  # fmt: skip
    if "host_li_source" in p.attrs:
        lines.append(f"host Li in the window: {p.attrs['host_li_cm3']:.4g} ± {p.attrs['host_li_err_cm3']:.2g} "
                     f"atoms/cm3 ({p.attrs['host_li_source']})")  # fmt: skip
        m, me = p.attrs.get("host_li_measured_cm3", np.nan), p.attrs.get("host_li_measured_err_cm3", np.nan)
        if np.isfinite(m) and p.attrs["host_li_cm3"] > 0 and not p.attrs["host_li_source"].startswith("measured"):
            # The host's Li is known twice: from its declaration and from the counts. Their ratio
            # checks the absolute scale (area, flux, solid angle, 6Li abundance).
            lines.append(f"host Li measured before the first plating: {m:.4g} ± {me:.2g} atoms/cm3, "
                         f"{m / p.attrs['host_li_cm3']:.3f} × the declared (a check of the absolute scale)")  # fmt: skip
    lines.append("")
    if len(t):
        show = t[CYCLE_COLUMNS].copy()
        if is_absolute(p):
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
            if errs:  # no cycle with both halves: nothing to say, not an empty line
                lines.append(f"Li efficiency 1σ: {errs}")
        if result.log is not None and result.log.attrs.get("dropped_rows"):
            lines.append(f"cycler log: {result.log.attrs['dropped_rows']} row(s) without a readable time or current skipped")
        if result.halves is not None:
            lines += [f"cycler log: {n}" for n in result.halves.attrs.get("notices", [])]
    else:
        lines.append("No cycler log: no per-cycle table.")
    lines.append("")
    lines.append(f"Li inventory (window {p.attrs['li_region_um']} µm), first → last frame: "
                 f"{float(p.li_capacity[0]):.4g} → {float(p.li_capacity[-1]):.4g} "
                 f"{'mAh/cm2' if is_absolute(p) else 'arbitrary units'}")  # fmt: skip
    return "\n".join(lines) + "\n"


def _write(result: RunResult, out_dir: Path, force: bool, figures: bool) -> None:
    streamed = _file_backed(result.profiles)

    def build(tmp: Path) -> None:
        if streamed:
            # Already written frame block by frame block: moved in, with the run's attributes.
            src, attrs = Path(result.profiles.encoding["source"]), dict(result.profiles.attrs)
            result.profiles.close()
            os.replace(src, tmp / "profiles.nc")
            _set_attrs(tmp / "profiles.nc", attrs)
            result.profiles = _open_profiles(tmp / "profiles.nc")
        else:
            result.profiles.to_netcdf(tmp / "profiles.nc", engine="h5netcdf")
        result.cycles.to_csv(tmp / "cycles.csv", index=False, float_format="%.6g")
        (tmp / "summary.txt").write_text(_summary(result), encoding="utf-8")
        if figures:
            # matplotlib costs about 0.3 s to import: paid only when figures are drawn.
            from ndp.plot import save_run_figures

            save_run_figures(result, tmp / "figures")

    # The lock _check_output took; publish_folder swaps the outputs in whole and releases it.
    publish_folder(out_dir, build, lock=held_lock(out_dir))
    if streamed:
        result.profiles.close()
        result.profiles = _open_profiles(out_dir / "profiles.nc")
    result.output = out_dir
    result.figures = sorted((out_dir / "figures").glob("*.png")) if figures else []


def _open_profiles(path: Path) -> xr.Dataset:
    """``profiles.nc`` opened lazily: its (time × channel) counts and fits are read when asked
    for, and not kept (a day of frames would not fit in memory)."""
    return xr.open_dataset(path, engine="h5netcdf", cache=False)


def _file_backed(profiles: xr.Dataset) -> bool:
    return "source" in profiles.encoding and Path(profiles.encoding["source"]).is_file()


def _set_attrs(path: Path, attrs: dict) -> None:
    """Write a Dataset's global attributes into a NetCDF-4 file, as xarray would."""
    import h5netcdf  # only where a NetCDF file is written

    with h5netcdf.File(path, "a") as nc:
        for key in set(nc.attrs) - set(attrs):
            del nc.attrs[key]
        for key, value in attrs.items():
            nc.attrs[key] = value


def load_result(folder) -> RunResult:
    """Read an ``ndp run`` output folder back as a :class:`RunResult`, for notebooks.

    ``profiles``, ``cycles``, ``indicators`` (absolute scale only) and ``figures`` come from the
    folder. The spectra are not stored (each frame's counts and fit are in ``profiles``), so
    ``spectra`` is None. The run file (``profiles.attrs["run_file"]``) gives ``config``, and its
    cycler log, read again and put on the NDP clock, ``log`` and ``halves``; they are None when
    the run file is no longer there, or when the cycler file is not the one the run read (its
    SHA-256 differs).

    Raises
    ------
    NdpError
        When ``folder`` holds no ``profiles.nc``.
    """
    folder = Path(folder)
    nc = folder / "profiles.nc"
    if not nc.is_file():
        raise NdpError(f"{folder}: not an ndp run output folder (no profiles.nc)")
    profiles = _open_profiles(nc)
    for name, var in profiles.variables.items():
        if "channel" not in var.dims:  # everything but the (time × channel) counts and fits
            profiles[name].load()
    csv = folder / "cycles.csv"
    table = pd.read_csv(csv) if csv.is_file() else pd.DataFrame(columns=CYCLE_COLUMNS)
    cfg = log = halves = ind = None
    run_file = Path(str(profiles.attrs.get("run_file", "")))
    if run_file.name and run_file.is_file():
        cfg = load_run(run_file)
        hashes = json.loads(profiles.attrs.get("input_sha256", "{}"))
        cyc = cfg.resolve(cfg.cycler) if cfg.cycler else None
        sha = _sha256(cyc) if cyc is not None and cyc.is_file() else None
        if sha is not None and hashes.get(str(cyc), sha) == sha:
            log = read_cycler(cyc)
            shift = align(profiles, log, cfg.cycler_offset_s)
            halves = half_cycles(log, plating=cfg.plating)
            log = log.assign(time_s=log.time_s + shift)
            halves = halves.assign(start_s=halves.start_s + shift, end_s=halves.end_s + shift)
    if is_absolute(profiles):
        ind = indicators(profiles)
    return RunResult(cfg, None, profiles, table, log, halves, ind, folder.resolve(),
                     figures=sorted((folder / "figures").glob("*.png")))  # fmt: skip
