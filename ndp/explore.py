"""One run in a notebook: pick a time, see what the Li and the cell were doing then.

:func:`explore` takes what :func:`ndp.pipeline.run` returned, or the folder ``ndp run`` wrote,
and draws one figure: the Li density map with the cell's voltage and current above it and the
deposit indicators below (thickness, centroid, gap; a marker at the chosen time), beside the
profile of that frame with its 1σ band, the frame's spectrum with the fit, and the indicators'
values. With ipywidgets (``pip install "ndp[notebooks]"``) a slider moves through the frames;
without it the figure is static and :meth:`Explorer.at` chooses the frame.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np

from ndp import plot
from ndp.cycling.indicators import indicators
from ndp.errors import NdpError
from ndp.model.scale import is_absolute
from ndp.physics import constants as C
from ndp.pipeline import RunResult, load_result

__all__ = ["Explorer", "explore"]


def explore(result_or_folder, *, frame: int | None = None, max_depth_um: float | None = None,
            widgets: bool | None = None) -> Explorer:  # fmt: skip
    """An explorer of one run, for a notebook.

    Parameters
    ----------
    result_or_folder : ndp.pipeline.RunResult or path-like
        A run's result, or its output folder (``profiles.nc``, ``cycles.csv``; read with
        :func:`ndp.pipeline.load_result`).
    frame : int, optional
        Frame shown first (default: the one holding the most plated Li, else the last).
    max_depth_um : float, optional
        Deepest depth drawn (default: the depth range's end).
    widgets : bool, optional
        Use ipywidgets for a slider (default: when it is installed).

    Returns
    -------
    Explorer
        Displays itself when a cell returns it.

    Examples
    --------
    >>> import ndp
    >>> ex = ndp.explore("ndp-demo/bare-Cu/run-ndp")  # doctest: +SKIP
    >>> ex.at(time_h=6.0)  # doctest: +SKIP
    """

    if isinstance(result_or_folder, RunResult):
        result = result_or_folder
    elif isinstance(result_or_folder, str | Path):
        result = load_result(result_or_folder)
    else:
        raise NdpError(f"explore: expected a RunResult or an ndp run output folder, got {type(result_or_folder).__name__}")
    ind = result.indicators
    if ind is None and is_absolute(result.profiles):
        ind = indicators(result.profiles)
    return Explorer(result.profiles, log=result.log, indicators=ind, frame=frame,
                    max_depth_um=max_depth_um, widgets=widgets)  # fmt: skip


def _hours(seconds) -> np.ndarray:
    return np.asarray(seconds, dtype=float) / C.SECONDS_PER_HOUR


class Explorer:
    """The figure of one run at one frame, and the slider that moves it.

    Parameters
    ----------
    profiles : xarray.Dataset
        :func:`ndp.model.invert.invert` output (``profiles.nc``), with ``counts`` and ``fit``.
    log : pandas.DataFrame, optional
        Cycler log on the NDP clock (``time_s``, ``current_mA``, ``voltage_V``).
    indicators : xarray.Dataset, optional
        :func:`ndp.cycling.indicators.indicators` of the profiles.
    frame, max_depth_um, widgets
        As for :func:`explore`.

    Attributes
    ----------
    figure : ndp.plot.InlineFigure
    artists : dict
        The artists that follow the frame: ``profile`` and ``spectrum``/``fit`` lines, the
        ``time`` marker lines, the ``voltage`` marker and the ``values`` text.
    slider : ipywidgets.IntSlider or None
        The frame slider (None without ipywidgets).
    widget : ipywidgets.VBox or None
        Slider, time label and the figure as an image.
    """

    def __init__(self, profiles, *, log=None, indicators=None, frame: int | None = None,
                 max_depth_um: float | None = None, widgets: bool | None = None):  # fmt: skip
        self.profiles = profiles
        self.log = log
        self.indicators = indicators
        self.n_frames = int(profiles.sizes["time"])
        if frame is None:
            frame = self.n_frames - 1
            if indicators is not None and np.isfinite(indicators.plated_mAh_cm2.values).any():
                frame = int(np.nanargmax(indicators.plated_mAh_cm2.values))
        self._frame = self._check(frame)
        self.max_depth_um = max_depth_um
        self.artists: dict = {}
        self.figure = self._build()
        self._draw()
        self.slider = self.widget = self._image = self._label = None
        if widgets is None or widgets:
            self._build_widget(required=bool(widgets))

    # -- which frame -----------------------------------------------------------------------

    def _check(self, frame) -> int:
        k = int(frame)
        if k < 0:
            k += self.n_frames
        if not 0 <= k < self.n_frames:
            raise NdpError(f"explore: frame {frame} out of range (the run has {self.n_frames} frames)")
        return k

    @property
    def frame(self) -> int:
        """The frame shown; setting it redraws (and moves the slider)."""
        return self._frame

    @frame.setter
    def frame(self, value) -> None:
        k = self._check(value)
        if k == self._frame:
            return
        self._frame = k
        self._draw()
        self._refresh_widget()
        if self.slider is not None and self.slider.value != k:
            self.slider.value = k  # its observer finds the frame already shown

    def frame_at(self, time_h: float) -> int:
        """The frame whose span holds ``time_h`` (h on the NDP clock), else the nearest."""
        t = self.profiles.time.values
        half = self.profiles.real_time_s.values / 2
        s = float(time_h) * C.SECONDS_PER_HOUR
        inside = np.flatnonzero((t - half <= s) & (s < t + half))
        return int(inside[0]) if inside.size else int(np.argmin(np.abs(t - s)))

    def at(self, frame: int | None = None, *, time_h: float | None = None) -> Explorer:
        """Show ``frame`` (or the frame at ``time_h``) and return the explorer, for a cell."""
        if (frame is None) == (time_h is None):
            raise NdpError("explore: give a frame or a time_h")
        self.frame = frame if frame is not None else self.frame_at(time_h)
        return self

    # -- the figure ----------------------------------------------------------------------------

    def _density(self):
        p = self.profiles
        if is_absolute(p):
            return (p.li_density_rel.values, p.li_density_err.values / C.LI_METAL_ATOMS_CM3,
                    "Li density / Li metal")  # fmt: skip
        return p.li_density.values, p.li_density_err.values, "Li density (arbitrary units)"

    def _build(self):
        import matplotlib as mpl  # only where a figure is drawn


        p = self.profiles
        with mpl.rc_context(plot.RC):
            fig = plot.InlineFigure(figsize=(plot.DOUBLE_IN, 6.2), layout="constrained")
            grid = fig.add_gridspec(3, 2, width_ratios=[1.6, 1.0], height_ratios=[1.0, 1.6, 1.2])
            ax_v = fig.add_subplot(grid[0, 0])
            ax_map = fig.add_subplot(grid[1, 0], sharex=ax_v)
            ax_ind = fig.add_subplot(grid[2, 0], sharex=ax_v)
            ax_spec = fig.add_subplot(grid[0, 1])
            ax_prof = fig.add_subplot(grid[1, 1])
            ax_text = fig.add_subplot(grid[2, 1])
            self.axes = {"cycler": ax_v, "map": ax_map, "indicators": ax_ind, "spectrum": ax_spec,
                         "profile": ax_prof, "values": ax_text}  # fmt: skip
            markers = []
            # Cycler: voltage and current on the NDP clock.
            if self.log is not None and "voltage_V" in self.log:
                th = _hours(self.log.time_s.values)
                ax_v.plot(th, self.log.voltage_V.values, color="0.2", lw=0.8)
                ax_v.set_ylabel("Voltage (V)")
                ax_i = ax_v.twinx()
                ax_i.plot(th, self.log.current_mA.values, color="tab:orange", lw=0.7)
                ax_i.set_ylabel("Current (mA)", color="tab:orange")
                ax_i.tick_params(axis="y", colors="tab:orange")
                (self.artists["voltage"],) = ax_v.plot([], [], "o", color="tab:red", ms=4, zorder=5)
            else:
                ax_v.text(0.5, 0.5, "no cycler log", transform=ax_v.transAxes, ha="center", va="center", color="0.4")
            ax_v.tick_params(labelbottom=False)
            # Li density map.
            mesh, label = plot._density_mesh(ax_map, p, max_depth_um=self.max_depth_um)
            fig.colorbar(mesh, ax=ax_map, label=label, pad=0.01)
            ax_map.tick_params(labelbottom=False)
            ax_map.set_xlabel("")
            # Indicators vs time.
            t = _hours(p.time.values)
            if self.indicators is not None:
                ind = self.indicators
                ax_ind.plot(t, ind.deposit_thickness_um, color="tab:blue", label="thickness (90 %)")
                ax_ind.plot(t, ind.centroid_um, color="tab:green", label="centroid")
                if "gap_um" in ind:
                    ax_ind.plot(t, ind.gap_um, color="tab:red", label="gap")
                ax_ind.set_ylabel("Depth (µm)")
                ax_ind.legend(frameon=False, ncols=3, fontsize=6, loc="upper left")
            else:
                ax_ind.text(0.5, 0.5, "no indicators (relative scale)", transform=ax_ind.transAxes,
                            ha="center", va="center", color="0.4")  # fmt: skip
            ax_ind.set_xlabel("Time (h)")
            for ax in (ax_v, ax_map, ax_ind):
                markers.append(ax.axvline(np.nan, color="tab:red", lw=0.8, alpha=0.8))
            self.artists["time"] = markers
            # Profile of the frame with its band; the y range holds every frame's.
            dens, err, label = self._density()
            x = p.depth.values
            (self.artists["profile"],) = ax_prof.plot(x, np.full(x.size, np.nan), color="tab:blue")
            top = self.max_depth_um if self.max_depth_um is not None else float(p.depth_edges.values[-1])
            seen = x <= top
            hi = np.nanmax(dens[:, seen] + err[:, seen]) if np.isfinite(dens[:, seen]).any() else 1.0
            ax_prof.set_xlim(0.0, top)
            ax_prof.set_ylim(min(0.0, float(np.nanmin(dens[:, seen]))), 1.05 * float(hi))
            ax_prof.set_xlabel("Depth (µm)")
            ax_prof.set_ylabel(label)
            # Spectrum of the frame and its fit.
            e = p.energy.values
            (self.artists["spectrum"],) = ax_spec.step(e, np.full(e.size, np.nan), where="mid", color="0.5",
                                                      lw=0.5, label="measured")  # fmt: skip
            (self.artists["fit"],) = ax_spec.plot(e, np.full(e.size, np.nan), color="tab:red", label="fit")
            roi = (p.fit.values > 0).any(axis=0)
            if roi.any():
                ax_spec.set_xlim(e[roi].min() - 50, e[roi].max() + 50)
            ax_spec.set_xlabel("Energy (keV)")
            ax_spec.set_ylabel("Counts / channel")
            ax_spec.legend(frameon=False, fontsize=6)
            # The values at the frame.
            ax_text.set_axis_off()
            self.artists["values"] = ax_text.text(0.0, 1.0, "", transform=ax_text.transAxes, va="top",
                                                  ha="left", family="monospace", fontsize=7)  # fmt: skip
            fig.suptitle(p.attrs.get("run_name", ""), fontsize=8)
        return fig

    def _draw(self) -> None:
        """Move every frame-dependent artist to the current frame."""
        p, k = self.profiles, self._frame
        th = float(_hours(p.time.values[k]))
        for line in self.artists["time"]:
            line.set_xdata([th, th])
        if "voltage" in self.artists:
            v = float(np.interp(th, _hours(self.log.time_s.values), self.log.voltage_V.values))
            self.artists["voltage"].set_data([th], [v])
        dens, err, _ = self._density()
        ax = self.axes["profile"]
        self.artists["profile"].set_ydata(dens[k])
        if "band" in self.artists:
            self.artists["band"].remove()
        x = p.depth.values
        self.artists["band"] = ax.fill_between(x, dens[k] - err[k], dens[k] + err[k], color="tab:blue",
                                               alpha=0.25, lw=0)  # fmt: skip
        ax.set_title(f"frame {k}, {th:.2f} h", fontsize=7)
        counts, fit = p.counts.values[k], p.fit.values[k]
        self.artists["spectrum"].set_ydata(counts)
        self.artists["fit"].set_ydata(np.where(fit > 0, fit, np.nan))
        roi = fit > 0
        top = float(max(counts[roi].max(), fit[roi].max())) if roi.any() else float(counts.max())
        self.axes["spectrum"].set_ylim(0.0, 1.1 * max(top, 1.0))
        self.artists["values"].set_text(self._values_text())

    def values(self) -> dict[str, float]:
        """The indicators (and the fit's χ²/channel) at the current frame, in their units."""
        p, k = self.profiles, self._frame
        out = {"time_h": float(_hours(p.time.values[k]))}
        if "chi2_per_channel" in p:
            out["chi2_per_channel"] = float(p.chi2_per_channel.values[k])
        if self.indicators is not None:
            for name in ("plated_mAh_cm2", "deposit_thickness_um", "deposit_density_rel", "centroid_um",
                         "gap_um", "penetration_mAh_cm2"):  # fmt: skip
                if name in self.indicators:
                    out[name] = float(self.indicators[name].values[k])
        return out

    def _values_text(self) -> str:
        rows = [f"frame {self._frame} of {self.n_frames}"]
        names = {"time_h": ("time", "h"), "chi2_per_channel": ("chi2/channel", ""),
                 "plated_mAh_cm2": ("plated Li", "mAh/cm2"), "deposit_thickness_um": ("thickness", "um"),
                 "deposit_density_rel": ("density", "x Li metal"), "centroid_um": ("centroid", "um"),
                 "gap_um": ("gap", "um"), "penetration_mAh_cm2": ("penetration", "mAh/cm2")}  # fmt: skip
        for key, value in self.values().items():
            label, unit = names[key]
            shown = "-" if not np.isfinite(value) else f"{value:.3g}"
            rows.append(f"{label:<13}{shown:>8} {unit}")
        if self.indicators is None:
            rows.append("indicators: need an absolute scale")
        return "\n".join(rows)

    # -- the notebook --------------------------------------------------------------------------

    def _build_widget(self, *, required: bool) -> None:
        try:
            import ipywidgets as w  # optional (the notebooks extra)
        except ImportError:
            if required:
                raise NdpError('explore: widgets=True needs ipywidgets (pip install "ndp[notebooks]")') from None
            return
        self.slider = w.IntSlider(value=self._frame, min=0, max=self.n_frames - 1, description="frame",
                                  continuous_update=False, layout=w.Layout(width="70%"))  # fmt: skip
        self._label = w.Label()
        self._image = w.Image(format="png")
        self.slider.observe(self._on_slider, names="value")
        self.widget = w.VBox([w.HBox([self.slider, self._label]), self._image])
        self._refresh_widget()

    def _on_slider(self, change) -> None:
        self.frame = change["new"]

    def _refresh_widget(self) -> None:
        if self.widget is None:
            return
        th = float(_hours(self.profiles.time.values[self._frame]))
        self._label.value = f"t = {th:.2f} h"
        self._image.value = self.figure.to_bytes("png")

    def _repr_mimebundle_(self, include=None, exclude=None):
        data, meta = self.figure._repr_mimebundle_(include=include, exclude=exclude)
        if self.widget is not None:
            # The widget where a widget manager runs; the PNG for static viewers.
            data.update(self.widget._repr_mimebundle_(include=include, exclude=exclude))
        else:
            data["text/plain"] = (f"{self!r} (static: pip install \"ndp[notebooks]\" for a slider, "
                                  "or choose the frame with .at(frame) or .at(time_h=...))")  # fmt: skip
        return data, meta

    def __repr__(self) -> str:
        name = self.profiles.attrs.get("run_name", "")
        return f"<Explorer {name!r}: frame {self._frame} of {self.n_frames}>"


class _CallableModule(types.ModuleType):
    """This module, callable as :func:`explore`.

    ``ndp.explore`` is exported as the function, but importing this submodule binds the module to
    the same name on the package: being callable keeps ``ndp.explore(run)`` working either way.
    """

    def __call__(self, *args, **kwargs):
        return explore(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
