"""Energy ↔ depth for a compiled layer stack: pure, vectorised kernels.

Depth x (µm) is measured from the detector-side surface of the profiled layer and runs on
through the layers behind it (the *profiled region*: e.g. a Li deposit, then the electrolyte).
A particle born at depth x with energy E0 crosses, at emission angle θ, the rest of the region
layers above it and then every window layer, each along its thickness / cos θ. Every step uses
the CSDA range R(E) of that layer's material: after a path s, E' = R⁻¹(R(E) − s). Forward and
inverse maps use the same piecewise log-log interpolation, so ``depth(energy(x)) == x`` to
rounding, and the slope follows from dE_out/dE_in = S(E_out)/S(E_in) across a layer.

All functions broadcast ``depth_um``/``energy_keV`` against ``cos_theta``: pass shapes (N, 1) and
(1, M) to get (N, M) maps over energies and angles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ndp.errors import StackError
from ndp.physics.stopping import Particle, StoppingCurve, get_particle

__all__ = [
    "CompiledStack",
    "birth_layer",
    "depth_from_energy",
    "detected_energy",
    "energy_slope",
    "max_depth",
    "prepend_window",
    "region_paths",
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
        Layers between the profiled region and the detector, detector side first.
    window_um : ndarray of shape (n_window,)
    region : tuple of StoppingCurve
        The profiled layer and the layers behind it, detector side first.
    region_um : ndarray of shape (n_region,)
        Their thicknesses, µm.
    region_top_um : ndarray of shape (n_region,)
        Depth of each region layer's detector-side surface, µm (the first is 0).
    bohr : tuple of (ndarray, ndarray)
        Per layer (window layers, then region layers): element Z and atom fractions, for
        straggling.
    """

    particle: Particle
    energy0_keV: float
    window: tuple[StoppingCurve, ...]
    window_um: np.ndarray
    region: tuple[StoppingCurve, ...]
    region_um: np.ndarray
    region_top_um: np.ndarray
    bohr: tuple[tuple[np.ndarray, np.ndarray], ...]

    @classmethod
    def from_stack(cls, stack, particle: str | Particle) -> CompiledStack:
        p = get_particle(particle)
        window, region = stack.window, stack.region
        zx = _element_fractions
        thick = np.array([layer.thickness_um for layer in region], dtype=float)
        return cls(
            particle=p,
            energy0_keV=p.energy_keV,
            window=tuple(layer.material.curve(p) for layer in window),
            window_um=np.array([layer.thickness_um for layer in window], dtype=float),
            region=tuple(layer.material.curve(p) for layer in region),
            region_um=thick,
            region_top_um=np.concatenate([[0.0], np.cumsum(thick)[:-1]]),
            bohr=tuple(zx(layer.material) for layer in (*window, *region)),
        )

    @property
    def region_end_um(self) -> float:
        """Depth of the back of the profiled region, µm."""
        return float(self.region_top_um[-1] + self.region_um[-1])

    @property
    def surface_energy_keV(self) -> float:
        """Detected energy of a particle born at depth 0 at normal emission, keV."""
        return float(detected_energy(self, 0.0))


def _element_fractions(material) -> tuple[np.ndarray, np.ndarray]:
    """Element Z and atom fractions of a material, for straggling."""
    import periodictable  # its element tables load on first import (~0.1 s)

    items = material.atom_fractions.items()
    z = np.array([periodictable.elements.symbol(s).number for s, _ in items], float)
    x = np.array([f for _, f in items])
    return z, x


def prepend_window(
    cs: CompiledStack, curve: StoppingCurve, thickness_um: float, material
) -> CompiledStack:
    """``cs`` with one more window layer on the detector side (e.g. the detector's dead layer).

    Parameters
    ----------
    cs : CompiledStack
    curve : StoppingCurve
        The layer's stopping for ``cs.particle``.
    thickness_um : float
    material : Material
        For the layer's elements (straggling).
    """
    return CompiledStack(
        particle=cs.particle,
        energy0_keV=cs.energy0_keV,
        window=(curve, *cs.window),
        window_um=np.concatenate([[float(thickness_um)], cs.window_um]),
        region=cs.region,
        region_um=cs.region_um,
        region_top_um=cs.region_top_um,
        bohr=(_element_fractions(material), *cs.bohr),
    )


def birth_layer(cs: CompiledStack, depth_um) -> np.ndarray:
    """Index of the region layer holding each depth (depths past the end: the last layer)."""
    idx = np.searchsorted(cs.region_top_um, np.asarray(depth_um, dtype=float), side="right") - 1
    return np.clip(idx, 0, len(cs.region) - 1)


def region_paths(cs: CompiledStack, depth_um, cos_theta=1.0) -> list[np.ndarray]:
    """Path (µm) in each region layer of a particle born at ``depth_um``, deepest layer first.

    A particle born in layer r travels (x − top_r)/cos θ in it, the full thickness / cos θ in each
    region layer above, and nothing in the layers below.
    """
    x = np.asarray(depth_um, dtype=float)
    cos = np.asarray(cos_theta, dtype=float)
    born = birth_layer(cs, x)
    paths = []
    for r in range(len(cs.region) - 1, -1, -1):
        top, t = cs.region_top_um[r], cs.region_um[r]
        paths.append(np.where(born == r, (x - top) / cos, np.where(born > r, t / cos, 0.0)))
    return paths


def detected_energy(cs: CompiledStack, depth_um, cos_theta=1.0) -> np.ndarray:
    """Energy reaching the detector from a reaction at ``depth_um``.

    Parameters
    ----------
    cs : CompiledStack
    depth_um : array_like
        Depth in the profiled region, µm (≥ 0).
    cos_theta : array_like
        Cosine of the emission angle from the surface normal; broadcasts with ``depth_um``.

    Returns
    -------
    ndarray
        Detected energy, keV; 0 where the particle stops before the detector.
    """
    depth = np.asarray(depth_um, dtype=float)
    cos = np.asarray(cos_theta, dtype=float)
    e = np.full(np.broadcast(depth, cos).shape, cs.energy0_keV)
    for curve, path in zip(reversed(cs.region), region_paths(cs, depth, cos), strict=True):
        e = curve.energy_after(e, path)
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
    depth = np.full(e.shape, np.nan)
    found = np.zeros(e.shape, dtype=bool)
    for r, curve in enumerate(cs.region):
        last = r == len(cs.region) - 1
        before = curve.energy_before(e, cs.region_um[r] / cos)
        # Born in this layer if crossing all of it would need more than the birth energy.
        here = ~found & (last | ~(before < cs.energy0_keV))
        x = cs.region_top_um[r] + cos * (curve.range(cs.energy0_keV) - curve.range(e))
        depth = np.where(here, x, depth)
        found |= here
        e = before
    return depth


def energy_slope(cs: CompiledStack, depth_um, cos_theta=1.0) -> np.ndarray:
    """dE_det/dx, keV per µm of depth (negative: deeper means less energy); 0 if stopped."""
    depth = np.asarray(depth_um, dtype=float)
    cos = np.asarray(cos_theta, dtype=float)
    shape = np.broadcast(depth, cos).shape
    e = np.full(shape, cs.energy0_keV)
    slope = np.zeros(shape)
    born = np.broadcast_to(birth_layer(cs, depth), shape)
    n = len(cs.region)
    for k, (curve, path) in enumerate(
        zip(reversed(cs.region), region_paths(cs, depth, cos), strict=True)
    ):
        r = n - 1 - k
        e_out = curve.energy_after(e, path)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(e_out > 0, curve.stopping(e_out) / curve.stopping(e), 0.0)
        slope = np.where(
            born == r, -curve.stopping(e_out) / cos, np.where(born > r, slope * ratio, slope)
        )
        e = e_out
    for curve, t in zip(reversed(cs.window), reversed(cs.window_um), strict=True):
        e_out = curve.energy_after(e, t / cos)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(e_out > 0, curve.stopping(e_out) / curve.stopping(e), 0.0)
        slope = slope * ratio
        e = e_out
    return np.where(e > 0, slope, 0.0)


def max_depth(cs: CompiledStack, threshold_keV: float = 0.0, cos_theta=1.0) -> np.ndarray:
    """Deepest reaction whose particle reaches the detector above ``threshold_keV``, µm.

    Limited to the profiled region; 0 where nothing escapes even from the surface.
    """
    d = depth_from_energy(cs, max(float(threshold_keV), 1e-3), cos_theta)
    return np.clip(np.nan_to_num(d, nan=0.0), 0.0, cs.region_end_um)


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
