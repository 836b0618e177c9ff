"""Depth resolution: energy straggling, detector, collimator and channel width.

The energy spread at the detector of particles born at one depth has four parts, added in
quadrature (variances, keV²):

* detector: (FWHM/2.3548)²;
* straggling in every layer crossed: Bohr's Ω² = 4π Z₁² e⁴ N Z₂ s, reduced at low velocity by
  the Lindhard–Scharff factor L(χ)/2 (χ = v²/(Z₂v₀²), capped at 1), and carried to the detector
  through the later layers by (S(E_out)/S(E))², which widens or narrows it as the particle slows;
* the collimator's angular spread: the variance of E_det over the accepted emission angles;
* the channel width w: w²/12.

The depth resolution (FWHM, µm) is the energy FWHM divided by |dE_det/dx| at normal emission.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from . import constants as C
from .detector import Detector, angular_quadrature
from .kinematics import (
    CompiledStack,
    detected_energy,
    energy_slope,
    max_depth,
    region_paths,
    require_escape,
)
from .stopping import StoppingCurve, get_particle

__all__ = ["depth_resolution", "depth_scale", "straggling_variance"]


def _lindhard_scharff(energy_keV: np.ndarray, mass_u: float, z2: np.ndarray) -> np.ndarray:
    """Low-velocity reduction of Bohr straggling, L(χ)/2 capped at 1; broadcasts over z2."""
    chi = (np.maximum(energy_keV, 0.0) / mass_u / C.BOHR_VELOCITY_KEV_PER_U)[..., None] / z2
    ls = 0.5 * (1.36 * np.sqrt(chi) - 0.016 * chi**1.5)
    return np.clip(ls, 0.0, 1.0)


def _cross_layer(
    curve: StoppingCurve,
    zx,
    e: np.ndarray,
    var: np.ndarray,
    path_um: np.ndarray,
    z1: int,
    mass_u: float,
    n_sub: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Carry energy and variance across one layer of path ``path_um`` in ``n_sub`` steps."""
    z2, x = zx
    # Bohr's Ω² per µm of this material: 4πe⁴ Z1² Σ xᵢ Zᵢ · atoms per (1e15/cm²) per µm.
    per_um = C.BOHR_KEV2_PER_1E15 * z1**2 * curve.atoms_cm3 * 1e-19
    ds = path_um / n_sub
    for _ in range(n_sub):
        e_mid = curve.energy_after(e, 0.5 * ds)
        e_out = curve.energy_after(e, ds)
        factor = np.sum(x * z2 * _lindhard_scharff(e_mid, mass_u, z2), axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            s_out = curve.stopping(e_out)
            carry = np.where(e_out > 0, (s_out / curve.stopping(e)) ** 2, np.nan)
            new = np.where(
                e_out > 0, per_um * factor * ds * (s_out / curve.stopping(e_mid)) ** 2, np.nan
            )
        var = var * carry + new
        e = e_out
    return e, var


def straggling_variance(
    cs: CompiledStack, depth_um, cos_theta: float = 1.0, n_sub: int = 24
) -> np.ndarray:
    """Energy-straggling variance at the detector, keV², for reactions at ``depth_um``.

    Parameters
    ----------
    cs : CompiledStack
    depth_um : array_like of shape (N,)
    cos_theta : float
    n_sub : int
        Sub-steps per layer.

    Returns
    -------
    ndarray of shape (N,)
        NaN where the particle does not reach the detector.
    """
    depth = np.atleast_1d(np.asarray(depth_um, dtype=float))
    p = cs.particle
    e = np.full(depth.shape, cs.energy0_keV)
    var = np.zeros(depth.shape)
    n_w = len(cs.window)
    region_bohr = cs.bohr[n_w:]
    for curve, path, zx in zip(reversed(cs.region), region_paths(cs, depth, cos_theta),
                               reversed(region_bohr), strict=True):  # fmt: skip
        e, var = _cross_layer(curve, zx, e, var, path, p.z, p.mass_u, n_sub)
    for curve, t, zx in zip(
        reversed(cs.window), reversed(cs.window_um), reversed(cs.bohr[:n_w]), strict=True
    ):
        e, var = _cross_layer(
            curve, zx, e, var, np.full(depth.shape, t / cos_theta), p.z, p.mass_u, n_sub
        )
    return var


def depth_resolution(
    cs: CompiledStack, depth_um, detector: Detector, *, n_angles: int = 20
) -> dict[str, np.ndarray]:
    """Energy spread and depth resolution vs depth.

    Parameters
    ----------
    cs : CompiledStack
    depth_um : array_like of shape (N,)
    detector : Detector
    n_angles : int
        Quadrature nodes over the collimator's acceptance.

    Returns
    -------
    dict of str to ndarray of shape (N,)
        ``energy_keV`` and ``dE_dx_keV_um`` at normal emission; ``sigma2_detector``,
        ``sigma2_straggling``, ``sigma2_angular``, ``sigma2_channel`` (keV²);
        ``resolution_keV`` (FWHM); ``resolution_um`` (FWHM depth resolution).
    """
    depth = np.atleast_1d(np.asarray(depth_um, dtype=float))
    energy = detected_energy(cs, depth)
    slope = energy_slope(cs, depth)
    s_det = np.full(depth.shape, (detector.resolution_keV / C.FWHM_PER_SIGMA) ** 2)
    s_str = straggling_variance(cs, depth)
    cos, w = angular_quadrature(detector.acceptance_half_angle_deg, n_angles)
    e_ang = detected_energy(cs, depth[:, None], cos[None, :])
    mean = e_ang @ w
    s_ang = ((e_ang - mean[:, None]) ** 2) @ w
    s_ch = np.full(depth.shape, detector.channel_width_keV**2 / 12.0)
    total = s_det + s_str + s_ang + s_ch
    fwhm_e = C.FWHM_PER_SIGMA * np.sqrt(total)
    with np.errstate(divide="ignore", invalid="ignore"):
        fwhm_x = np.where(slope != 0, fwhm_e / np.abs(slope), np.nan)
    stopped = energy <= 0
    fwhm_e = np.where(stopped, np.nan, fwhm_e)
    return {
        "energy_keV": energy,
        "dE_dx_keV_um": slope,
        "sigma2_detector": s_det,
        "sigma2_straggling": s_str,
        "sigma2_angular": s_ang,
        "sigma2_channel": s_ch,
        "resolution_keV": fwhm_e,
        "resolution_um": fwhm_x,
    }


def escaping_particles(stack, detector: Detector, particles="auto") -> list[str]:
    """The particles to use: ``"auto"`` keeps those that leave the stack above threshold."""
    if isinstance(particles, str) and particles != "auto":
        particles = [particles]
    if particles == "auto":
        out = [
            name
            for name in ("alpha", "triton")
            if detected_energy(stack.to_array(name), 0.0) > detector.threshold_keV
        ]
        if not out:
            require_escape(stack.to_array("triton"), detector.threshold_keV)
        return out
    names = [get_particle(p).name for p in particles]
    for name in names:
        require_escape(stack.to_array(name), detector.threshold_keV)
    return names


def depth_scale(
    stack,
    detector: Detector | None = None,
    *,
    particles="auto",
    depth_step_um: float = 0.1,
    max_depth_um: float | None = None,
) -> xr.Dataset:
    """The energy ↔ depth map and depth resolution of a stack, per particle.

    Parameters
    ----------
    stack : Stack
    detector : Detector, optional
        Defaults to ``Detector()``.
    particles : {"auto", "alpha", "triton"} or list of str
    depth_step_um : float
        Spacing of the depth grid, µm.
    max_depth_um : float, optional
        Deepest depth listed; default: the deepest from which some particle escapes.

    Returns
    -------
    xarray.Dataset
        Dims ``particle``, ``depth`` (µm). Variables ``energy_keV``, ``dE_dx_keV_um``,
        ``resolution_um``, ``resolution_keV`` (NaN beyond a particle's escape depth) and
        ``depth_areal`` (10¹⁵ atoms/cm²) and ``max_depth_um`` per particle.
    """
    from .errors import StackError

    detector = detector or Detector()
    if not (depth_step_um > 0):
        raise StackError(f"depth_step_um: expected > 0, got {depth_step_um}")
    names = escaping_particles(stack, detector, particles)
    compiled = {n: stack.to_array(n) for n in names}
    deepest = {n: float(max_depth(cs, detector.threshold_keV)) for n, cs in compiled.items()}
    top = max_depth_um if max_depth_um is not None else max(deepest.values())
    n = int(np.floor(top / depth_step_um + 1e-9)) + 1
    depth = np.arange(n) * depth_step_um
    fields = ("energy_keV", "dE_dx_keV_um", "resolution_um", "resolution_keV")
    data = {f: np.full((len(names), n), np.nan) for f in fields}
    for i, name in enumerate(names):
        res = depth_resolution(compiled[name], depth, detector)
        inside = depth <= deepest[name] + 1e-12
        for f in fields:
            data[f][i] = np.where(inside, res[f], np.nan)
    units = {
        "energy_keV": "keV",
        "dE_dx_keV_um": "keV/um",
        "resolution_um": "um",
        "resolution_keV": "keV",
    }
    region = stack.region
    ds = xr.Dataset(
        {f: (("particle", "depth"), data[f], {"units": units[f]}) for f in fields},
        coords={
            "particle": names,
            "depth": ("depth", depth, {"units": "um", "long_name": "depth in the profiled region"}),
            "depth_areal": (
                "depth",
                stack.depth_to_areal(depth),
                {"units": "1e15 atoms/cm2"},
            ),
        },
    )
    ds["max_depth_um"] = ("particle", [deepest[n] for n in names], {"units": "um"})
    ds["surface_energy_keV"] = (
        "particle",
        [compiled[n].surface_energy_keV for n in names],
        {"units": "keV"},
    )
    ds.attrs.update(
        stack=repr(stack),
        matrix=", then ".join(
            f"{lay.material.name} ({lay.material.density_g_cm3:g} g/cm3, {lay.thickness_um:g} µm)"
            for lay in region
        ),
        detector_resolution_keV=detector.resolution_keV,
        acceptance_half_angle_deg=detector.acceptance_half_angle_deg,
        threshold_keV=detector.threshold_keV,
    )
    return ds
