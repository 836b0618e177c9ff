"""The detector and its geometry, as far as the depth scale needs them.

Besides resolution, collimation and threshold, a :class:`Detector` carries the effects that
make the pulse height of a particle differ from the energy it left the sample with, each off
by default:

* an entrance **dead layer** (``dead_layer_material``, ``dead_layer_um``): a window the particle
  crosses before it deposits energy, added to the stack's window layers
  (:func:`compile_stack`), so that energy loss, straggling and the collimator's path lengths
  apply to it as to any layer;
* a **pulse-height defect** per particle (``pulse_height_defect_alpha_keV``,
  ``pulse_height_defect_triton_keV``): energy deposited but not converted to charge
  (nuclear stopping, recombination in the plasma track), heavier for α than for tritons; the
  detected energy is the deposited energy minus it (:meth:`Detector.pulse_height_keV`);
* a **low-energy tail** (``tail_fraction``, ``tail_slope_keV``): the fraction of particles
  whose pulse falls short by an exponentially distributed amount of mean ``tail_slope_keV``
  (incomplete charge collection, scattering off the collimator), so the line shape is a
  Gaussian plus that fraction convolved with a one-sided exponential.

The calibration (:mod:`ndp.spectra.calibration`) maps channels to *detected* energy, so that one made
with α lines transfers to tritons once these effects are set (:meth:`Detector.detected_keV`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ndp.errors import NdpError
from ndp.physics.kinematics import prepend_window
from ndp.physics.materials import Material
from ndp.physics.stopping import get_particle
from ndp.physics.straggling import DEFAULT_MODEL, MODELS

__all__ = ["CONE_MODES", "DEAD_LAYER_MATERIALS", "Detector", "angular_quadrature", "compile_stack"]

#: How the collimator's acceptance enters the response: ``"exact"`` integrates it (Gauss–Legendre
#: nodes in cos θ, each with its own energy loss and straggling); ``"gaussian"`` folds in the
#: variance of the detected energy over the cone as a Gaussian (ndp ≤ 0.x: symmetric, so it
#: misplaces the one-sided edge of wide cones by keV).
CONE_MODES = ("exact", "gaussian")
#: Dead-layer materials (the front contacts of silicon detectors).
DEAD_LAYER_MATERIALS = ("Si", "Au")


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
    straggling : {"lindhard-scharff", "bohr", "chu", "yang"}
        Straggling model (:mod:`ndp.physics.straggling`, which explains the default).
    cone : {"exact", "gaussian"}
        How the acceptance cone enters the response (:data:`CONE_MODES`).
    cone_nodes : int
        Gauss–Legendre nodes over the cone; 0 (default) chooses them from the cone's energy
        spread (:func:`ndp.model.forward.cone_nodes`).
    dead_layer_material : {"Si", "Au"}
    dead_layer_um : float
        Thickness of the entrance dead layer, µm (0: none).
    pulse_height_defect_alpha_keV, pulse_height_defect_triton_keV : float
        Deposited energy that gives no signal, keV (≥ 0).
    tail_fraction : float
        Fraction of particles in the low-energy tail, 0 ≤ f < 1 (0: none).
    tail_slope_keV : float
        Mean shortfall of a tail particle's pulse (the exponential's e-folding energy), keV.
    """

    resolution_keV: float = 20.0
    acceptance_half_angle_deg: float = 0.0
    solid_angle_sr: float = 1e-3
    threshold_keV: float = 50.0
    channel_width_keV: float = 0.0
    straggling_scale: float = 1.0
    straggling: str = DEFAULT_MODEL
    cone: str = "exact"
    cone_nodes: int = 0
    dead_layer_material: str = "Si"
    dead_layer_um: float = 0.0
    pulse_height_defect_alpha_keV: float = 0.0
    pulse_height_defect_triton_keV: float = 0.0
    tail_fraction: float = 0.0
    tail_slope_keV: float = 30.0

    def __post_init__(self):
        checks = {
            "resolution_keV": (self.resolution_keV, 0.0, False),
            "acceptance_half_angle_deg": (self.acceptance_half_angle_deg, 0.0, True),
            "solid_angle_sr": (self.solid_angle_sr, 0.0, False),
            "threshold_keV": (self.threshold_keV, 0.0, True),
            "channel_width_keV": (self.channel_width_keV, 0.0, True),
            "straggling_scale": (self.straggling_scale, 0.0, True),
            "dead_layer_um": (self.dead_layer_um, 0.0, True),
            "pulse_height_defect_alpha_keV": (self.pulse_height_defect_alpha_keV, 0.0, True),
            "pulse_height_defect_triton_keV": (self.pulse_height_defect_triton_keV, 0.0, True),
            "tail_fraction": (self.tail_fraction, 0.0, True),
            "tail_slope_keV": (self.tail_slope_keV, 0.0, False),
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
        choices = {
            "straggling": (self.straggling, MODELS),
            "cone": (self.cone, CONE_MODES),
            "dead_layer_material": (self.dead_layer_material, DEAD_LAYER_MATERIALS),
        }
        for name, (value, allowed) in choices.items():
            if value not in allowed:
                raise NdpError(
                    f"detector.{name}: expected one of {', '.join(map(repr, allowed))}, got {value!r}"
                )
        if not self.tail_fraction < 1:
            raise NdpError(f"detector.tail_fraction: expected < 1, got {self.tail_fraction}")
        if not (isinstance(self.cone_nodes, int) and 0 <= self.cone_nodes <= 256):
            raise NdpError(
                f"detector.cone_nodes: expected an integer 0…256 (0: automatic), got {self.cone_nodes!r}"
            )

    def pulse_height_defect_keV(self, particle) -> float:
        """The pulse-height defect of ``particle`` ("alpha" or "triton"), keV."""

        name = get_particle(particle).name
        if name == "alpha":
            return float(self.pulse_height_defect_alpha_keV)
        if name == "triton":
            return float(self.pulse_height_defect_triton_keV)
        return 0.0

    def pulse_height_keV(self, particle, deposited_keV):
        """Detected energy (the calibrated pulse height) for energy deposited in the detector, keV.

        Parameters
        ----------
        particle : str
        deposited_keV : array_like
            Energy deposited behind the dead layer, keV.

        Returns
        -------
        ndarray
            ``deposited − pulse-height defect``, 0 where nothing is deposited.
        """
        e = np.asarray(deposited_keV, dtype=float)
        return np.where(e > 0, np.maximum(e - self.pulse_height_defect_keV(particle), 0.0), 0.0)

    def detected_keV(self, particle, incident_keV, cos_theta=1.0):
        """Detected energy of a particle reaching the detector's face with ``incident_keV``.

        The dead layer (along ``dead_layer_um / cos θ``) and then the pulse-height defect; this
        is the energy a calibration line of that particle is fitted at.

        Parameters
        ----------
        particle : str
        incident_keV : array_like
        cos_theta : array_like
            Cosine of the angle to the detector's normal; broadcasts with ``incident_keV``.
        """
        e = np.asarray(incident_keV, dtype=float)
        if self.dead_layer_um > 0:
            curve = _dead_layer_curve(self.dead_layer_material, particle)
            e = curve.energy_after(e, self.dead_layer_um / np.asarray(cos_theta, dtype=float))
        return self.pulse_height_keV(particle, e)

    @property
    def has_pulse_effects(self) -> bool:
        """Whether a dead layer or a pulse-height defect is set."""
        return (
            self.dead_layer_um > 0
            or self.pulse_height_defect_alpha_keV > 0
            or self.pulse_height_defect_triton_keV > 0
        )

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


@functools.lru_cache(maxsize=16)
def _dead_layer_material(name: str):
    return Material(name)


def _dead_layer_curve(name: str, particle):
    return _dead_layer_material(name).curve(particle)


@functools.lru_cache(maxsize=64)
def _with_dead_layer(cs, material: str, thickness_um: float):
    mat = _dead_layer_material(material)
    return prepend_window(cs, mat.curve(cs.particle), thickness_um, mat)


def compile_stack(stack, particle, detector: Detector | None = None):
    """``stack.to_array(particle)`` with the detector's dead layer as the outermost window layer.

    Parameters
    ----------
    stack : Stack
    particle : str
    detector : Detector, optional
        Without one, or without a dead layer, the stack as compiled.

    Returns
    -------
    CompiledStack
        Cached: the same arguments give the same object.
    """
    cs = stack.to_array(particle)
    if detector is None or detector.dead_layer_um <= 0:
        return cs
    return _with_dead_layer(cs, detector.dead_layer_material, float(detector.dead_layer_um))
