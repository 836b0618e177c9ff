"""Corrections: dead time, monitor, blank, summing, rebinning; variances; raw data untouched."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spectra_helpers import spectra

from ndp.errors import NdpError
from ndp.spectra import reduce as R


def test_raw_counts_are_never_modified():
    ds = spectra()
    before = ds.counts.values.copy()
    for out in (R.dead_time_correct(ds), R.normalize(ds), R.sum_frames(ds), R.rebin(ds, 4)):
        assert out is not ds
    R.subtract_background(ds, spectra(n_frames=1, seed=9))
    np.testing.assert_array_equal(ds.counts.values, before)
    assert "variance" not in ds


def test_dead_time():
    ds = spectra()
    out = R.dead_time_correct(ds)
    f = ds.real_time_s / ds.live_time_s
    np.testing.assert_allclose(out.counts, ds.counts * f)
    np.testing.assert_allclose(out.variance, ds.counts * f**2)
    np.testing.assert_array_equal(out.live_time_s, ds.real_time_s)


def test_monitor_normalisation():
    ds = spectra(monitor=[1e4, 2e4, 4e4])
    out = R.normalize(ds)
    assert out.attrs["normalised_by"] == "monitor"
    e = ds.monitor * ds.live_time_s / ds.real_time_s
    np.testing.assert_allclose(out.counts, ds.counts / e)
    np.testing.assert_allclose(out.variance, ds.counts / e**2)
    assert R.normalize(spectra()).attrs["normalised_by"] == "live_time"
    with pytest.raises(NdpError, match="some frames have no monitor"):
        R.normalize(spectra(), by="monitor")


def test_blank_scaled_by_live_time_with_variance():
    ds = spectra()
    blank = spectra(n_frames=2, seed=7, live=(1000.0, 500.0), real=1000.0)
    out = R.subtract_background(ds, blank)
    b = blank.counts.sum("frame")
    scale = ds.live_time_s / 1500.0
    np.testing.assert_allclose(out.counts, ds.counts - scale * b)
    np.testing.assert_allclose(out.variance, ds.counts + scale**2 * b)


def test_blank_must_match():
    with pytest.raises(NdpError, match="256 channels, but the spectra have 512"):
        R.subtract_background(spectra(), spectra(n_channels=256))
    with pytest.raises(NdpError, match="calibration"):
        R.subtract_background(spectra(), spectra(calibration=(0.0, 1.0)))
    with pytest.raises(NdpError, match="before normalising"):
        R.subtract_background(R.normalize(spectra()), spectra())


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 7), group=st.integers(1, 7), factor=st.integers(1, 9), seed=st.integers(0, 999)
)
def test_summing_and_rebinning_conserve_counts(n, group, factor, seed):
    ds = spectra(n_frames=n, seed=seed, live=(500.0,))
    s = R.sum_frames(ds, group)
    assert int(s.counts.sum()) == int(ds.counts.sum())
    assert s.live_time_s.sum() == pytest.approx(ds.live_time_s.sum())
    np.testing.assert_allclose(s.variance.sum(), ds.counts.sum())
    r = R.rebin(ds, factor)
    kept = (512 // factor) * factor
    assert int(r.counts.sum()) == int(ds.counts.isel(channel=slice(0, kept)).sum())
    # The rebinned calibration puts each bin at the centre of its channels.
    np.testing.assert_allclose(
        np.polyval(r.attrs["calibration"][::-1], r.channel), r.energy, rtol=1e-12
    )
