"""Absolute scale: from counts to Li atoms.

Expected counts from Li density c (atoms/cm³) in a depth bin Δx are K·c·Δx, with the exposure

    K = Φ · A · t_live · σ(⁶Li) · a₆ · Ω/4π        (cm², per frame)

from the beam (flux Φ in n/cm²/s over the sample area A, detector solid angle Ω), or fixed by a
reference sample measured in the same geometry: a ¹⁰B standard of known ¹⁰B areal density
(scaled by the cross sections and abundances), or a Li standard of known Li areal density.
Without either, profiles are relative (``K`` per live second = 1, densities in arbitrary units):
the Li efficiency, a ratio, needs no more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ndp.errors import NdpError
from ndp.physics import constants as C
from ndp.physics.constants import BARN_CM2

__all__ = ["RELATIVE", "Scale", "is_absolute"]

#: The ``kind`` of a relative scale (no absolute calibration).
RELATIVE = "relative"


def is_absolute(obj) -> bool:
    """Whether profiles (or anything carrying their ``scale`` attribute) are on an absolute scale.

    The one test every consumer of profiles uses (instead of comparing unit strings): the
    ``scale`` attribute :func:`ndp.model.invert.invert` writes is the :class:`Scale`'s ``kind``.
    """
    return obj.attrs.get("scale", RELATIVE) != RELATIVE


@dataclass(frozen=True)
class Scale:
    """Counts per (Li atom/cm² of areal content) per live second: ``K / t_live`` in cm²/s.

    Attributes
    ----------
    per_second_cm2 : float
        K per live second.
    kind : {"beam", "b10-reference", "li-reference", "relative"}
        Written into profiles as their ``scale`` attribute (see :func:`is_absolute`).
    relative_error : float
        Relative standard uncertainty of the scale itself (from the reference's counts and
        stated content), propagated into absolute densities, not into Li efficiencies.
    """

    per_second_cm2: float
    kind: str = "beam"
    relative_error: float = 0.0

    def __post_init__(self):
        if not (self.per_second_cm2 > 0 and math.isfinite(self.per_second_cm2)):
            raise NdpError(f"scale: expected a positive factor, got {self.per_second_cm2}")

    @property
    def absolute(self) -> bool:
        return self.kind != RELATIVE

    def exposure_cm2(self, live_time_s):
        """K for a frame of live time ``live_time_s``."""
        return self.per_second_cm2 * live_time_s

    @classmethod
    def from_beam(cls, flux_cm2_s: float, area_cm2: float, solid_angle_sr: float,
                  li6_abundance: float = C.LI6_NATURAL_ABUNDANCE,
                  sigma_barn: float = C.LI6_SIGMA_BARN) -> Scale:  # fmt: skip
        """K/t from the flux at the sample, the area, the solid angle and the ⁶Li fraction."""
        for name, v in (("flux", flux_cm2_s), ("area_cm2", area_cm2), ("solid_angle_sr", solid_angle_sr),
                        ("li6_abundance", li6_abundance)):  # fmt: skip
            if not (v > 0):
                raise NdpError(f"scale: {name} must be > 0, got {v}")
        k = (
            flux_cm2_s
            * area_cm2
            * sigma_barn
            * BARN_CM2
            * li6_abundance
            * solid_angle_sr
            / (4 * math.pi)
        )
        return cls(k, "beam")

    @classmethod
    def from_b10_reference(cls, alpha_counts: float, live_time_s: float, b10_atoms_cm2: float,
                           li6_abundance: float = C.LI6_NATURAL_ABUNDANCE) -> Scale:  # fmt: skip
        """K/t from a ¹⁰B standard's α counts (1472 + 1776 keV peaks) in the same geometry.

        Φ·A·Ω/4π = (α counts / t) / (σ_B · N_B10); then K/t = Φ·A·Ω/4π · σ_Li · a₆.
        ``b10_atoms_cm2`` is the standard's ¹⁰B areal density.
        """
        if alpha_counts <= 0 or live_time_s <= 0 or b10_atoms_cm2 <= 0:
            raise NdpError("scale: the ¹⁰B reference needs counts, live time and ¹⁰B content > 0")
        geometry = alpha_counts / live_time_s / (C.B10_SIGMA_BARN * BARN_CM2 * b10_atoms_cm2)
        k = geometry * C.LI6_SIGMA_BARN * BARN_CM2 * li6_abundance
        return cls(k, "b10-reference", 1.0 / math.sqrt(alpha_counts))

    @classmethod
    def from_li_reference(cls, counts: float, live_time_s: float, li_atoms_cm2: float,
                          reference_li6_abundance: float = C.LI6_NATURAL_ABUNDANCE,
                          li6_abundance: float = C.LI6_NATURAL_ABUNDANCE, particles: int = 1) -> Scale:  # fmt: skip
        """K/t from a Li standard of known Li areal density (atoms/cm²).

        ``counts`` are the standard's counts of ``particles`` kinds (1: one of α or triton;
        2: both), each seen with probability Ω/4π per reaction.
        """
        if counts <= 0 or live_time_s <= 0 or li_atoms_cm2 <= 0:
            raise NdpError("scale: the Li reference needs counts, live time and Li content > 0")
        k = (
            counts
            / live_time_s
            / particles
            / li_atoms_cm2
            * li6_abundance
            / reference_li6_abundance
        )
        return cls(k, "li-reference", 1.0 / math.sqrt(counts))

    @classmethod
    def relative(cls) -> Scale:
        """No absolute scale: densities in arbitrary units (counts per µm per live second)."""
        return cls(C.CM_PER_UM, RELATIVE)
