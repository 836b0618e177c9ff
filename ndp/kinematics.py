"""Energy ↔ depth for a compiled layer stack: pure, vectorised kernels.

A particle born at depth x (µm, from the profiled layer's detector-side surface) with energy E0
travels x/cosθ through the profiled layer and tᵢ/cosθ through each window layer. Every step uses
the CSDA range R(E) of that layer's material: after a path s, E' = R⁻¹(R(E) − s). Forward and
inverse maps use the same piecewise log-log interpolation, so ``depth(energy(x)) == x`` to
rounding, and the slope follows from dE_out/dE_in = S(E_out)/S(E_in) across a layer.

All functions broadcast ``depth_um``/``energy_keV`` against ``cos_theta``: pass shapes (N, 1) and
(1, M) to get (N, M) maps over energies and angles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import StackError
from .stopping import Particle, StoppingCurve, get_particle

__all__ = [
    "CompiledStack",
    "depth_from_energy",
    "detected_energy",
    "energy_slope",
    "max_depth",
]


@dataclass(frozen=True, eq=False)
class CompiledStack:
    """A stack compiled for one particle: the arrays the kernels need.

    Attributes
    ----------
    particle : Particle
    energy0_keV : float
        Birth energy.
    window : tuple of StoppingCurve
        Curves of the layers between the profiled layer and the detector, detector side first.
    window_um : ndarray of shape (n_window,)
        Their thicknesses, µm.
    profiled : StoppingCurve
    profiled_um : float
        Thickness of the profiled layer, µm.
    bohr : tuple of (ndarray, ndarray)
        Per layer (window layers first, profiled last): element Z and atom fractions, for
        straggling.
    """

    particle: Particle
    energy0_keV: float
    window: tuple[StoppingCurve, ...]
    window_um: np.ndarray
    profiled: StoppingCurve
    profiled_um: float
    bohr: tuple[tuple[np.ndarray, np.ndarray], ...]

    @classmethod
    def from_stack(cls, stack, particle: str | Particle) -> CompiledStack:
        import periodictable

        p = get_particle(particle)
        window = stack.window
        prof = stack.profiled

        def zx(material):
            items = material.atom_fractions.items()
            z = np.array([periodictable.elements.symbol(s).number for s, _ in items], float)
            x = np.array([f for _, f in items])
            return z, x

        return cls(
            particle=p,
            energy0_keV=p.energy_keV,
            window=tuple(layer.material.curve(p) for layer in window),
            window_um=np.array([layer.thickness_um for layer in window], dtype=float),
            profiled=prof.material.curve(p),
            profiled_um=prof.thickness_um,
            bohr=tuple(zx(layer.material) for layer in (*window, prof)),
        )

    @property
    def surface_energy_keV(self) -> float:
        """Detected energy of a particle born at depth 0 at normal emission, keV."""
        return float(detected_energy(self, 0.0))


def detected_energy(cs: CompiledStack, depth_um, cos_theta=1.0) -> np.ndarray:
    """Energy reaching the detector from a reaction at ``depth_um``.

    Parameters
    ----------
    cs : CompiledStack
    depth_um : array_like
        Depth in the profiled layer, µm (≥ 0).
    cos_theta : array_like
        Cosine of the emission angle from the surface normal; broadcasts with ``depth_um``.

    Returns
    -------
    ndarray
        Detected energy, keV; 0 where the particle stops before the detector.
    """
    depth = np.asarray(depth_um, dtype=float)
    cos = np.asarray(cos_theta, dtype=float)
    e = cs.profiled.energy_after(
        np.full(np.broadcast(depth, cos).shape, cs.energy0_keV), depth / cos
    )
    for curve, t in zip(reversed(cs.window), reversed(cs.window_um), strict=True):
        e = curve.energy_after(e, t / cos)
    return e


def depth_from_energy(cs: CompiledStack, energy_keV, cos_theta=1.0) -> np.ndarray:
    """Depth (µm) of the reaction whose particle arrives with ``energy_keV``.

    Inverse of :func:`detected_energy`. Energies above the surface edge map to negative
    depths (useful for channels above the edge); NaN where no birth energy could produce them.
    """
    e = np.asarray(energy_keV, dtype=float)
    cos = np.asarray(cos_theta, dtype=float)
    e = np.broadcast_to(e, np.broadcast(e, cos).shape)
    for curve, t in zip(cs.window, cs.window_um, strict=True):
        e = curve.energy_before(e, t / cos)
    r0 = cs.profiled.range(cs.energy0_keV)
    return cos * (r0 - cs.profiled.range(e))


def energy_slope(cs: CompiledStack, depth_um, cos_theta=1.0) -> np.ndarray:
    """dE_det/dx, keV per µm of depth (negative: deeper means less energy); 0 if stopped."""
    depth = np.asarray(depth_um, dtype=float)
    cos = np.asarray(cos_theta, dtype=float)
    e = cs.profiled.energy_after(
        np.full(np.broadcast(depth, cos).shape, cs.energy0_keV), depth / cos
    )
    slope = -cs.profiled.stopping(e) / cos
    for curve, t in zip(reversed(cs.window), reversed(cs.window_um), strict=True):
        e_out = curve.energy_after(e, t / cos)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(e_out > 0, curve.stopping(e_out) / curve.stopping(e), 0.0)
        slope = slope * ratio
        e = e_out
    return np.where(e > 0, slope, 0.0)


def max_depth(cs: CompiledStack, threshold_keV: float = 0.0, cos_theta=1.0) -> np.ndarray:
    """Deepest reaction whose particle reaches the detector above ``threshold_keV``, µm.

    Limited to the profiled layer's thickness; 0 where nothing escapes even from the surface.
    """
    d = depth_from_energy(cs, max(float(threshold_keV), 1e-3), cos_theta)
    return np.clip(np.nan_to_num(d, nan=0.0), 0.0, cs.profiled_um)


def escapes(cs: CompiledStack, threshold_keV: float = 0.0) -> bool:
    """Whether particles from the profiled layer's surface reach the detector."""
    return bool(detected_energy(cs, 0.0) > threshold_keV)


def require_escape(cs: CompiledStack, threshold_keV: float = 0.0) -> None:
    """Raise :class:`StackError` if no particle of this kind leaves the stack."""
    if not escapes(cs, threshold_keV):
        total = float(np.sum(cs.window_um))
        raise StackError(
            f"stack: no {cs.particle.name} escapes: the {total:g} µm in front of the profiled "
            f"layer stop it (its range there is shorter than the window)"
        )
