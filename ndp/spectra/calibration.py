"""Channel → energy calibration: a callable :class:`Calibration`, and fits from reference spectra.

* ¹⁰B standard: ⁷Li 840 and 1013 keV, α 1472 and 1776 keV peaks (94 % / 6 % branches);
* thin ⁶Li standard: the surface edges of the α (2055 keV) and the triton (2727 keV), each
  fitted as a Gaussian-broadened step;
* user-given peaks: energies matched to the strongest peaks in channel order, or
  ``channel:keV`` pairs refined by a fit around each given channel.

Every fit reports its points, residuals and the detector resolution (FWHM, keV).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from scipy import optimize, signal, special

from ndp.errors import NdpError
from ndp.physics import constants as C

__all__ = ["Calibration", "CalibrationFit", "fit_b10", "fit_li6", "fit_peaks"]


@dataclass(frozen=True)
class Calibration:
    """keV = c0 + c1·channel (+ c2·channel²), channel numbers from 0.

    Examples
    --------
    >>> cal = Calibration.from_linear(-10.0, 0.75)
    >>> float(cal(2000))
    1490.0
    >>> float(cal.inverse(1490.0))
    2000.0
    """

    coefficients: tuple[float, ...]

    def __post_init__(self):
        c = tuple(float(v) for v in self.coefficients)
        if not 2 <= len(c) <= 3 or not all(np.isfinite(c)):
            raise NdpError(
                f"calibration: expected 2 or 3 finite coefficients, got {self.coefficients}"
            )
        if c[1] <= 0:
            raise NdpError(f"calibration: slope must be > 0 keV/channel, got {c[1]}")
        object.__setattr__(self, "coefficients", c)

    @classmethod
    def from_linear(cls, offset_keV: float, slope_keV_per_channel: float) -> Calibration:
        return cls((offset_keV, slope_keV_per_channel))

    @classmethod
    def from_points(cls, channels, energies_keV, order: int = 1) -> Calibration:
        """Least-squares polynomial through (channel, keV) points."""
        ch, e = np.asarray(channels, float), np.asarray(energies_keV, float)
        if ch.size < order + 1:
            raise NdpError(
                f"calibration: {ch.size} points cannot fix a polynomial of order {order}"
            )
        return cls(tuple(np.polyfit(ch, e, order)[::-1]))

    def __call__(self, channel) -> np.ndarray:
        """Energy (keV) of channel numbers (fractional channels allowed)."""
        return np.polyval(self.coefficients[::-1], np.asarray(channel, dtype=float))

    def slope(self, channel) -> np.ndarray:
        """keV per channel at ``channel``."""
        c = self.coefficients
        return c[1] + (2 * c[2] * np.asarray(channel, float) if len(c) > 2 else 0.0)

    def inverse(self, energy_keV) -> np.ndarray:
        """Channel (fractional) of an energy."""
        e = np.asarray(energy_keV, dtype=float)
        c = self.coefficients
        if len(c) == 2 or c[2] == 0:
            return (e - c[0]) / c[1]
        disc = c[1] ** 2 - 4 * c[2] * (c[0] - e)
        return (-c[1] + np.sqrt(np.maximum(disc, 0))) / (2 * c[2])

    def edges(self, n_channels: int) -> np.ndarray:
        """Energy edges (keV) of the channels, shape (n_channels + 1,)."""
        return self(np.arange(n_channels + 1) - 0.5)

    def apply(self, ds: xr.Dataset) -> xr.Dataset:
        """A copy of a spectra Dataset with an ``energy`` coordinate (keV) from this calibration."""
        out = ds.assign_coords(energy=("channel", self(ds.channel.values), {"units": "keV"}))
        out.attrs["calibration"] = list(self.coefficients)
        return out


@dataclass(frozen=True)
class CalibrationFit:
    """The result of a calibration fit.

    Attributes
    ----------
    calibration : Calibration
    points : pandas.DataFrame
        One row per peak or edge: ``label``, ``energy_keV``, ``channel``, ``channel_err``,
        ``fitted_keV``, ``residual_keV``, ``fwhm_keV``.
    fwhm_keV : float
        Detector resolution (FWHM) from the fits, keV.
    """

    calibration: Calibration
    points: pd.DataFrame
    fwhm_keV: float
    kind: str = field(default="peaks")


# --------------------------------------------------------------------------------------------


def _gauss_fit(x: np.ndarray, y: np.ndarray, mu0: float, sigma0: float):
    """Gaussian on a linear background, Poisson-weighted; returns (mu, mu_err, sigma)."""

    def model(x, a, mu, sig, b0, b1):
        return a * np.exp(-0.5 * ((x - mu) / sig) ** 2) + b0 + b1 * (x - mu0)

    lo, hi = int(max(mu0 - 3 * sigma0, 0)), int(min(mu0 + 3 * sigma0 + 1, x.size))
    xs, ys = x[lo:hi], y[lo:hi]
    if xs.size < 6:
        raise NdpError(
            f"calibration: peak near channel {mu0:.0f} is too close to the spectrum's end"
        )
    p0 = [max(ys.max() - np.median(ys), 1.0), mu0, sigma0, max(np.min(ys), 0.0), 0.0]
    p, cov = _curve_fit(model, xs, ys, p0, f"the peak near channel {mu0:.0f}")
    return _located(p, cov, mu0, sigma0, x.size, "peak")


def _curve_fit(model, xs, ys, p0, what: str):
    """Poisson-weighted least squares; a fit without a covariance is a fit that failed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", optimize.OptimizeWarning)
            p, cov = optimize.curve_fit(model, xs, ys, p0=p0, sigma=np.sqrt(np.maximum(ys, 1.0)),
                                        absolute_sigma=True, maxfev=20000)  # fmt: skip
    except (RuntimeError, ValueError, optimize.OptimizeWarning) as exc:
        raise NdpError(f"calibration: {what} could not be fitted ({exc})") from None
    return p, cov


def _located(p, cov, mu0: float, width0: float, n_channels: int, kind: str):
    """(mu, mu_err, sigma) of a fitted peak or edge, or an NdpError when the fit found none.

    A fit always returns numbers; they describe a peak only when its height stands out of the
    noise (5σ), its position is known to better than its width and it stays where it was
    looked for. Otherwise the spectrum has no such peak there, and saying so beats printing a
    calibration built on noise.
    """
    err = np.sqrt(np.abs(np.diag(cov)))
    mu, sig = float(p[1]), abs(float(p[2]))
    where = f"calibration: no clear {kind} near channel {mu0:.0f}"
    if not np.all(np.isfinite(p)) or not np.all(np.isfinite(err)):
        raise NdpError(f"{where} (the fit did not converge)")
    if not p[0] > 5 * err[0]:
        raise NdpError(
            f"{where} (its height {p[0]:.3g} ± {err[0]:.2g} counts is not 5σ above the noise)"
        )
    if not (0 <= mu < n_channels and abs(mu - mu0) <= 3 * width0 + 2 and err[1] < max(sig, 1.0)):
        raise NdpError(f"{where} (the fit wandered to channel {mu:.4g} ± {err[1]:.2g})")
    return mu, float(err[1]), sig


def _step_fit(x: np.ndarray, y: np.ndarray, mu0: float, width: float):
    """A surface edge: a Gaussian-broadened step, or a box where the layer is thin.

    A standard thicker than a few resolution widths gives a plateau falling to background at
    its surface energy ``mu``. A thin one gives a peak: the layer's energy span (``lo`` to
    ``mu``) broadened by the resolution, whose falling side is half a resolution width above
    the surface energy; fitting it as a step put the edge 10–20 keV high on a 0.05 µm
    standard. The box's low end is fitted only where the spectrum shows it.

    Returns (mu, mu_err, sigma).
    """

    def step(x, a, mu, sig, b):
        return 0.5 * a * special.erfc((x - mu) / (np.sqrt(2) * sig)) + b

    def box(x, area, mu, sig, b, span):
        # Area and span (channels) rather than height and low end: for a layer thinner than
        # the resolution only their product's shape is seen, and the area stays well known.
        r2, w = np.sqrt(2) * sig, abs(span) + 1e-3
        return 0.5 * area / w * (special.erfc((x - mu) / r2) - special.erfc((x - mu + w) / r2)) + b

    # ±5σ: wide enough for the plateau and the background, narrow enough to stay clear of the
    # plateau's far (low-energy) end for standards thicker than a few resolution widths.
    lo, hi = int(max(mu0 - 5 * width, 0)), int(min(mu0 + 5 * width + 1, x.size))
    xs, ys = x[lo:hi], y[lo:hi]
    if xs.size < 5:
        raise NdpError(
            f"calibration: the edge near channel {mu0:.0f} is too close to the spectrum's end"
        )
    background = max(np.median(ys[-max(3, xs.size // 4) :]), 0.0)
    s = _smooth(ys, 2.0) - background
    top = int(np.argmax(s[: max(1, int(mu0) - lo + 1)]))
    below = np.flatnonzero(s[:top] < 0.5 * s[top])
    what = f"the edge near channel {mu0:.0f}"
    if below.size:  # the counts fall again below the edge: a thin layer's peak
        span = max(mu0 - float(xs[below[-1]]), 1.0)
        p0 = [max(s[top], 1.0) * span, mu0, width / 2, background, span]
        p, cov = _curve_fit(box, xs, ys, p0, what)
        if np.isfinite(cov[1, 1]) and np.sqrt(cov[1, 1]) < max(abs(p[2]), 1.0):
            return _located(p[:4], cov[:4, :4], mu0, width, x.size, "edge")
        # Thinner than the resolution: the span is not resolved, and the peak's centre is the
        # surface energy to within half of it.
        peak = float(xs[top])
        return _gauss_fit(x, y, peak, max(_width_guess(y, int(peak)), 2.0))
    plateau = np.median(ys[: max(3, xs.size // 4)])
    p, cov = _curve_fit(step, xs, ys, [max(plateau, 1.0), mu0, width, background], what)
    return _located(p, cov, mu0, width, x.size, "edge")


def _smooth(y: np.ndarray, width: float) -> np.ndarray:
    k = max(round(width), 1)
    kernel = np.exp(-0.5 * (np.arange(-3 * k, 3 * k + 1) / k) ** 2)
    return np.convolve(y, kernel / kernel.sum(), mode="same")


def _prominent_peaks(y: np.ndarray, n: int, min_width: float = 2.0) -> np.ndarray:
    """Channels of the ``n`` most prominent peaks, in channel order."""
    s = _smooth(y, min_width)
    peaks, props = signal.find_peaks(
        s, prominence=max(5 * np.sqrt(max(s.max(), 1.0)), 1.0), width=min_width
    )
    if peaks.size < n:
        raise NdpError(f"calibration: found {peaks.size} clear peaks, expected {n}")
    best = peaks[np.argsort(props["prominences"])[::-1][:n]]
    return np.sort(best)


def _width_guess(y: np.ndarray, ch: int) -> float:
    s = _smooth(y, 2.0)
    half = s[ch] / 2
    lo = ch
    while lo > 0 and s[lo] > half:
        lo -= 1
    hi = ch
    while hi < s.size - 1 and s[hi] > half:
        hi += 1
    return max((hi - lo) / C.FWHM_PER_SIGMA, 1.0)


def _finish(rows, order: int, kind: str) -> CalibrationFit:
    df = pd.DataFrame(rows, columns=["label", "energy_keV", "channel", "channel_err", "sigma_ch"])
    if np.any(np.diff(df.sort_values("energy_keV").channel.to_numpy()) <= 0):
        raise NdpError(
            "calibration: the peaks found do not rise in channel with energy "
            f"(channels {', '.join(f'{c:.0f}' for c in df.channel)}); not this standard's spectrum?"
        )
    cal = Calibration.from_points(df.channel, df.energy_keV, order)
    e_min = float(df.energy_keV.min())
    zero = float(cal(0.0))
    # Channel 0 sits near 0 keV on every NDP chain (an offset of some tens of keV); an energy
    # at channel 0 far below zero, or above the lowest line, means peaks matched to noise.
    if not -0.5 * e_min < zero < e_min:
        raise NdpError(
            f"calibration: the fit puts channel 0 at {zero:.4g} keV (expected between "
            f"{-0.5 * e_min:.4g} and {e_min:.4g}); the peaks found are not the standard's"
        )
    df["fitted_keV"] = cal(df.channel)
    df["residual_keV"] = df.fitted_keV - df.energy_keV
    df["fwhm_keV"] = C.FWHM_PER_SIGMA * df.sigma_ch * cal.slope(df.channel)
    fwhm = float(np.average(df.fwhm_keV, weights=1.0 / np.maximum(df.channel_err, 1e-6) ** 2))
    gap = float(np.min(np.diff(np.sort(df.energy_keV.to_numpy())))) if len(df) > 1 else np.inf
    if not fwhm < 0.5 * gap:
        raise NdpError(
            f"calibration: fitted resolution {fwhm:.4g} keV FWHM is wider than half the "
            f"{gap:.4g} keV between lines; these are not resolved peaks of the standard"
        )
    return CalibrationFit(cal, df.drop(columns="sigma_ch"), fwhm, kind)


def _counts(spectrum) -> np.ndarray:
    if isinstance(spectrum, xr.Dataset):
        c = spectrum.counts
        return np.asarray(c.sum("frame") if "frame" in c.dims else c, dtype=float)
    y = np.asarray(spectrum, dtype=float)
    if y.ndim != 1:
        raise NdpError(f"calibration: expected one spectrum (1-D counts), got shape {y.shape}")
    return y


def fit_peaks(
    spectrum, energies_keV, *, channels=None, order: int = 1, labels=None
) -> CalibrationFit:
    """Calibrate from peaks of known energy.

    Parameters
    ----------
    spectrum : xarray.Dataset or array_like of shape (C,)
        Counts (frames are summed).
    energies_keV : sequence of float
    channels : sequence of float, optional
        Approximate channel of each peak; without them, the strongest peaks are matched to the
        energies in channel order.
    order : {1, 2}
        Polynomial order.
    """
    y = _counts(spectrum)
    x = np.arange(y.size, dtype=float)
    e = np.asarray(energies_keV, dtype=float)
    if channels is None:
        guess = _prominent_peaks(y, e.size)
        e = np.sort(e)
    else:
        guess = np.asarray(channels, dtype=float)
        if guess.size != e.size:
            raise NdpError("calibration: give one approximate channel per peak energy")
        outside = guess[~((guess >= 0) & (guess < y.size))]
        if outside.size:
            raise NdpError(
                f"calibration: channel {outside[0]:g} is outside the spectrum (0 to {y.size - 1})"
            )
    if not np.all(np.isfinite(e) & (e > 0)):
        raise NdpError(f"calibration: peak energies must be > 0 keV, got {energies_keV}")
    labels = labels or [f"{v:g} keV" for v in e]
    rows = []
    for lab, energy, g in zip(labels, e, guess, strict=True):
        mu, err, sig = _gauss_fit(x, y, float(g), _width_guess(y, int(g)))
        rows.append((lab, energy, mu, err, sig))
    return _finish(rows, order, "peaks")


def _detected(detector, particle: str, energy_keV: float) -> float:
    """A line's detected energy: through the detector's dead layer, less its pulse-height defect."""
    return (
        float(energy_keV)
        if detector is None
        else float(detector.detected_keV(particle, energy_keV))
    )


def fit_b10(spectrum, *, order: int = 1, alpha_only: bool = False, detector=None) -> CalibrationFit:
    """Calibrate from a ¹⁰B standard: ⁷Li 840/1013 keV and α 1472/1776 keV peaks.

    The two strongest peaks are ⁷Li 840 and α 1472 keV (94 % branch); they fix a first scale
    from which the 6 % peaks are found, then all are fitted. ``alpha_only`` keeps the α peaks
    only (the ⁷Li ions suffer a pulse-height defect in silicon detectors).

    With a ``detector`` (:class:`ndp.physics.detector.Detector`) that has a dead layer or pulse-height
    defects, the α lines are fitted at their detected energies
    (:meth:`~ndp.physics.detector.Detector.detected_keV`), so the calibration is in detected energy and
    transfers to tritons; the ⁷Li lines, which ndp has no model for, are then left out.
    """
    if detector is not None and detector.has_pulse_effects:
        alpha_only = True
    y = _counts(spectrum)
    x = np.arange(y.size, dtype=float)
    lines = C.B10_LINES_KEV
    ch840, ch1472 = _prominent_peaks(y, 2)
    slope = (lines["alpha_1472"] - lines["li7_840"]) / (ch1472 - ch840)
    offset = lines["li7_840"] - slope * ch840
    rows = []
    wanted = ["alpha_1472", "alpha_1776"] if alpha_only else list(lines)
    for name in wanted:
        g = (lines[name] - offset) / slope
        if not 0 < g < y.size - 1:
            raise NdpError(f"calibration: {name} ({lines[name]:g} keV) falls outside the spectrum")
        mu, err, sig = _gauss_fit(x, y, g, _width_guess(y, int(ch1472)))
        energy = (
            _detected(detector, "alpha", lines[name]) if name.startswith("alpha") else lines[name]
        )
        rows.append((name, energy, mu, err, sig))
    return _finish(rows, order, "b10")


def fit_li6(spectrum, *, energies_keV=(C.ALPHA_ENERGY_KEV, C.TRITON_ENERGY_KEV),
            detector=None) -> CalibrationFit:  # fmt: skip
    """Calibrate from a thin ⁶Li standard: the α and triton surface edges (linear).

    With a ``detector``, each edge is fitted at its detected energy (dead layer and the
    particle's pulse-height defect, :meth:`ndp.physics.detector.Detector.detected_keV`).
    """
    y = _counts(spectrum)
    x = np.arange(y.size, dtype=float)
    s = _smooth(y, 3.0)
    d = -np.gradient(s)
    peaks, props = signal.find_peaks(d, prominence=max(d.max() * 0.1, 1e-9))
    if peaks.size < 2:
        raise NdpError(
            "calibration: found fewer than two falling edges; expected the α and triton edges"
        )
    edges = np.sort(peaks[np.argsort(props["prominences"])[::-1][:2]])
    rows = []
    for label, energy, g in zip(("alpha_edge", "triton_edge"), energies_keV, edges, strict=True):
        mu, err, sig = _step_fit(x, y, float(g), max(_width_guess(d, int(g)), 2.0))
        rows.append((label, _detected(detector, label.split("_")[0], energy), mu, err, sig))
    return _finish(rows, 1, "li6")
