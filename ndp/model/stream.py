"""Long series block by block: spectra in, ``profiles.nc`` out, memory bounded.

:func:`invert_to_netcdf` gives the numbers :func:`ndp.model.invert.invert` gives, frame for frame,
but never holds more than a few blocks of :data:`~ndp.model.series.BLOCK_FRAMES` frames: the
spectra are read one block at a time from a source (an xarray Dataset, lazily opened or not,
or a function returning frames ``[start, stop)``), fitted, and appended to a chunked NetCDF-4
file along an unlimited ``time`` dimension. A day of 1-s frames of 4096 channels (2.8 GB of
counts alone in float64) then fits in the memory of a few blocks.

The series is read twice: once for what the fit needs from all of it before any frame is
fitted (the channels the spectra record, the frames λ is chosen on), once to fit it.
``counts`` and ``fit`` are stored in float32: counts are whole numbers, exact in float32 up to
2²⁴ per channel and frame, and the fit is a model expectation good to far better than 1e-7
relative only in its rounding.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from pathlib import Path

import numpy as np
import xarray as xr

from ndp.errors import NdpError, NdpWarning
from ndp.model.forward import depth_edges, sensitive_particles
from ndp.model.instrument import Instrument
from ndp.model.invert import (
    _calibration,
    _check_coverage,
    _with_tail,
    invert,
    recorded_from_keV,
    response_and_bound,
)
from ndp.model.scale import Scale
from ndp.model.series import (
    BLOCK_FRAMES,
    block_slices,
    fit_blocks,
    lambda_sample,
    series_lambda,
    series_problem,
    window_weights,
)
from ndp.physics import constants as C
from ndp.physics.detector import Detector
from ndp.physics.materials import Stack
from ndp.spectra.calibration import Calibration
from ndp.spectra.reduce import blank_counts

__all__ = ["FLOAT32_VARIABLES", "FrameSource", "invert_to_netcdf"]

#: Variables stored in float32 (see the module's note on precision).
FLOAT32_VARIABLES = ("counts", "fit")


class FrameSource:
    """Frames ``[start, stop)`` of a series on demand, as spectra Datasets (dims frame, channel).

    Parameters
    ----------
    frames : xarray.Dataset or callable
        A spectra Dataset (its ``counts`` may be lazy: opened from a file, or dask), or
        ``frames(start, stop) -> xarray.Dataset`` with ``counts`` (frame, channel),
        ``live_time_s``, ``real_time_s`` and ``start`` (frame), as the readers return them.
    n_frames : int, optional
        Frames in the series; required for a callable.
    """

    def __init__(self, frames, n_frames: int | None = None):
        if isinstance(frames, xr.Dataset):
            ds = frames
            self._get = lambda a, b: ds.isel(frame=slice(a, b))
            n_frames = ds.sizes["frame"] if n_frames is None else n_frames
        elif callable(frames):
            if n_frames is None:
                raise NdpError("frames: a function of (start, stop) needs n_frames")
            self._get = frames
        else:
            raise NdpError(f"frames: expected a spectra Dataset or a function, got {type(frames).__name__}")
        self.n_frames = int(n_frames)
        if self.n_frames < 1:
            raise NdpError(f"frames: expected at least one frame, got {self.n_frames}")

    def __call__(self, start: int, stop: int) -> xr.Dataset:
        return self._get(start, stop)

    def blocks(self) -> Iterator[tuple[slice, xr.Dataset]]:
        """Each block of :data:`BLOCK_FRAMES` frames, in order."""
        for sl in block_slices(self.n_frames):
            yield sl, self(sl.start, sl.stop)


def _counts(block: xr.Dataset) -> np.ndarray:
    y = np.asarray(block.counts.values, dtype=float)
    if np.any(y < 0):
        raise NdpError(
            "spectra: counts must be >= 0 (invert raw counts and pass the blank as background)"
        )
    return y


def _block_background(background, block: xr.Dataset, sl: slice, n_ch: int) -> np.ndarray | None:
    """Expected background counts of a block's frames, shape (F_block, n_channels), or None."""
    if background is None:
        return None
    if isinstance(background, xr.Dataset):
        return blank_counts(block, background).counts.transpose("frame", "channel").values
    if callable(background):
        b = background(sl.start, sl.stop)
    else:
        b = np.asarray(background, dtype=float)
        b = b[sl] if b.ndim == 2 and b.shape[0] > 1 else b
    shape = (sl.stop - sl.start, n_ch)
    try:
        return np.broadcast_to(np.asarray(b, dtype=float), shape).copy()
    except ValueError:
        raise NdpError(f"background: expected counts of shape (frames, channels), got {np.shape(b)} "
                       f"for frames {sl.start}–{sl.stop}") from None  # fmt: skip


def invert_to_netcdf(frames, path, stack: Stack, detector: Detector,
                     calibration: Calibration | None = None, *, n_frames: int | None = None,
                     scale: Scale | None = None, method: str = "inversion", particles: str = "auto",
                     depth_step_um: float = 0.1, max_depth_um: float | None = None,
                     li_region_um: tuple[float, float] | None = None, background=None,
                     regularization: str | float = "evidence", smoothness_order: int = 1,
                     time_zero=None, flux_weights=None, instrument: Instrument | None = None,
                     upper_rel=None, fit_range_keV=None, executor: Executor | None = None,
                     progress: Callable[[int], None] | None = None, compress: bool = True) -> Path:  # fmt: skip
    """Invert a series block by block into ``profiles.nc`` at ``path``, in bounded memory.

    The numbers are :func:`ndp.model.invert.invert`'s (same blocks, same warm starts, same λ);
    ``counts`` and ``fit`` are stored in float32. The file is written beside ``path`` and
    renamed onto it when complete.

    Parameters
    ----------
    frames : xarray.Dataset or callable
        The spectra (see :class:`FrameSource`); read twice, a block at a time.
    path : path-like
        The NetCDF-4 file to write (replaced).
    stack, detector, calibration, scale, method, particles, depth_step_um, max_depth_um,
    li_region_um, regularization, smoothness_order, time_zero, instrument, upper_rel,
    fit_range_keV, executor, progress
        As for :func:`ndp.model.invert.invert`.
    n_frames : int, optional
        Frames in the series, when ``frames`` is a function.
    background : None, xarray.Dataset, array_like or callable
        A raw blank (scaled to each block's frames by :func:`ndp.spectra.reduce.blank_counts`), the
        expected counts of shape (frames, channels) or (channels,), or
        ``background(start, stop)`` returning those of frames ``[start, stop)``.
    flux_weights : array_like of shape (frames,), optional
    compress : bool
        Deflate (level 1, shuffled) ``counts`` and ``fit``: mostly empty channels shrink ~10×.

    Returns
    -------
    pathlib.Path
        ``path``; open it with ``xarray.open_dataset`` (lazily: it may not fit in memory).
    """
    if method not in ("inversion", "direct"):
        raise NdpError(f"method: expected 'inversion' or 'direct', got {method!r}")
    source = FrameSource(frames, n_frames)
    n_f = source.n_frames
    scale = scale or Scale.relative()
    head = source(0, 1)
    cal = _calibration(head, calibration)
    n_ch = head.sizes["channel"]
    fw = None if flux_weights is None else np.broadcast_to(np.asarray(flux_weights, dtype=float), (n_f,))
    if fw is not None and not np.all(np.isfinite(fw) & (fw > 0)):
        raise NdpError("flux_weights: expected positive numbers, one per frame")
    t0 = head.start.values[0] if time_zero is None else np.datetime64(time_zero, "ns")

    # Pass 1: what the fit needs from the whole series before fitting any frame.
    total = np.zeros(n_ch)
    for _, block in source.blocks():
        total += _counts(block).sum(axis=0)
    recorded_from = recorded_from_keV(total, cal)

    common = dict(scale=scale, method=method, particles=particles, depth_step_um=depth_step_um,
                  max_depth_um=max_depth_um, li_region_um=li_region_um,
                  smoothness_order=smoothness_order, time_zero=t0, instrument=instrument,
                  upper_rel=upper_rel)  # fmt: skip
    if method == "direct":
        # Frame by frame, nothing shared: each block is invert's own result for its frames.
        def blocks_out():
            for sl, block in source.blocks():
                bkg = _block_background(background, block, sl, n_ch)
                yield sl, invert(block, stack, detector, cal, background=bkg,
                                 flux_weights=None if fw is None else fw[sl], **common)  # fmt: skip
                if progress is not None:
                    progress(sl.stop)

        template = invert(head, stack, detector, cal, background=_block_background(background, head, slice(0, 1), n_ch),
                          flux_weights=None if fw is None else fw[:1], **common)  # fmt: skip
        return _write(template, blocks_out(), Path(path), n_f, recorded_from, compress)

    names = sensitive_particles(stack, detector, "auto")
    if particles not in ("auto", "both"):
        sensitive_particles(stack, detector, particles)
    _check_coverage(stack, detector, cal, n_ch, names)
    edges = depth_edges(stack, detector, depth_step_um, names if len(names) == 1 else "auto", max_depth_um)
    n_out = edges.size - 1
    edges = _with_tail(stack, detector, names, edges)
    fit_stack, fit_detector = (stack, detector) if instrument is None else instrument.apply(stack, detector)
    resp, upper = response_and_bound(fit_stack, fit_detector, cal, n_ch, edges, names, scale=scale,
                                     li_region_um=li_region_um, recorded_from=recorded_from,
                                     fit_range_keV=fit_range_keV, upper_rel=upper_rel)  # fmt: skip
    problem = series_problem(resp, upper, order=smoothness_order, window_um=li_region_um)

    def exposure(block: xr.Dataset, sl: slice) -> np.ndarray:
        k = scale.exposure_cm2(block.live_time_s.values) * C.LI_METAL_ATOMS_CM3
        if fw is not None:
            k = k * fw[sl]
        return k

    def grouped(sl: slice, block: xr.Dataset):
        y = _counts(block)
        b = _block_background(background, block, sl, n_ch)
        b = np.zeros_like(y) if b is None else b
        return y, b

    lam_arg = "evidence" if regularization in ("evidence", "discrepancy") else float(regularization)
    sample = lambda_sample(n_f)
    picked = [(slice(int(i), int(i) + 1), source(int(i), int(i) + 1)) for i in sample]
    y_s, b_s = zip(*(grouped(sl, blk) for sl, blk in picked), strict=True)
    k_s = np.concatenate([exposure(blk, sl) for sl, blk in picked])
    lam_rel, first = series_lambda(problem, resp.group_counts(np.concatenate(y_s)),
                                   resp.group_counts(np.concatenate(b_s)), k_s, lam_arg)  # fmt: skip

    # The schema (variables, attributes, encodings) is invert's own, taken from its result for
    # the first frame with the series' λ, fit range and clock; only the numbers are ours.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NdpWarning)  # its fit is overwritten; the series' warns below
        template = invert(head, stack, detector, cal, regularization=lam_rel, fit_range_keV=fit_range_keV,
                          background=_block_background(background, head, slice(0, 1), n_ch),
                          flux_weights=None if fw is None else fw[:1], **common)  # fmt: skip
    w_win = window_weights(edges, li_region_um)
    absolute = scale.absolute
    per_areal = 1.0 / C.LI_ATOMS_PER_MAH if absolute else 1.0
    held: dict[int, tuple[xr.Dataset, np.ndarray, np.ndarray]] = {}

    def inputs():
        # The spectra of each block wait here until its fit comes back (a few blocks at most).
        for sl, block in source.blocks():
            y, b = grouped(sl, block)
            held[sl.start] = (block, y, b)
            yield sl, resp.group_counts(y), resp.group_counts(b), exposure(block, sl)

    worst = [0.0]

    def blocks_out():
        done = 0
        for sl, part in fit_blocks(problem, inputs(), lam_rel, first, executor=executor):
            block, y, b = held.pop(sl.start)
            fit = part["fit"]
            fit[:, resp.roi] += b[:, resp.roi]
            # As invert: density from the fit, inventory over the window with the tail bins.
            dens = part["c"] * C.LI_METAL_ATOMS_CM3
            err = np.sqrt(np.maximum(part["variance"], 0.0)) * C.LI_METAL_ATOMS_CM3
            areal = np.nan_to_num(dens) @ w_win
            areal_err = np.sqrt(part["window_var"] * C.LI_METAL_ATOMS_CM3**2)
            dens, err = dens[:, :n_out], err[:, :n_out]
            chi2 = part["chi2"]
            if np.any(np.isfinite(chi2)):
                worst[0] = max(worst[0], float(np.nanmax(chi2)))
            start = block.start.values
            t_start = (start - t0) / np.timedelta64(1, "s")
            real = block.real_time_s.values
            values = {
                "li_density": dens, "li_density_err": err,
                "li_density_rel": dens / C.LI_METAL_ATOMS_CM3 if absolute else dens * np.nan,
                "li_areal": areal, "li_areal_err": areal_err, "li_capacity": areal * per_areal,
                "li_capacity_err": areal_err * per_areal, "counts": y, "fit": fit, "chi2_per_channel": chi2,
                "lambda": np.full(len(chi2), lam_rel), "converged": part["converged"].astype("int8"),
                "iterations": part["iterations"], "time_bounds": np.stack([t_start, t_start + real], axis=1),
                "time": t_start + real / 2, "start": start, "live_time_s": block.live_time_s.values,
                "real_time_s": real,
            }  # fmt: skip
            yield sl, _like(template, values)
            done += sl.stop - sl.start
            if progress is not None:
                progress(done)

    out = _write(template, blocks_out(), Path(path), n_f, recorded_from, compress)
    if worst[0] > 3.0:
        warnings.warn(
            f"the best fit leaves χ²/channel = {worst[0]:.3g}: the model does not describe the spectra "
            "(check the stack and its matrix, the calibration and the background)",
            NdpWarning, stacklevel=2,
        )  # fmt: skip
    return out


def _like(template: xr.Dataset, values: dict[str, np.ndarray]) -> xr.Dataset:
    """``template`` with its time-dependent variables replaced by ``values`` (a block's)."""
    data = {}
    for name, var in template.variables.items():
        if "time" in var.dims:
            data[name] = xr.Variable(var.dims, values[name], var.attrs)
        else:
            data[name] = var
    coords = [n for n in template.coords]
    ds = xr.Dataset({n: v for n, v in data.items() if n not in coords},
                    coords={n: data[n] for n in coords}, attrs=template.attrs)  # fmt: skip
    return ds


def _encoding(ds: xr.Dataset, compress: bool) -> dict[str, dict]:
    """Chunked along time (a block per chunk), float32 for counts and fit."""
    enc = {}
    for name, var in ds.variables.items():
        if "time" not in var.dims:
            continue
        e: dict = {"chunksizes": (BLOCK_FRAMES, *var.shape[1:])}
        if name in FLOAT32_VARIABLES:
            e["dtype"] = "float32"
            if compress:
                e.update(compression="gzip", compression_opts=1, shuffle=True)
        if np.issubdtype(var.dtype, np.datetime64):
            # One unit for every block, exact at the list-mode clock's nanoseconds.
            e.update(units=f"nanoseconds since {np.datetime_as_string(var.values[0], unit='s')}", dtype="int64")
        enc[name] = e
    return enc


def _write(template: xr.Dataset, blocks: Iterator[tuple[slice, xr.Dataset]], path: Path, n_frames: int,
           recorded_from: float, compress: bool) -> Path:  # fmt: skip
    """Write the schema with xarray (variables, attributes, CF encodings) from ``template``,
    then each block, in whatever order they come, into the file's ``time`` dimension, encoded
    as the file says."""
    import h5netcdf  # only where a NetCDF file is written

    part = path.with_name(f".{path.name}.part")
    part.unlink(missing_ok=True)
    template.attrs["recorded_from_keV"] = recorded_from
    enc = _encoding(template, compress)
    template.to_netcdf(part, engine="h5netcdf", unlimited_dims=["time"], encoding=enc)
    with xr.open_dataset(part, engine="h5netcdf", decode_timedelta=False) as f:
        encodings = {n: f.variables[n].encoding for n in enc}
    try:
        with h5netcdf.File(part, "a") as nc:
            nc.resize_dimension("time", n_frames)
        # Open only while a block is written: a worker process forked while the file is open
        # would hold its lock for as long as it lives.
        for sl, ds in blocks:
            raw = {}
            for name, keep in encodings.items():
                var = ds.variables[name].copy(deep=False)
                var.encoding = {k: keep[k] for k in ("units", "calendar", "dtype", "_FillValue") if k in keep}
                raw[name] = xr.conventions.encode_cf_variable(var, name=name).values
            with h5netcdf.File(part, "a") as nc:
                for name, values in raw.items():
                    nc.variables[name][sl] = values
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, path)
    return path
