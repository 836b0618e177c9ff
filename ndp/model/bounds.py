"""What a depth bin can hold: the upper bound of the Li density the inversion may report.

Nothing in a cell is denser in Li than Li metal. Seen through a declared matrix, a slab of pure
Li metal loses S_Li·t of energy and holds c_metal·t Li atoms; the inversion, assuming the
matrix's stopping S_m, reads it as a thickness S_Li·t/S_m with density c_metal·S_m/S_Li. So the
bound per bin is c_metal times the largest S_m/S_Li over the energies the particles have in the
region: exactly Li metal for a Li-metal matrix, more for a denser host (a polymer electrolyte
about doubles it), and the same bound holds for the self-consistent matrix, whose re-expression
turns such a slab back into Li metal.
"""

from __future__ import annotations

import numpy as np

from ndp.physics.constants import LI_METAL_ATOMS_CM3
from ndp.physics.materials import Material, Stack
from ndp.physics.stopping import get_particle

__all__ = ["density_upper_bound"]


#: Allowance above Li metal for the absolute scale's own uncertainty (flux, solid angle, cross
#: section are seldom known better than 5–10 %): a bound exactly at the true density would clip
#: the noise of a Li-metal deposit on one side only and bias it low.
SCALE_MARGIN = 0.0


def density_upper_bound(stack: Stack, edges_um, particles, *, override_rel: float | None = None,
                        metal: Material | None = None, margin: float = SCALE_MARGIN) -> np.ndarray:  # fmt: skip
    """Largest Li density relative to Li metal each depth bin can show, shape (n_depth,).

    Parameters
    ----------
    stack : Stack
    edges_um : array_like of shape (n_depth + 1,)
    particles : sequence of str
        The particles whose stopping sets the depth scale.
    override_rel : float, optional
        A bound given by the user (run file ``analysis.max_li_density_rel``), used everywhere.
    margin : float
        Relative allowance for the uncertainty of the absolute scale (:data:`SCALE_MARGIN`).
    metal : Material, optional
        What plates; default Li metal.
    """
    edges = np.asarray(edges_um, dtype=float)
    centres = 0.5 * (edges[1:] + edges[:-1])
    if override_rel is not None:
        return np.full(centres.size, float(override_rel))
    metal = metal or Material("Li")
    tops = np.concatenate([[0.0], np.cumsum([lay.thickness_um for lay in stack.region])])
    layer = np.clip(np.searchsorted(tops, centres, side="right") - 1, 0, len(stack.region) - 1)
    ratio = np.ones(len(stack.region))
    for i, lay in enumerate(stack.region):
        best = 0.0
        for p in particles:
            e0 = float(stack.to_array(p).energy0_keV)
            e = np.geomspace(100.0, e0, 64)
            best = max(best, float(np.max(lay.material.curve(p).stopping(e) / metal.curve(p).stopping(e))))
        ratio[i] = best
    return (1.0 + margin) * ratio[layer] * metal.li_atoms_cm3 / _metal_reference()


def _metal_reference() -> float:
    return LI_METAL_ATOMS_CM3


def apparent_metal_density_rel(material: Material, particle: str, metal: Material | None = None) -> float:
    """Density (relative to Li metal) at which pure Li metal appears in ``material``'s matrix.

    A profile inverted with ``material``'s stopping reads a slab of Li metal as S_m/S_Li times
    denser (and thinner) than it is, the ratio taken at the particle's birth energy, which is
    what it has crossing a deposit near its birth depth. Plated metal displaces host in those
    same apparent units, which is what the displacement correction of the inventory needs.
    """
    metal = metal or Material("Li")

    e0 = float(get_particle(particle).energy_keV)
    ratio = float(material.curve(particle).stopping(e0) / metal.curve(particle).stopping(e0))
    return ratio * metal.li_atoms_cm3 / _metal_reference()
