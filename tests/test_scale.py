"""Absolute scale from the beam, a ¹⁰B reference or a Li reference: they must agree."""

from __future__ import annotations

import math

import pytest

from ndp.errors import NdpError
from ndp.model.scale import Scale
from ndp.physics import constants as C


def test_beam_formula():
    s = Scale.from_beam(1e7, 2.0, 1e-3, 0.0759)
    assert s.per_second_cm2 == pytest.approx(1e7 * 2.0 * 940e-24 * 0.0759 * 1e-3 / (4 * math.pi))
    assert s.exposure_cm2(600.0) == pytest.approx(600 * s.per_second_cm2)


def test_b10_and_li_references_reproduce_the_beam_scale():
    flux, area, omega = 3e7, 1.5, 2e-3
    beam = Scale.from_beam(flux, area, omega)
    geometry = flux * area * omega / (4 * math.pi)
    n_b10 = 1e18  # ¹⁰B atoms/cm2 in the standard
    t = 1000.0
    alpha_counts = geometry * C.B10_SIGMA_BARN * 1e-24 * n_b10 * t  # both α branches
    ref = Scale.from_b10_reference(alpha_counts, t, n_b10)
    assert ref.per_second_cm2 == pytest.approx(beam.per_second_cm2, rel=1e-9)
    n_li = 5e17  # Li atoms/cm2, natural
    triton_counts = geometry * C.LI6_SIGMA_BARN * 1e-24 * 0.0759 * n_li * t
    li = Scale.from_li_reference(triton_counts, t, n_li)
    assert li.per_second_cm2 == pytest.approx(beam.per_second_cm2, rel=1e-9)
    assert 0 < ref.relative_error < 0.01


def test_enriched_sample():
    natural = Scale.from_beam(1e7, 1.0, 1e-3)
    enriched = Scale.from_beam(1e7, 1.0, 1e-3, li6_abundance=0.95)
    assert enriched.per_second_cm2 / natural.per_second_cm2 == pytest.approx(0.95 / 0.0759)


def test_bad_scales():
    with pytest.raises(NdpError, match="flux must be > 0"):
        Scale.from_beam(0.0, 1.0, 1e-3)
    with pytest.raises(NdpError, match="positive factor"):
        Scale(-1.0)
