"""Channel → energy calibration from simulated standards with known truth."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special
from spectra_helpers import b10_spectrum, spectra

from ndp.errors import NdpError
from ndp.spectra.calibration import Calibration, fit_b10, fit_li6, fit_peaks


@pytest.mark.parametrize(
    ("offset", "slope", "fwhm"), [(-12.45, 0.7144, 22.0), (5.0, 0.5, 15.0), (-30.0, 0.9, 30.0)]
)
def test_b10_recovers_a_known_linear_calibration(offset, slope, fwhm):
    truth = Calibration.from_linear(offset, slope)
    fit = fit_b10(b10_spectrum(truth, fwhm))
    ch = truth.inverse(1472.0)
    assert abs(float(fit.calibration(ch)) - 1472.0) < 0.5
    assert fit.fwhm_keV == pytest.approx(fwhm, rel=0.10)
    assert np.all(np.abs(fit.points.residual_keV) < 1.0)
    assert list(fit.points.label) == ["alpha_1472", "alpha_1776", "li7_840", "li7_1013"]


def test_b10_alpha_only_and_quadratic():
    truth = Calibration((-12.0, 0.72, 2e-6))
    fit = fit_b10(b10_spectrum(truth, 20.0), order=2)
    for e in (840.0, 1472.0, 1776.0):
        assert abs(float(fit.calibration(truth.inverse(e))) - e) < 0.5
    alpha = fit_b10(b10_spectrum(Calibration.from_linear(-12.0, 0.72), 20.0), alpha_only=True)
    assert len(alpha.points) == 2


def _li6_spectrum(cal, fwhm, seed=1, layers=((300.0, 120.0), (500.0, 60.0))):
    """A ⁶Li standard's α and triton: each a box from its birth energy down by the layer's
    energy span (keV), broadened by the resolution, on one count of background."""
    rng = np.random.default_rng(seed)
    ch = np.arange(4096.0)
    lam = np.full(4096, 1.0)
    for e, (height, width) in zip((2055.0, 2727.0), layers, strict=True):
        mu, lo = cal.inverse(e), cal.inverse(e - width)
        sig = fwhm / 2.3548 / cal.coefficients[1]
        lam += (
            height
            * 0.5
            * (
                special.erfc((ch - mu) / (np.sqrt(2) * sig))
                - special.erfc((ch - lo) / (np.sqrt(2) * sig))
            )
        )
    return rng.poisson(lam)


def test_li6_edges():
    truth = Calibration.from_linear(-12.45, 0.7144)
    fit = fit_li6(_li6_spectrum(truth, 22.0))
    for e in (2055.0, 2727.0):
        assert abs(float(fit.calibration(truth.inverse(e))) - e) < 1.0
    assert fit.fwhm_keV == pytest.approx(22.0, rel=0.15)


@pytest.mark.parametrize("spans", [(40.0, 20.0), (10.0, 5.0)], ids=["thin", "thinner than FWHM"])
def test_li6_edges_of_a_thin_standard(spans):
    """A thin standard is a peak, not a step: its surface edge is not the falling side's half
    height (that put the edges 10–20 keV high, 14–27 channels here)."""
    truth = Calibration.from_linear(-12.45, 0.7144)
    # The same number of reactions as the thick standard, in a narrower span: taller peaks.
    layers = ((300.0 * 120.0 / spans[0], spans[0]), (500.0 * 60.0 / spans[1], spans[1]))
    fit = fit_li6(_li6_spectrum(truth, 22.0, layers=layers))
    for e, span in zip((2055.0, 2727.0), spans, strict=True):
        # Within half the layer's span: where the span is below the resolution, the peak's
        # centre is all the spectrum can say.
        assert abs(float(fit.calibration(truth.inverse(e))) - e) < span / 2 + 1.5
    assert fit.fwhm_keV == pytest.approx(22.0, rel=0.15)


def test_user_peaks_with_and_without_channels():
    truth = Calibration.from_linear(-12.45, 0.7144)
    y = b10_spectrum(truth, 22.0)
    a = fit_peaks(y, [1472.0, 840.0])
    b = fit_peaks(y, [840.0, 1472.0], channels=[truth.inverse(840) + 5, truth.inverse(1472) - 5])
    for fit in (a, b):
        assert abs(float(fit.calibration(truth.inverse(1472))) - 1472.0) < 0.5


def test_flat_spectrum_has_no_peaks():
    with pytest.raises(NdpError, match="clear peaks"):
        fit_b10(np.full(4096, 50))


@given(c0=st.floats(-50, 50), c1=st.floats(0.1, 2.0), ch=st.floats(0, 4095))
def test_inverse(c0, c1, ch):
    cal = Calibration.from_linear(c0, c1)
    assert float(cal.inverse(cal(ch))) == pytest.approx(ch, abs=1e-6)


def test_apply_and_bad_calibrations():
    ds = Calibration.from_linear(1.0, 2.0).apply(spectra(calibration=None))
    assert ds.energy.values[3] == 7.0 and ds.attrs["calibration"] == [1.0, 2.0]
    with pytest.raises(NdpError, match="slope must be > 0"):
        Calibration.from_linear(0.0, -1.0)


@pytest.mark.parametrize("seed", range(4))
def test_no_standard_no_calibration(seed):
    """Noise gave ZeroDivisionError, or 'calibration = [-22888, 13.1]' and exit 0 (issue 12)."""
    rng = np.random.default_rng(seed)
    for counts in (rng.poisson(5, 4096), rng.poisson(0.01, 4096), rng.poisson(50, 4096)):
        with pytest.raises(NdpError, match="calibration"):
            fit_li6(counts)
        with pytest.raises(NdpError, match="calibration"):
            fit_b10(counts)
        with pytest.raises(NdpError, match=r"no clear peak near channel 1193|could not be fitted"):
            fit_peaks(counts, [840, 1472], channels=[1193, 2078])
