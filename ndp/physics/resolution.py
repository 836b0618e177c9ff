"""Depth resolution: energy straggling, detector, collimator and channel width.

The energy spread at the detector of particles born at one depth has four parts, added in
quadrature (variances, keV²):

* detector: (FWHM/2.3548)²;
* straggling in every layer crossed (the detector's dead layer included): Bohr's
  Ω² = 4π Z₁² e⁴ N Z₂ s times the chosen model's correction (:mod:`ndp.physics.straggling`; by default
  the Lindhard–Scharff factor), and carried to the detector through the later layers by
  (S(E_out)/S(E))², which widens or narrows it as the particle slows;
* the collimator's angular spread: the variance of E_det over the accepted emission angles
  (the response matrix integrates the cone exactly, :mod:`ndp.model.forward`; here it is summarised
  by its variance);
* the channel width w: w²/12.

The depth resolution (FWHM, µm) is the energy FWHM divided by |dE_det/dx| at normal emission.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ndp.errors import StackError
from ndp.physics import constants as C
from ndp.physics.detector import Detector, angular_quadrature, compile_stack
from ndp.physics.kinematics import (
    CompiledStack,
    detected_energy,
    energy_slope,
    max_depth,
    region_paths,
    require_escape,
)
from ndp.physics.stopping import StoppingCurve, get_particle
from ndp.physics.straggling import DEFAULT_MODEL, bohr_ratio

__all__ = ["depth_resolution", "depth_scale", "escaping_particles", "straggling_variance"]


def _cross_layer(
    curve: StoppingCurve,
    zx,
    e: np.ndarray,
    var: np.ndarray,
    path_um: np.ndarray,
    particle,
    n_sub: int,
    model: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Carry energy and variance across one layer of path ``path_um`` in ``n_sub`` steps."""
    z2, x = zx
    # Bohr's Ω² per µm of this material: 4πe⁴ Z1² Σ xᵢ Zᵢ · atoms per (1e15/cm²) per µm.
    per_um = C.BOHR_KEV2_PER_1E15 * particle.z**2 * curve.atoms_cm3 * 1e-19
    ds = path_um / n_sub
    for _ in range(n_sub):
        e_mid = curve.energy_after(e, 0.5 * ds)
        e_out = curve.energy_after(e, ds)
        factor = np.sum(x * z2 * bohr_ratio(model, e_mid, particle.mass_u, particle.z, z2), axis=-1)
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
    cs: CompiledStack, depth_um, cos_theta=1.0, n_sub: int = 24, *, model: str = DEFAULT_MODEL
) -> np.ndarray:
    """Energy-straggling variance at the detector, keV², for reactions at ``depth_um``.

    Parameters
    ----------
    cs : CompiledStack
    depth_um : array_like
    cos_theta : array_like
        Cosine of the emission angle; broadcasts with ``depth_um`` (shapes (N, 1) and (1, M)
        give an (N, M) map).
    n_sub : int
        Sub-steps per layer.
    model : {"lindhard-scharff", "bohr", "chu", "yang"}
        Straggling model (:mod:`ndp.physics.straggling`).

    Returns
    -------
    ndarray of the broadcast shape (at least 1-D)
        NaN where the particle does not reach the detector.
    """
    depth = np.atleast_1d(np.asarray(depth_um, dtype=float))
    cos = np.asarray(cos_theta, dtype=float)
    shape = np.broadcast(depth, cos).shape
    p = cs.particle
    e = np.full(shape, cs.energy0_keV)
    var = np.zeros(shape)
    n_w = len(cs.window)
    region_bohr = cs.bohr[n_w:]
    for curve, path, zx in zip(reversed(cs.region), region_paths(cs, depth, cos),
                               reversed(region_bohr), strict=True):  # fmt: skip
        e, var = _cross_layer(curve, zx, e, var, np.broadcast_to(path, shape), p, n_sub, model)
    for curve, t, zx in zip(
        reversed(cs.window), reversed(cs.window_um), reversed(cs.bohr[:n_w]), strict=True
    ):
        e, var = _cross_layer(curve, zx, e, var, np.broadcast_to(t / cos, shape), p, n_sub, model)
    return var


def depth_resolution(
    cs: CompiledStack, depth_um, detector: Detector, *, n_angles: int = 20
) -> dict[str, np.ndarray]:
    """Energy spread and depth resolution vs depth.

    Parameters
    ----------
    cs : CompiledStack
        With the detector's dead layer, if any (:func:`ndp.physics.detector.compile_stack`).
    depth_um : array_like of shape (N,)
    detector : Detector
        Its straggling model and ``straggling_scale`` apply, and ``energy_keV`` is the
        detected energy (after the pulse-height defect).
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
    energy = detector.pulse_height_keV(cs.particle, detected_energy(cs, depth))
    slope = energy_slope(cs, depth)
    s_det = np.full(depth.shape, (detector.resolution_keV / C.FWHM_PER_SIGMA) ** 2)
    s_str = straggling_variance(cs, depth, model=detector.straggling) * detector.straggling_scale**2
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


def deposit_threshold_keV(detector: Detector, particle) -> float:
    """Deposited energy whose pulse reaches the threshold: threshold + pulse-height defect, keV."""
    return float(detector.threshold_keV + detector.pulse_height_defect_keV(particle))


def escaping_particles(stack, detector: Detector, particles="auto") -> list[str]:
    """The particles to use: ``"auto"`` keeps those that leave the stack above threshold."""
    if isinstance(particles, str) and particles != "auto":
        particles = [particles]

    def surface(name):
        cs = compile_stack(stack, name, detector)
        return float(detector.pulse_height_keV(name, detected_energy(cs, 0.0)))

    if particles == "auto":
        out = [name for name in ("alpha", "triton") if surface(name) > detector.threshold_keV]
        if not out:
            require_escape(compile_stack(stack, "triton", detector), detector.threshold_keV)
        return out
    names = [get_particle(p).name for p in particles]
    for name in names:
        require_escape(compile_stack(stack, name, detector), deposit_threshold_keV(detector, name))
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
        ``depth_areal`` (10¹⁵ atoms/cm²); per particle ``max_depth_um``,
        ``surface_energy_keV`` (normal emission), ``edge_mean_keV`` (over the cone),
        ``surface_resolution_keV`` (FWHM) and ``surface_straggling_keV`` (σ), all with the
        detector's dead layer, pulse-height defect and straggling model; the detector's
        settings in ``attrs``.
    """

    detector = detector or Detector()
    if not (depth_step_um > 0):
        raise StackError(f"depth_step_um: expected > 0, got {depth_step_um}")
    names = escaping_particles(stack, detector, particles)
    compiled = {n: compile_stack(stack, n, detector) for n in names}
    deepest = {
        n: float(max_depth(cs, deposit_threshold_keV(detector, n))) for n, cs in compiled.items()
    }
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
    surface = {n: depth_resolution(cs, [0.0], detector) for n, cs in compiled.items()}
    ds["surface_energy_keV"] = (
        "particle",
        [float(surface[n]["energy_keV"][0]) for n in names],
        {"units": "keV", "long_name": "detected energy from depth 0 at normal emission"},
    )
    ds["edge_mean_keV"] = (
        "particle",
        [_cone_mean_keV(compiled[n], detector) for n in names],
        {"units": "keV", "long_name": "mean detected energy from depth 0 over the cone"},
    )
    ds["surface_resolution_keV"] = (
        "particle",
        [float(surface[n]["resolution_keV"][0]) for n in names],
        {"units": "keV", "long_name": "energy spread (FWHM) from depth 0"},
    )
    ds["surface_straggling_keV"] = (
        "particle",
        [float(np.sqrt(surface[n]["sigma2_straggling"][0])) for n in names],
        {"units": "keV", "long_name": "straggling standard deviation from depth 0"},
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
        straggling=detector.straggling,
        straggling_scale=detector.straggling_scale,
        cone=detector.cone,
        dead_layer=f"{detector.dead_layer_um:g} um {detector.dead_layer_material}"
        if detector.dead_layer_um > 0 else "none",
        pulse_height_defect_keV=f"alpha {detector.pulse_height_defect_alpha_keV:g}, "
        f"triton {detector.pulse_height_defect_triton_keV:g}",
        tail=f"{detector.tail_fraction:g} of counts, {detector.tail_slope_keV:g} keV slope"
        if detector.tail_fraction > 0 else "none",
    )  # fmt: skip
    return ds


def _cone_mean_keV(cs: CompiledStack, detector: Detector, n_angles: int = 20) -> float:
    """Mean detected energy of particles from depth 0 over the accepted cone, keV."""
    cos, w = angular_quadrature(detector.acceptance_half_angle_deg, n_angles)
    e = detector.pulse_height_keV(cs.particle, detected_energy(cs, 0.0, cos))
    seen = e > 0
    return float(np.sum(e * w * seen) / max(np.sum(w * seen), 1e-300))
