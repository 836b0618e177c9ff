"""Synthetic spectra for tests: known truth, fixed seeds."""

from __future__ import annotations

import numpy as np

from ndp.physics import constants as C
from ndp.spectra.calibration import Calibration
from ndp.spectra.dataset import make_spectra


def spectra(n_frames=3, n_channels=512, seed=0, calibration=(-10.0, 0.75), monitor=None,
            live=(598.25, 597.5, 599.0), real=600.0):  # fmt: skip
    rng = np.random.default_rng(seed)
    start = np.datetime64("2020-03-01T09:00:00") + np.arange(n_frames) * np.timedelta64(600, "s")
    return make_spectra(
        rng.poisson(40.0, size=(n_frames, n_channels)), start=start,
        live_time_s=np.resize(np.asarray(live, float), n_frames), real_time_s=real,
        source=[f"frame{i}.Spe" for i in range(n_frames)], fmt="synthetic",
        calibration=calibration, monitor=monitor,
    )  # fmt: skip


def b10_spectrum(
    cal: Calibration, fwhm_keV: float, n=200_000, background=2.0, seed=3, n_channels=4096
):
    """A thin ¹⁰B standard: four Gaussian lines on a flat background, Poisson-sampled."""
    rng = np.random.default_rng(seed)
    ch = np.arange(n_channels, dtype=float)
    lam = np.full(n_channels, background)
    for name, e in C.B10_LINES_KEV.items():
        mu = cal.inverse(e)
        sig = fwhm_keV / C.FWHM_PER_SIGMA / float(cal.slope(mu))
        lam += (
            n
            * C.B10_BRANCHING[name]
            * np.exp(-0.5 * ((ch - mu) / sig) ** 2)
            / (np.sqrt(2 * np.pi) * sig)
        )
    return rng.poisson(lam)
