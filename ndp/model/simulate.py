"""Simulated NDP spectra of a known Li profile: the basis of the demo and of the tests.

The forward model (:mod:`ndp.model.forward`) gives the expected counts of a profile; Poisson sampling
with a fixed seed gives a measurement. A time series of profiles gives one frame each.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import xarray as xr

from ndp.errors import FileFormatError, NdpError
from ndp.model.forward import response_matrix, sensitive_particles
from ndp.model.scale import Scale
from ndp.physics.constants import LI_METAL_ATOMS_CM3
from ndp.physics.detector import Detector
from ndp.physics.kinematics import max_depth
from ndp.physics.materials import Stack
from ndp.spectra.calibration import Calibration
from ndp.spectra.dataset import MAX_CHANNELS, make_spectra

__all__ = ["profile_on_grid", "simulate"]


def _fine_edges(stack: Stack, detector: Detector, particles, step_um: float | None) -> np.ndarray:
    names = sensitive_particles(stack, detector, particles)
    top = max(float(max_depth(stack.to_array(p), detector.threshold_keV)) for p in names)
    top = min(top * 1.02 + 1e-6, stack.region_thickness_um)
    if step_um is None:
        step_um = top / 2000.0
    n = max(int(np.ceil(top / step_um)), 1)
    return np.linspace(0.0, min(n * step_um, stack.region_thickness_um), n + 1)


def profile_on_grid(profile, edges_um: np.ndarray, n_sub: int = 8) -> np.ndarray:
    """Bin averages of a Li profile over depth bins.

    Parameters
    ----------
    profile : callable or xarray.DataArray
        ``f(depth_um) -> atoms/cm³`` (vectorised), or a DataArray with a ``depth`` (µm)
        dimension (and optionally ``frame``/``time`` first), interpolated linearly.
    edges_um : ndarray of shape (n + 1,)

    Returns
    -------
    ndarray of shape (n,) or (frames, n)
    """
    width = np.diff(edges_um)
    x = edges_um[:-1, None] + width[:, None] * ((np.arange(n_sub) + 0.5) / n_sub)[None, :]
    if callable(profile) and not isinstance(profile, xr.DataArray):
        values = np.asarray(profile(x), dtype=float)
        return values.mean(axis=-1)
    if isinstance(profile, xr.DataArray):
        if "depth" not in profile.dims:
            raise NdpError("truth profile: expected a 'depth' dimension (µm)")
        depth = profile.depth.values
        data = profile.transpose(..., "depth").values
        if x.max() > depth.max() + 1e-9:
            raise NdpError(
                f"truth profile: defined to {depth.max():g} µm, but the stack is seen to {x.max():g} µm"
            )
        flat = data.reshape(-1, depth.size)
        out = np.stack([np.interp(x, depth, row).mean(axis=-1) for row in flat])
        return out.reshape(*data.shape[:-1], width.size)
    raise NdpError("truth profile: expected a function of depth or a DataArray over depth")


def simulate(
    stack: Stack,
    detector: Detector,
    calibration: Calibration,
    profile: Callable | xr.DataArray,
    *,
    scale: Scale,
    n_channels: int = 4096,
    live_time_s=600.0,
    real_time_s=None,
    start=None,
    frame_s: float | None = None,
    background_cps: float = 0.0,
    particles="auto",
    depth_step_um: float | None = None,
    seed: int | None = 0,
    poisson: bool = True,
) -> xr.Dataset:
    """Spectra (expected or Poisson-sampled) of a known Li profile.

    Parameters
    ----------
    stack, detector, calibration
        The measurement.
    profile : callable or xarray.DataArray
        Li density, atoms/cm³: ``f(depth_um)``, or a DataArray over ``depth`` with an optional
        leading ``frame`` dimension for a time series (one frame each).
    scale : Scale
        Counts per Li atom/cm² per live second (:class:`ndp.model.scale.Scale`).
    n_channels : int
    live_time_s, real_time_s : float or array_like of shape (frames,)
        Per frame; real time defaults to live time.
    start : datetime64, optional
        Start of the first frame; frames follow every ``frame_s`` (default: their real time).
    background_cps : float
        Flat background, counts per second per channel.
    particles : {"auto", "alpha", "triton"}
    depth_step_um : float, optional
        Step of the fine grid the truth is sampled on (default: 2000 bins over the seen depth).
    seed : int or None
        Seed of the Poisson sampling (fixed by default: simulations are reproducible).
    poisson : bool
        Sample counts (True) or return expected counts (False).

    Returns
    -------
    xarray.Dataset
        Spectra as the readers return them, calibrated (``energy`` coordinate), with the
        expected counts in ``expected`` and the truth in ``attrs``.
    """

    if (
        isinstance(n_channels, bool)
        or not isinstance(n_channels, int | np.integer)
        or not 0 < n_channels <= MAX_CHANNELS
    ):
        raise NdpError(
            f"n_channels: expected a whole number from 1 to {MAX_CHANNELS}, got {n_channels!r}"
        )
    for name, value in (("live_time_s", live_time_s), ("real_time_s", real_time_s)):
        v = np.asarray(value if value is not None else 1.0, dtype=float)
        if not np.all(np.isfinite(v) & (v > 0)):
            raise NdpError(f"{name}: expected finite times > 0 s, got {value!r}")
    edges = _fine_edges(stack, detector, particles, depth_step_um)
    dens = np.atleast_2d(profile_on_grid(profile, edges))
    if np.any(dens < 0) or not np.all(np.isfinite(dens)):
        raise NdpError("truth profile: Li density must be finite and >= 0")
    n_frames = dens.shape[0]
    names = sensitive_particles(stack, detector, particles)
    r = sum(response_matrix(stack, p, detector, calibration, n_channels, edges) for p in names)
    live = np.broadcast_to(np.asarray(live_time_s, dtype=float), (n_frames,))
    real = (
        live
        if real_time_s is None
        else np.broadcast_to(np.asarray(real_time_s, float), (n_frames,))
    )
    expected = scale.exposure_cm2(live)[:, None] * (dens @ r.T) + background_cps * live[:, None]
    rng = np.random.default_rng(seed)
    counts = rng.poisson(expected) if poisson else expected
    t0 = np.datetime64("2020-01-01T00:00:00") if start is None else np.datetime64(start, "ns")
    step = real if frame_s is None else np.full(n_frames, float(frame_s))
    offsets = np.concatenate([[0.0], np.cumsum(step)[:-1]])
    starts = t0 + (offsets * 1e9).astype("timedelta64[ns]")
    ds = make_spectra(
        counts, start=starts, live_time_s=live, real_time_s=real, source="simulated",
        fmt="simulated", calibration=list(calibration.coefficients),
    )  # fmt: skip
    ds["expected"] = (("frame", "channel"), expected, {"units": "counts"})
    ds.attrs.update(
        particles=",".join(names), stack=repr(stack), seed=-1 if seed is None else seed,
        scale_per_second_cm2=scale.per_second_cm2,
    )  # fmt: skip
    return ds


def read_truth(path) -> xr.DataArray:
    """Read a truth profile CSV: ``depth_um`` and ``li_density_cm3`` (or ``li_density_rel``),
    with an optional ``frame`` column for a series (one profile per frame, long format).

    Returns
    -------
    xarray.DataArray
        Li density, atoms/cm³, dims (``depth``) or (``frame``, ``depth``).
    """
    import pandas as pd  # pandas costs ~0.3 s to import; only this path needs it


    try:
        df = pd.read_csv(path, comment="#")
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise FileFormatError(
            path, f"cannot read the truth profile ({str(exc).splitlines()[0]})"
        ) from None
    if "depth_um" not in df:
        raise FileFormatError(path, f"expected a 'depth_um' column, found {', '.join(df.columns)}")
    if "li_density_cm3" in df:
        values = df["li_density_cm3"]
    elif "li_density_rel" in df:
        values = df["li_density_rel"] * LI_METAL_ATOMS_CM3
    else:
        raise FileFormatError(path, "expected a 'li_density_cm3' or 'li_density_rel' column")
    for name, col in (("depth_um", df["depth_um"]), ("density", values)):
        bad = ~np.isfinite(pd.to_numeric(col, errors="coerce").to_numpy(dtype=float))
        if bad.any():
            raise FileFormatError(path, f"{name}: expected numbers", int(np.argmax(bad)) + 2)
    df = df.assign(_v=values.astype(float))
    if "frame" not in df:
        df = df.sort_values("depth_um")
        return xr.DataArray(df["_v"].to_numpy(), dims="depth", coords={"depth": df["depth_um"].to_numpy()},
                            attrs={"units": "atoms/cm3"})  # fmt: skip
    frames = []
    depth = None
    for _, g in df.groupby("frame", sort=True):
        g = g.sort_values("depth_um")
        if depth is None:
            depth = g["depth_um"].to_numpy()
        frames.append(np.interp(depth, g["depth_um"].to_numpy(), g["_v"].to_numpy()))
    return xr.DataArray(np.vstack(frames), dims=("frame", "depth"), coords={"depth": depth},
                        attrs={"units": "atoms/cm3"})  # fmt: skip
