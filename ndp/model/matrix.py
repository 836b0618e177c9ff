"""The matrix of the profiled region, updated from the measured Li density (self-consistent).

A profile is a depth in µm only for a stated matrix: what the particles cross. An inversion
assumes the host (e.g. the electrolyte) throughout the profiled region; as Li plates, part of
the region becomes Li metal, which stops the particles less, so the assumed-host depth scale
compresses the deposit (by S_Li/S_host ≈ 0.4 for Li on a polymer electrolyte).

Two things about each depth slab do not depend on the assumed matrix: the energy its particles
lose crossing it, and its Li content (atoms/cm², from counts). Writing the slab as a volume
fraction φ of the deposit (Li metal) and 1 − φ of host, of true thickness Δx:

    S(φ) · Δx = S_host · Δx_host                       (same energy loss)
    (φ · c_metal + (1 − φ) · c_host) · Δx = c · Δx_host  (same Li content)

with S(φ) = φ·S_dep + (1 − φ)·S_host (Bragg's rule by volume) and c the density the host-matrix
inversion found. Eliminating Δx gives φ per slab directly,

    φ = (S_host·c_host − c·S_host) / (c·(S_dep − S_host) − S_host·(c_metal − c_host)),  in [0, 1],

then Δx, and the true depth of every slab by summation. No iteration and no new response
matrices: it applies to every frame of a series. Stopping powers are taken at the birth energy
of the particle that sets the depth scale (their ratio changes slowly with energy).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ndp.errors import NdpError
from ndp.model.scale import is_absolute
from ndp.physics import constants as C
from ndp.physics.materials import Material, Stack

__all__ = ["self_consistent"]


def self_consistent(profiles: xr.Dataset, stack: Stack, deposit: Material | None = None,
                    *, particle: str | None = None) -> xr.Dataset:  # fmt: skip
    """Re-express host-matrix profiles in the self-consistent Li metal + host matrix.

    Parameters
    ----------
    profiles : xarray.Dataset
        The result of :func:`ndp.model.invert.invert` with an absolute scale, computed with the host
        as the matrix of the profiled region (the stack's region layers).
    stack : Stack
        The stack that inversion used.
    deposit : Material, optional
        What plates; default Li metal.
    particle : {"alpha", "triton"}, optional
        Whose stopping sets the depth scale; default the first the inversion used.

    Returns
    -------
    xarray.Dataset
        Same variables on the same uniform depth grid, now in true depth: ``li_density``
        (φ·c_metal + (1 − φ)·c_host), ``li_density_rel``, ``phi`` (time, depth; the deposit's
        volume fraction) and ``matrix_depth_um`` (time, depth_edge: where each host slab went).
        ``li_areal`` and its error are unchanged: the Li content does not depend on the matrix.
    """
    if not is_absolute(profiles):
        raise NdpError("self-consistent matrix: needs an absolute scale (Li density in atoms/cm3)")
    deposit = deposit or Material("Li")
    p = particle or profiles.attrs["particles"].split(",")[0]
    edges_h = profiles.depth_edges.values
    width_h = np.diff(edges_h)
    centres_h = profiles.depth.values
    hosts = [layer.material for layer in stack.matrix_at(centres_h)]
    e0 = float(stack.to_array(p).energy0_keV)
    s_dep = float(deposit.curve(p).stopping(e0))
    s_host = np.array([float(h.curve(p).stopping(e0)) for h in hosts])
    c_host = np.array([h.li_atoms_cm3 for h in hosts])
    c_metal = deposit.li_atoms_cm3

    c = np.nan_to_num(profiles.li_density.values)  # (time, depth)
    num = s_host * c_host - c * s_host
    den = c * (s_dep - s_host) - s_host * (c_metal - c_host)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.clip(np.nan_to_num(np.where(den != 0, num / den, 0.0)), 0.0, 1.0)
    s_phi = phi * s_dep + (1.0 - phi) * s_host
    width_true = width_h * s_host / s_phi  # (time, depth)
    edges_true = np.concatenate([np.zeros((c.shape[0], 1)), np.cumsum(width_true, axis=1)], axis=1)
    dens_true = phi * c_metal + (1.0 - phi) * c_host
    # Error: the same Li content per slab over the new thickness.
    err_true = np.nan_to_num(profiles.li_density_err.values) * width_h / width_true

    # Back onto the uniform grid: slab averages by overlap, so content is conserved.
    grid = edges_h
    out_d = np.zeros_like(c)
    out_e = np.zeros_like(c)
    out_phi = np.zeros_like(c)
    for t in range(c.shape[0]):
        e = edges_true[t]
        overlap = np.clip(
            np.minimum(grid[1:, None], e[None, 1:]) - np.maximum(grid[:-1, None], e[None, :-1]),
            0.0,
            None,
        )  # (grid bins, slabs)
        cover = overlap.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out_d[t] = np.where(cover > 0, overlap @ dens_true[t] / cover, np.nan)
            out_phi[t] = np.where(cover > 0, overlap @ phi[t] / cover, np.nan)
            out_e[t] = np.where(cover > 0, np.sqrt(overlap @ err_true[t] ** 2 / cover), np.nan)
    res = profiles.copy()
    units = profiles.li_density.attrs
    res["li_density"] = (("time", "depth"), out_d, dict(units))
    res["li_density_err"] = (("time", "depth"), out_e, dict(profiles.li_density_err.attrs))
    res["li_density_rel"] = (
        ("time", "depth"),
        out_d / C.LI_METAL_ATOMS_CM3,
        dict(profiles.li_density_rel.attrs),
    )
    res["phi"] = (
        ("time", "depth"),
        out_phi,
        {"units": "1", "long_name": f"volume fraction of {deposit.name}"},
    )
    res["matrix_depth_um"] = (("time", "depth_edge"), edges_true, {"units": "um",
                              "long_name": "true depth of each host-matrix bin edge"})  # fmt: skip
    res.attrs["matrix"] = (
        f"self-consistent: {deposit.name} (volume fraction phi) + host ({profiles.attrs.get('matrix', '')}); "
        f"stopping ratio at {e0:g} keV ({p})"
    )
    return res
