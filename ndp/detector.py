"""The detector and its geometry, as far as the depth scale needs them."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import NdpError

__all__ = ["Detector", "angular_quadrature"]


@dataclass(frozen=True)
class Detector:
    """A charged-particle detector behind a collimator.

    Parameters
    ----------
    resolution_keV : float
        Intrinsic energy resolution, FWHM, keV (silicon detectors: 12–35 keV).
    acceptance_half_angle_deg : float
        Largest emission angle from the sample normal that the collimator lets through, degrees;
        0 for pencil geometry.
    solid_angle_sr : float
        Solid angle subtended by the detector, sr.
    threshold_keV : float
        Lowest energy recorded (the lower-level discriminator), keV.
    channel_width_keV : float
        Width of one channel, keV (0 if unknown), which adds w²/12 to the energy variance.
    straggling_scale : float
        Factor on the energy-straggling standard deviation (1: the model as computed). The
        instrument fit frees it with the resolution, since real straggling differs from any
        model by some ten per cent.
    """

    resolution_keV: float = 20.0
    acceptance_half_angle_deg: float = 0.0
    solid_angle_sr: float = 1e-3
    threshold_keV: float = 50.0
    channel_width_keV: float = 0.0
    straggling_scale: float = 1.0

    def __post_init__(self):
        checks = {
            "resolution_keV": (self.resolution_keV, 0.0, False),
            "acceptance_half_angle_deg": (self.acceptance_half_angle_deg, 0.0, True),
            "solid_angle_sr": (self.solid_angle_sr, 0.0, False),
            "threshold_keV": (self.threshold_keV, 0.0, True),
            "channel_width_keV": (self.channel_width_keV, 0.0, True),
            "straggling_scale": (self.straggling_scale, 0.0, True),
        }
        for name, (value, low, inclusive) in checks.items():
            ok = isinstance(value, int | float) and math.isfinite(value)
            ok = ok and (value >= low if inclusive else value > low)
            if not ok:
                op = ">=" if inclusive else ">"
                raise NdpError(f"detector.{name}: expected a number {op} {low:g}, got {value!r}")
        if self.acceptance_half_angle_deg >= 90:
            raise NdpError(
                f"detector.acceptance_half_angle_deg: expected < 90, got {self.acceptance_half_angle_deg}"
            )
        if self.solid_angle_sr > 2 * math.pi:
            raise NdpError(f"detector.solid_angle_sr: expected <= 2π, got {self.solid_angle_sr}")

    def angles(self, n: int = 20) -> tuple[np.ndarray, np.ndarray]:
        """Emission angles seen by the detector: see :func:`angular_quadrature`."""
        return angular_quadrature(self.acceptance_half_angle_deg, n)


def angular_quadrature(half_angle_deg: float, n: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes for isotropic emission into a cone of half-angle θmax.

    Isotropic emission is uniform in cos θ, so the nodes are placed on [cos θmax, 1].

    Returns
    -------
    cos_theta : ndarray of shape (n,)
    weights : ndarray of shape (n,)
        Summing to 1. For θmax = 0: one node at cos θ = 1.
    """
    if half_angle_deg <= 0:
        return np.ones(1), np.ones(1)
    x, w = np.polynomial.legendre.leggauss(n)
    lo = math.cos(math.radians(half_angle_deg))
    return lo + (x + 1.0) * (1.0 - lo) / 2.0, w / 2.0
