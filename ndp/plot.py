"""Publication figures: one function per figure, data in, ``matplotlib.figure.Figure`` out.

Figures are built without pyplot (no global state, no backend switching), sized for a journal
(single column 3.4 in, double 7.0 in), with units on every axis and a perceptually uniform
colour map. Notebooks restyle what these return; :func:`save_run_figures` writes a run's set as
PNG and PDF.

Every figure is an :class:`InlineFigure`: a plain Matplotlib figure on the Agg canvas that also
tells IPython how to show itself (``_repr_mimebundle_``), so a figure returned by a notebook cell
is drawn inline (PNG, or SVG with :func:`set_inline_formats`) without importing pyplot.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ndp.model.scale import is_absolute
from ndp.physics import constants as C
from ndp.physics.resolution import depth_scale
from ndp.spectra.reduce import total_counts

__all__ = [
    "InlineFigure",
    "efficiency_plot",
    "heatmap",
    "instrument_plot",
    "inventory_plot",
    "profiles_plot",
    "resolution_plot",
    "save_run_figures",
    "set_inline_formats",
    "spectrum_plot",
]

SINGLE_IN = 3.4
DOUBLE_IN = 7.0
CMAP = "cividis"
RC = {"font.size": 8, "axes.labelsize": 8, "axes.titlesize": 8, "legend.fontsize": 7,
      "xtick.labelsize": 7, "ytick.labelsize": 7, "lines.linewidth": 1.0}  # fmt: skip


#: Formats a notebook shows figures in, by default (see :func:`set_inline_formats`).
_INLINE_FORMATS = ("png",)
#: Resolution of inline PNGs, dots per inch: sharp on high-density screens.
INLINE_DPI = 150.0
#: CSS pixels per inch the notebook lays a figure out with (Matplotlib's default figure dpi), so
#: a figure takes its physical size on the page whatever its PNG resolution.
_CSS_PX_PER_IN = 100.0
_MIME = {"png": "image/png", "svg": "image/svg+xml"}


def set_inline_formats(*formats: str) -> None:
    """Choose how notebooks show figures: ``"png"`` (default), ``"svg"``, or both.

    Only what IPython displays changes; scripts and saved files are unaffected. A single figure
    can differ from the default through its ``inline_formats`` attribute.
    """
    bad = [f for f in formats if f not in _MIME]
    if bad or not formats:
        raise ValueError(f"inline formats: expected some of {sorted(_MIME)}, got {formats!r}")
    global _INLINE_FORMATS
    _INLINE_FORMATS = tuple(formats)


class InlineFigure(Figure):
    """A Matplotlib figure that IPython draws when a cell returns it.

    A bare :class:`matplotlib.figure.Figure` shows as ``<Figure size ...>`` unless pyplot's
    inline backend has registered it; this one renders itself on its own Agg canvas, so no
    pyplot and no global figure manager are involved.

    Attributes
    ----------
    inline_formats : tuple of str or None
        ``"png"`` and/or ``"svg"`` for this figure; None follows :func:`set_inline_formats`.
    """

    inline_formats: tuple[str, ...] | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        FigureCanvasAgg(self)

    def to_bytes(self, fmt: str = "png", *, dpi: float | None = None) -> bytes:
        """The figure as ``fmt`` (``"png"``, ``"svg"``, ``"pdf"``) file content."""
        buf = io.BytesIO()
        self.savefig(buf, format=fmt, dpi=INLINE_DPI if dpi is None and fmt == "png" else dpi)
        return buf.getvalue()

    def _repr_mimebundle_(self, include=None, exclude=None):
        data, meta = {}, {}
        width_in, height_in = self.get_size_inches()
        for fmt in self.inline_formats or _INLINE_FORMATS:
            mime = _MIME[fmt]
            if (include and mime not in include) or (exclude and mime in exclude):
                continue
            if fmt == "png":
                data[mime] = self.to_bytes("png")
                meta[mime] = {"width": round(width_in * _CSS_PX_PER_IN),
                              "height": round(height_in * _CSS_PX_PER_IN)}  # fmt: skip
            else:
                data[mime] = self.to_bytes("svg").decode("utf-8")
        data["text/plain"] = repr(self)
        return data, meta


def _figure(width_in: float, height_in: float, **subplots):
    import matplotlib as mpl  # only where a figure is drawn

    with mpl.rc_context(RC):
        fig = InlineFigure(figsize=(width_in, height_in), layout="constrained")
        axes = fig.subplots(**subplots)
    return fig, axes


def _hours(seconds) -> np.ndarray:
    return np.asarray(seconds, dtype=float) / C.SECONDS_PER_HOUR


def _density(profiles):
    """Density to show and its label: relative to Li metal, or arbitrary units."""
    if is_absolute(profiles):
        return profiles.li_density_rel.values, "Li density / Li metal"
    return profiles.li_density.values, "Li density (arbitrary units)"


def heatmap(profiles, log=None, *, max_depth_um: float | None = None, vmax: float | None = None):
    """Li density vs depth and time, with the cell's voltage and current above on the same time axis.

    Parameters
    ----------
    profiles : xarray.Dataset
        :func:`ndp.model.invert.invert` output.
    log : pandas.DataFrame, optional
        Cycler log already on the NDP clock (``ndp.pipeline.RunResult.log``).
    """
    import matplotlib as mpl  # only where a figure is drawn

    rows = 2 if log is not None else 1
    fig, axes = _figure(DOUBLE_IN, 4.2 if log is not None else 3.0, nrows=rows, sharex=True,
                        gridspec_kw={"height_ratios": [1, 3]} if log is not None else None)  # fmt: skip
    axes = np.atleast_1d(axes)
    with mpl.rc_context(RC):
        if log is not None:
            ax = axes[0]
            ax.plot(
                _hours(log.time_s),
                log.voltage_V if "voltage_V" in log else np.nan * log.time_s,
                color="0.2",
            )
            ax.set_ylabel("Voltage (V)")
            ax2 = ax.twinx()
            ax2.plot(_hours(log.time_s), log.current_mA, color="tab:orange", lw=0.8)
            ax2.set_ylabel("Current (mA)", color="tab:orange")
            ax2.tick_params(axis="y", colors="tab:orange")
        ax = axes[-1]
        mesh, label = _density_mesh(ax, profiles, max_depth_um=max_depth_um, vmax=vmax)
        fig.colorbar(mesh, ax=ax, label=label, pad=0.01)
        fig.suptitle(profiles.attrs.get("run_name", ""), fontsize=8)
    return fig


def _density_mesh(ax, profiles, *, max_depth_um=None, vmax=None):
    """Li density vs time (h) and depth (µm, down) on ``ax``: the mesh and its colour label."""
    dens, label = _density(profiles)
    t_edges = np.concatenate([profiles.time.values - profiles.real_time_s.values / 2,
                              [profiles.time.values[-1] + profiles.real_time_s.values[-1] / 2]])  # fmt: skip
    d_edges = profiles.depth_edges.values
    finite = dens[np.isfinite(dens)]
    top = vmax if vmax is not None else (float(np.percentile(finite, 99.5)) if finite.size else 1.0)
    mesh = ax.pcolormesh(_hours(t_edges), d_edges, np.nan_to_num(dens).T, cmap=CMAP, vmin=0.0, vmax=top,
                         shading="flat", rasterized=True)  # fmt: skip
    ax.set_ylim(max_depth_um if max_depth_um is not None else d_edges[-1], 0.0)
    ax.set_xlabel("Time (h)")
    ax.set_ylabel("Depth (µm)")
    return mesh, label


def profiles_plot(profiles, frames=None, *, max_depth_um: float | None = None):
    """Li density vs depth of selected frames (default six, evenly spaced), with 1σ bands."""
    import matplotlib as mpl  # only where a figure is drawn

    n = profiles.sizes["time"]
    idx = (
        np.asarray(frames)
        if frames is not None
        else np.unique(np.linspace(0, n - 1, min(n, 6)).round().astype(int))
    )
    fig, ax = _figure(SINGLE_IN, 2.6)
    dens, label = _density(profiles)
    err = profiles.li_density_err.values / (C.LI_METAL_ATOMS_CM3 if is_absolute(profiles) else 1.0)
    with mpl.rc_context(RC):
        colors = mpl.colormaps[CMAP](np.linspace(0.0, 0.9, idx.size))
        for c, k in zip(colors, idx, strict=True):
            x = profiles.depth.values
            ax.plot(x, dens[k], color=c, label=f"{_hours(profiles.time.values[k]):.1f} h")
            ax.fill_between(x, dens[k] - err[k], dens[k] + err[k], color=c, alpha=0.25, lw=0)
        ax.set_xlim(
            0, max_depth_um if max_depth_um is not None else profiles.depth_edges.values[-1]
        )
        ax.set_xlabel("Depth (µm)")
        ax.set_ylabel(label)
        ax.legend(frameon=False, ncols=2)
    return fig


def inventory_plot(profiles, log=None, *, area_cm2: float = 1.0):
    """Li inventory vs time (with 1σ band) beside the charge passed (∫I dt, plating up).

    The inventory (``li_capacity``) is per cm² already; ``area_cm2`` only turns the log's
    charge (mAh) into mAh/cm². Without an absolute scale the charge is not drawn.
    """
    import matplotlib as mpl  # only where a figure is drawn

    fig, ax = _figure(SINGLE_IN, 2.6)
    absolute = is_absolute(profiles)
    with mpl.rc_context(RC):
        t = _hours(profiles.time.values)
        y, e = profiles.li_capacity.values, profiles.li_capacity_err.values
        ax.plot(t, y - y[0], color="tab:blue", label="Li inventory (NDP)")
        ax.fill_between(t, y - y[0] - e, y - y[0] + e, color="tab:blue", alpha=0.25, lw=0)
        if log is not None and absolute:
            q_mah = np.concatenate([[0.0], np.cumsum(0.5 * (log.current_mA.values[1:] + log.current_mA.values[:-1])
                                                     * _hours(np.diff(log.time_s.values)))])  # fmt: skip
            ax.plot(
                _hours(log.time_s),
                -q_mah / area_cm2,
                color="0.3",
                ls="--",
                label="charge passed (plating +)",
            )
        ax.set_xlabel("Time (h)")
        ax.set_ylabel(f"Change since first frame ({'mAh/cm²' if absolute else 'arbitrary units'})")
        ax.legend(frameon=False)
    return fig


def efficiency_plot(cycles):
    """Li efficiency (NDP, with 1σ) and Coulombic efficiency (cycler) per cycle."""
    import matplotlib as mpl  # only where a figure is drawn

    fig, ax = _figure(SINGLE_IN, 2.4)
    with mpl.rc_context(RC):
        c = cycles.cycle.values
        ax.errorbar(c, 100 * cycles.li_efficiency, yerr=100 * cycles.get("li_efficiency_err", 0 * c), fmt="o",
                    color="tab:blue", ms=4, capsize=2, label="Li efficiency (NDP)")  # fmt: skip
        ax.plot(
            c,
            100 * cycles.coulombic_efficiency,
            "s",
            mfc="none",
            color="0.2",
            ms=4,
            label="Coulombic efficiency",
        )
        ax.set_xlabel("Cycle")
        ax.set_ylabel("Efficiency (%)")
        ax.set_ylim(0, 105)
        ax.set_xticks(c)
        ax.legend(frameon=False, loc="lower right")
    return fig


def spectrum_plot(profiles, frame: int = -1):
    """Measured counts vs energy with the inversion's fit, and the normalised residuals."""
    import matplotlib as mpl  # only where a figure is drawn

    fig, (ax, ar) = _figure(
        SINGLE_IN, 3.0, nrows=2, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    with mpl.rc_context(RC):
        e = profiles.energy.values
        y = profiles.counts[frame].values  # one frame read, not the whole (time, channel) array
        f = profiles.fit[frame].values
        roi = f > 0
        ax.step(e, y, where="mid", color="0.5", lw=0.5, label="measured")
        ax.plot(e[roi], f[roi], color="tab:red", label="fit")
        ax.set_ylabel("Counts / channel")
        ax.legend(frameon=False)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(roi, (y - f) / np.sqrt(np.maximum(f, 1.0)), np.nan)
        ar.plot(e, r, ".", ms=1, color="0.3")
        ar.axhline(0, color="tab:red", lw=0.8)
        ar.set_ylabel("(y − μ)/√μ")
        ar.set_xlabel("Energy (keV)")
        if roi.any():
            ax.set_xlim(e[roi].min() - 50, e[roi].max() + 50)
    return fig


def instrument_plot(fit, counts, energy_keV, *, width_keV: float = 250.0):
    """The summed spectrum at its surface edge, with the declared and the fitted instrument.

    Parameters
    ----------
    fit : ndp.model.instrument.InstrumentFit
    counts : array_like of shape (n_channels,)
        All frames summed (what the instrument was fitted to).
    energy_keV : array_like of shape (n_channels,)
    width_keV : float
        Energy range shown below and above the edge.
    """
    import matplotlib as mpl  # only where a figure is drawn

    fig, (ax, ar) = _figure(
        SINGLE_IN, 3.0, nrows=2, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    with mpl.rc_context(RC):
        e = np.asarray(energy_keV, dtype=float)
        y = np.asarray(counts, dtype=float)
        f, f0 = fit.fit, fit.fit_declared
        roi = f > 0
        # The surface edge: the highest energy where the fit still holds half its maximum.
        edge = e[roi][np.flatnonzero(f[roi] >= 0.5 * f[roi].max())[-1]] if roi.any() else e.mean()
        show = (e > edge - width_keV) & (e < edge + 0.4 * width_keV)
        inst = fit.instrument
        ax.step(e[show], y[show], where="mid", color="0.5", lw=0.6, label="measured (all frames)")
        ax.plot(e[show & roi], f0[show & roi], color="tab:blue", lw=0.9, ls="--", label="declared instrument")
        ax.plot(e[show & roi], f[show & roi], color="tab:red", lw=0.9,
                label=f"fitted: window ×{inst.window_scale:.3f}, width ×{inst.width_scale:.2f}")  # fmt: skip
        ax.set_ylabel("Counts / channel")
        ax.legend(frameon=False, fontsize=6)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(roi, (y - f) / np.sqrt(np.maximum(f, 1.0)), np.nan)
        ar.plot(e[show], r[show], ".", ms=1, color="0.3")
        ar.axhline(0, color="tab:red", lw=0.8)
        ar.set_ylabel("(y − μ)/√μ")
        ar.set_xlabel("Energy (keV)")
    return fig


def resolution_plot(stack, detector, *, depth_step_um: float = 0.1):
    """Depth resolution (FWHM) vs depth per particle."""
    import matplotlib as mpl  # only where a figure is drawn


    ds = depth_scale(stack, detector, depth_step_um=depth_step_um)
    fig, ax = _figure(SINGLE_IN, 2.4)
    with mpl.rc_context(RC):
        for p in ds.particle.values:
            ax.plot(ds.depth, ds.resolution_um.sel(particle=p), label=str(p))
        ax.set_xlabel("Depth (µm)")
        ax.set_ylabel("Depth resolution, FWHM (µm)")
        ax.legend(frameon=False)
    return fig


def save_run_figures(result, folder) -> list[Path]:
    """Write a run's figures (heatmap, profiles, inventory, efficiency, spectra, resolution, and the
    instrument fit at the surface edge)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    figs = {
        "heatmap": heatmap(result.profiles, result.log),
        "profiles": profiles_plot(result.profiles),
        "inventory": inventory_plot(result.profiles, result.log, area_cm2=result.config.area_cm2),
        "spectra": spectrum_plot(result.profiles),
        "resolution": resolution_plot(result.config.stack, result.config.detector),
    }
    if len(result.cycles):
        figs["efficiency"] = efficiency_plot(result.cycles)
    if result.instrument is not None:
        figs["instrument"] = instrument_plot(result.instrument, total_counts(result.spectra),
                                             result.profiles.energy.values)  # fmt: skip
    paths = []
    for name, fig in figs.items():
        for ext in ("png", "pdf"):
            p = folder / f"{name}.{ext}"
            fig.savefig(p, dpi=300 if ext == "png" else None)
            paths.append(p)
    return paths
