"""Stopping powers and ranges of the ⁶Li(n,α)³H products.

Electronic stopping cross sections ε (eV per 10¹⁵ atoms/cm²) of ⁴He ions and protons come from
the tables in ``stopping_tables/`` (NIST ASTAR/PSTAR where NIST tabulates the element, ICRU 49
fits elsewhere), nuclear stopping from the ICRU 49 universal curve. Compounds and mixtures follow
Bragg's rule: ε is the atom-fraction-weighted sum of the elements'; with ``condensed=True`` the
H, C, N, O and F terms are scaled by condensed-phase factors (``condensed_phase.tsv``, fitted to
NIST's compound tables; see ``stopping_tables/README.md``), because the element tables of H, N,
O and F describe gases. A triton stops like a proton at the same velocity: ε_t(E) = ε_p(E·m_p/m_t).

A :class:`StoppingCurve` is the compiled form used by the kinematics kernels: stopping power
(keV/µm) and CSDA range (µm) of one particle in one material on a fine logarithmic energy grid,
with exact mutual inverses for "energy after a path" and "energy before a path".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import numpy as np

from ndp.errors import NdpError
from ndp.physics import constants as C

__all__ = [
    "PARTICLES",
    "STOPPING_METHODS",
    "Particle",
    "StoppingCurve",
    "bragg_cross_section",
    "condensed_phase_factor",
    "element_cross_section",
    "get_particle",
    "mass_to_cross_section",
]

#: 602.2141: MeV cm²/g × (g/mol) → eV/(10¹⁵ atoms/cm²) conversion, 1e-21 MeV cm² × N_A.
EPS_TO_MASS = C.AVOGADRO * 1e-21

Projectile = Literal["alpha", "proton"]

#: How a material's electronic stopping is built (``Material(..., stopping=...)``):
#: ``"auto"`` NIST's own compound table where it has one, else ``"corrected"``;
#: ``"corrected"`` Bragg's rule with condensed-phase factors for H, C, N, O, F in compounds;
#: ``"bragg"`` plain Bragg's rule over the element tables.
STOPPING_METHODS = ("auto", "corrected", "bragg")

#: Projectile masses (u) that turn a table energy into energy per u for the condensed factors.
_TABLE_MASS_U = {"alpha": C.ALPHA_MASS_U, "proton": C.PROTON_MASS_U}


@dataclass(frozen=True)
class Particle:
    """A charged particle that NDP detects.

    Attributes
    ----------
    name : str
        ``"alpha"`` or ``"triton"``.
    z : int
        Charge number.
    mass_u : float
        Nuclear mass, u.
    energy_keV : float
        Birth energy in the ⁶Li(n,α)³H reaction, keV.
    projectile : {"alpha", "proton"}
        Which electronic stopping table it uses.
    velocity_scale : float
        Energy factor onto that table at equal velocity (m_p/m_t for the triton).
    """

    name: str
    z: int
    mass_u: float
    energy_keV: float
    projectile: Projectile
    velocity_scale: float


ALPHA = Particle("alpha", 2, C.ALPHA_MASS_U, C.ALPHA_ENERGY_KEV, "alpha", 1.0)
TRITON = Particle(
    "triton", 1, C.TRITON_MASS_U, C.TRITON_ENERGY_KEV, "proton", C.PROTON_MASS_U / C.TRITON_MASS_U
)
PARTICLES: dict[str, Particle] = {"alpha": ALPHA, "triton": TRITON}


def get_particle(particle: str | Particle) -> Particle:
    """Return the :class:`Particle` named ``"alpha"`` or ``"triton"`` (or pass one through)."""
    if isinstance(particle, Particle):
        return particle
    key = str(particle).strip().lower()
    key = {"he": "alpha", "4he": "alpha", "helium": "alpha", "t": "triton", "3h": "triton"}.get(
        key, key
    )
    try:
        return PARTICLES[key]
    except KeyError:
        raise NdpError(
            f"particle: unknown particle {particle!r}; expected 'alpha' or 'triton'"
        ) from None


# --------------------------------------------------------------------------------------------
# Tables


@dataclass(frozen=True)
class _Table:
    """One table: a logarithmic energy grid and named columns."""

    energy_keV: np.ndarray  # (n,)
    columns: dict[str, np.ndarray]  # name -> (n,)

    @functools.cached_property
    def ln_e0(self) -> float:
        return float(np.log(self.energy_keV[0]))

    @functools.cached_property
    def dln(self) -> float:
        return float(np.log(self.energy_keV[-1] / self.energy_keV[0]) / (self.energy_keV.size - 1))


@functools.cache
def _load_table(name: str) -> _Table:
    text = resources.files("ndp.stopping_tables").joinpath(name).read_text()
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    header = lines[0].split("\t")
    data = np.array([ln.split("\t") for ln in lines[1:]], dtype=float)
    cols = {h: data[:, i].copy() for i, h in enumerate(header[1:], start=1)}
    return _Table(data[:, 0].copy(), cols)


def _loglog(table: _Table, column: np.ndarray, energy_keV: np.ndarray) -> np.ndarray:
    """Log-log linear interpolation on the table's uniform ln E grid; S ∝ √E below it."""
    e = np.asarray(energy_keV, dtype=float)
    e_lo = table.energy_keV[0]
    u = (np.log(np.maximum(e, e_lo)) - table.ln_e0) / table.dln
    i = np.clip(np.floor(u).astype(np.intp), 0, table.energy_keV.size - 2)
    f = u - i
    lny = np.log(column)
    out = np.exp(lny[i] + f * (lny[i + 1] - lny[i]))
    # Below the lowest tabulated energy, stopping is proportional to velocity.
    return np.where(e < e_lo, out * np.sqrt(np.maximum(e, 0.0) / e_lo), out)


def element_cross_section(
    symbol: str, projectile: Projectile, energy_keV, *, kind: str = "electronic"
) -> np.ndarray:
    """Stopping cross section of one element.

    Parameters
    ----------
    symbol : str
        Element symbol, e.g. ``"Cu"``.
    projectile : {"alpha", "proton", "triton"}
        Table to read. For ``kind="electronic"`` the tables are ``alpha`` and ``proton`` (pass a
        triton's energy already scaled to the proton's velocity); for ``kind="nuclear"`` they are
        ``alpha`` and ``triton``.
    energy_keV : array_like of shape (...)
        Projectile kinetic energy, keV.
    kind : {"electronic", "nuclear"}

    Returns
    -------
    ndarray of shape (...)
        ε in eV/(10¹⁵ atoms/cm²).
    """
    table = _load_table(f"{kind}_{projectile}.tsv")
    try:
        column = table.columns[symbol]
    except KeyError:
        raise NdpError(f"element: no {kind} stopping table for {symbol!r}") from None
    return _loglog(table, column, energy_keV)


def condensed_phase_factor(symbol: str, projectile: Projectile, energy_keV) -> np.ndarray:
    """Condensed-phase factor f_Z of one element's electronic stopping in a compound.

    ε_Z(bound in a solid or liquid) = f_Z · ε_Z(element table). Tabulated for H, C, N, O, F
    (``condensed_phase.tsv``, fitted to NIST ASTAR/PSTAR compound tables by
    ``stopping_tables/generate_condensed.py``); 1 for every other element.

    Parameters
    ----------
    symbol : str
        Element symbol.
    projectile : {"alpha", "proton"}
        Electronic table the factor belongs to (a triton uses ``"proton"`` at its velocity).
    energy_keV : array_like of shape (...)
        Projectile energy on that table, keV (for a triton: already scaled to the proton).

    Returns
    -------
    ndarray of shape (...)
        Dimensionless factor; linear in ln(E/A) between the tabulated velocities, constant
        outside them.
    """
    e = np.asarray(energy_keV, dtype=float)
    table = _load_table("condensed_phase.tsv")
    column = table.columns.get(f"{projectile}_{symbol}")
    if column is None:
        return np.ones_like(e)
    with np.errstate(divide="ignore"):
        ln_v = np.log(np.maximum(e, 1e-12) / _TABLE_MASS_U[projectile])
    return np.interp(ln_v, np.log(table.energy_keV), column)


def bragg_cross_section(
    atom_fractions: dict[str, float],
    particle: str | Particle,
    energy_keV,
    *,
    condensed: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Electronic and nuclear stopping cross sections of a compound by Bragg's rule.

    Parameters
    ----------
    atom_fractions : dict of str to float
        Element symbol → atom fraction (summing to 1).
    particle : {"alpha", "triton"} or Particle
    energy_keV : array_like of shape (...)
    condensed : bool
        Scale the electronic terms of H, C, N, O, F by :func:`condensed_phase_factor` (the
        ``"corrected"`` method). Only for compounds: a one-element material is its own table.

    Returns
    -------
    electronic, nuclear : ndarray of shape (...)
        ε per atom of the compound, eV/(10¹⁵ atoms/cm²).
    """
    p = get_particle(particle)
    e = np.asarray(energy_keV, dtype=float)
    e_table = e * p.velocity_scale
    condensed = condensed and len(atom_fractions) > 1
    elec = np.zeros_like(e)
    nuc = np.zeros_like(e)
    for sym, x in atom_fractions.items():
        eps = element_cross_section(sym, p.projectile, e_table)
        if condensed:
            eps = eps * condensed_phase_factor(sym, p.projectile, e_table)
        elec += x * eps
        nuc += x * element_cross_section(sym, p.name, e, kind="nuclear")
    return elec, nuc


def mass_to_cross_section(mass_stopping_MeV_cm2_g, mean_atomic_mass_u: float) -> np.ndarray:
    """Convert a mass stopping power (MeV cm²/g) to ε per atom (eV/(10¹⁵ atoms/cm²))."""
    return np.asarray(mass_stopping_MeV_cm2_g) * mean_atomic_mass_u / EPS_TO_MASS


def compound_cross_section(
    key: str, particle: str | Particle, energy_keV, mean_atomic_mass_u: float
) -> np.ndarray:
    """Electronic ε per atom from a NIST compound table (``compounds_*.tsv``)."""
    p = get_particle(particle)
    table = _load_table(f"compounds_{p.projectile}.tsv")
    s_mass = _loglog(table, table.columns[key], np.asarray(energy_keV) * p.velocity_scale)
    return mass_to_cross_section(s_mass, mean_atomic_mass_u)


# --------------------------------------------------------------------------------------------
# Compiled curves

#: Fine grid of the compiled curves: 1 eV to 4 MeV, 400 points per decade.
_CURVE_E_MIN_KEV = 1e-3
_CURVE_E_MAX_KEV = 4000.0
_CURVE_PER_DECADE = 400


def curve_grid() -> np.ndarray:
    """Energy grid (keV) on which :class:`StoppingCurve` is tabulated, shape (n,)."""
    n = round(np.log10(_CURVE_E_MAX_KEV / _CURVE_E_MIN_KEV) * _CURVE_PER_DECADE) + 1
    return np.geomspace(_CURVE_E_MIN_KEV, _CURVE_E_MAX_KEV, n)


@dataclass(frozen=True, eq=False)
class StoppingCurve:
    """Stopping and CSDA range of one particle in one material, on a fine log grid.

    Built by :meth:`ndp.physics.materials.Material.curve`; every kinematics kernel works on these.

    Attributes
    ----------
    energy_keV : ndarray of shape (n,)
    electronic_keV_um, nuclear_keV_um : ndarray of shape (n,)
        Stopping powers, keV/µm.
    range_um : ndarray of shape (n,)
        CSDA range ∫₀^E dE'/S(E') with S the total (electronic + nuclear) stopping, µm.
    atoms_cm3 : float
        Atom density of the material, so that depths convert to 10¹⁵ atoms/cm².
    """

    energy_keV: np.ndarray
    electronic_keV_um: np.ndarray
    nuclear_keV_um: np.ndarray
    range_um: np.ndarray
    atoms_cm3: float

    @classmethod
    def from_cross_sections(
        cls, energy_keV: np.ndarray, electronic: np.ndarray, nuclear: np.ndarray, atoms_cm3: float
    ) -> StoppingCurve:
        """Build a curve from ε (eV/(10¹⁵ atoms/cm²)) on :func:`curve_grid`'s energies."""
        # eV/(1e15 at/cm²) × at/cm³ → keV/µm: × 1e-15 (per atom) × 1e-3 (keV) × 1e-4 (µm).
        to_keV_um = atoms_cm3 * 1e-22
        s_e = np.asarray(electronic) * to_keV_um
        s_n = np.asarray(nuclear) * to_keV_um
        s = s_e + s_n
        e = np.asarray(energy_keV)
        # Below the grid S ∝ √E, so R(E0) = 2 E0 / S(E0); above, trapezoids in ln E.
        integrand = e / s
        steps = 0.5 * (integrand[1:] + integrand[:-1]) * np.diff(np.log(e))
        r = np.concatenate([[2.0 * e[0] / s[0]], 2.0 * e[0] / s[0] + np.cumsum(steps)])
        return cls(e, s_e, s_n, r, float(atoms_cm3))

    @functools.cached_property
    def _ln_e(self) -> np.ndarray:
        return np.log(self.energy_keV)

    @functools.cached_property
    def _ln_r(self) -> np.ndarray:
        return np.log(self.range_um)

    @functools.cached_property
    def _ln_s(self) -> np.ndarray:
        return np.log(self.electronic_keV_um + self.nuclear_keV_um)

    @functools.cached_property
    def _dln(self) -> float:
        return float(self._ln_e[1] - self._ln_e[0])

    def _uniform(self, lny: np.ndarray, energy_keV) -> np.ndarray:
        e = np.asarray(energy_keV, dtype=float)
        u = (np.log(np.maximum(e, self.energy_keV[0])) - self._ln_e[0]) / self._dln
        i = np.clip(np.floor(u).astype(np.intp), 0, self.energy_keV.size - 2)
        f = u - i
        return np.exp(lny[i] + f * (lny[i + 1] - lny[i]))

    def stopping(self, energy_keV) -> np.ndarray:
        """Total stopping power S(E), keV/µm, same shape as ``energy_keV``."""
        e = np.asarray(energy_keV, dtype=float)
        s = self._uniform(self._ln_s, e)
        return np.where(
            e < self.energy_keV[0], s * np.sqrt(np.maximum(e, 0) / self.energy_keV[0]), s
        )

    def components(self, energy_keV) -> tuple[np.ndarray, np.ndarray]:
        """Electronic and nuclear stopping powers, keV/µm."""
        return (
            self._uniform(np.log(self.electronic_keV_um), energy_keV),
            self._uniform(np.log(self.nuclear_keV_um), energy_keV),
        )

    def range(self, energy_keV) -> np.ndarray:
        """CSDA range R(E), µm. R(0) = 0."""
        e = np.asarray(energy_keV, dtype=float)
        with np.errstate(divide="ignore"):
            ln_e = np.log(np.maximum(e, 0.0))
        r = np.exp(np.interp(ln_e, self._ln_e, self._ln_r, left=-np.inf))
        # Below the grid R ∝ √E (S ∝ √E).
        low = e < self.energy_keV[0]
        if np.any(low):
            r = np.where(low, self.range_um[0] * np.sqrt(np.maximum(e, 0) / self.energy_keV[0]), r)
        return r

    def energy_at_range(self, range_um) -> np.ndarray:
        """Inverse of :meth:`range`: the energy whose residual range is ``range_um`` (keV)."""
        r = np.asarray(range_um, dtype=float)
        with np.errstate(divide="ignore"):
            ln_r = np.log(np.maximum(r, 0.0))
        e = np.exp(np.interp(ln_r, self._ln_r, self._ln_e, left=-np.inf, right=np.nan))
        low = r < self.range_um[0]
        if np.any(low):
            e = np.where(low, self.energy_keV[0] * (np.maximum(r, 0) / self.range_um[0]) ** 2, e)
        return e

    def energy_after(self, energy_keV, path_um) -> np.ndarray:
        """Energy after a path ``path_um`` (µm) starting at ``energy_keV``; 0 if it stops."""
        return self.energy_at_range(np.asarray(self.range(energy_keV)) - path_um)

    def energy_before(self, energy_keV, path_um) -> np.ndarray:
        """Energy needed before a path ``path_um`` to leave it with ``energy_keV``.

        NaN beyond the curve's grid (4 MeV).
        """
        return self.energy_at_range(np.asarray(self.range(energy_keV)) + path_um)
