r"""Physics of an independent operando NDP simulator (shares no code, table or model with ``ndp``).

Everything a synthetic beamtime run needs is computed here from first principles and published
stopping powers: the ⁶Li(n,α)³H reaction, energy loss and straggling of the α and the triton on
their way out, the collimator's acceptance cone, the detector, dead time, Poisson noise, and an
operando cell whose Li deposit grows and shrinks during a frame.

Conventions
-----------
Geometry
    Slabs are listed from the detector side inwards. Depth ``x`` inside a slab is measured from the
    slab's detector-side surface. A particle born at depth ``x`` of slab ``j`` flying at angle θ to
    the surface normal crosses ``x / cos θ`` of slab ``j`` and ``t_i / cos θ`` of every slab
    ``i < j`` in front of it. Neutrons are not attenuated.
Angles
    The detector accepts directions with θ ≤ θmax (collimator half angle). Directions are
    isotropic, so accepted directions are uniform in μ = cos θ over [cos θmax, 1]. The integral
    over μ is done with Gauss–Legendre quadrature on that interval (``angle_nodes`` nodes, weights
    normalised to 1); θmax = 0 is a pencil beam (one node, μ = 1). The count rate is normalised by
    the solid angle Ω given separately (each particle reaches the detector with probability Ω/4π).
Energy loss (ΔE)
    Continuous slowing down, dE/ds = −k·S(E), with S the total (electronic + nuclear) stopping power
    of the slab's material from ``pycatima`` (SRIM-95 low-energy electronic stopping, ZBL nuclear
    stopping), Bragg's rule over the elements, and ``k`` the slab's ``stopping_scale``. S is
    tabulated once per (material, density, particle) on a log energy grid (0.01 keV – 5 MeV, 3000
    points) and integrated to the CSDA range R(E) = ∫₀^E dE'/S(E'). Crossing a path ``s`` is then
    exact for the tabulated S: E_out = R⁻¹(R(E_in) − k·s); the inverse map gives the birth depth
    of a particle detected with a given energy, E_in = R⁻¹(R(E_out) + k·s).
Straggling
    Pure Bohr (no Lindhard–Scharff reduction), per unit path
    ω² = 4π Z₁² e⁴ n_e (keV²/µm, n_e the electron density), times ``straggling_scale``. The
    variance is carried through the energy dependence of S in the linear (Tschalär) approximation
    dσ²/ds = ω² − 2 (dS/dE) σ², whose exact solution across a slab is
    σ²_out = σ²_in · (S(E_out)/S(E_in))² + S(E_out)² ω² ∫_{E_out}^{E_in} dE/S³ / k.
    ``∫ dE/S³`` is tabulated with the range. Particles whose exit energy is ≤ 0 are lost; no
    straggling-induced escape of particles beyond the CSDA range is modelled.
Spectrum
    For each slab holding Li, particle and μ node, the exit energies are laid on a grid from the
    slab's back face (or 0 keV: the deepest birth depth whose particles still get out) up to its
    front face; the birth depth of each grid energy comes from the exact inverse transport.
    Between two grid points the exit energy is taken linear in depth and the total width
    σ² = σ_det² + σ²_straggling constant (their mean); the Gaussian is then integrated exactly over
    depth and over each channel's energy width (the depth integral of the normal CDF has the
    closed form ∫Φ = uΦ(u) + φ(u)). Grid steps adapt to 0.35 × the local total width
    (``step_fraction``; a pilot pass finds the width) or are ``energy_step_keV``. Tails beyond
    ±6 σ are dropped.
Channels
    The ORTEC ``$ENER_FIT`` line ``c0 c1`` gives the energy of channel index ``k`` as c0 + c1·k,
    taken as the channel's centre: channel ``k`` collects measured energies in
    [c0 + c1·(k − ½), c0 + c1·(k + ½)). Counts measured outside the channel range are lost. An
    optional discriminator ``threshold_keV`` zeroes channels whose centre lies below it.
Counts
    Expected counts per particle = Φ · A · t_live · σ · a₆ · (Ω/4π) · Σ_slabs n_Li ∫ dx P(channel),
    Φ in n/cm²/s, A in cm², σ = 940 b, a₆ the ⁶Li atom fraction, n_Li the Li atom density.
Dead time and noise
    Non-paralysable with τ = 1 µs: live = round(real · (1 − τ · rate)) with ``rate`` the expected
    total count rate (counts per second in all channels); the spectrum's expected counts use the
    live time, then Poisson noise from a seeded ``numpy.random.Generator``.
Operando frames
    The cell is Cu window | live Li | inactive Li | electrolyte. Live and inactive Li are both
    dense Li metal, so a frame's sample depends only on their summed thickness ``L``. Spectra
    (per live second) are computed on a fine grid of ``L`` (step ≤ 0.05 µm, and small enough that
    the spectrum shifts by ≤ σ_det/4 per step) and interpolated linearly in ``L``; a
    frame's expected spectrum is the mean over ``substeps`` evaluations at the midpoints of equal
    sub-intervals of the frame.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import json
import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import periodictable
import pycatima
from scipy.special import ndtr

from . import writers

__all__ = [
    "AVOGADRO",
    "LI6_CROSS_SECTION_B",
    "LI6_NATURAL_ABUNDANCE",
    "LI_ATOMS_PER_MAH",
    "LI_METAL_DENSITY_G_CM3",
    "PARTICLES",
    "Detector",
    "Particle",
    "Segment",
    "Slab",
    "StoppingTable",
    "bohr_variance_rate_keV2_um",
    "channel_energy_keV",
    "csda_range_um",
    "cycler_records",
    "cycling_segments",
    "deposit_mAh_cm2",
    "expected_spectrum",
    "li_atom_density_cm3",
    "simulate_operando",
    "stopping_power_keV_um",
    "stopping_table",
    "transport",
]

AVOGADRO = 6.02214076e23  # 1/mol
ELEMENTARY_CHARGE_C = 1.602176634e-19
E2_KEV_CM = 1.43996448e-10  # e²/(4π ε0) in keV·cm
LI_ATOMS_PER_MAH = 3.6 / ELEMENTARY_CHARGE_C  # 1 mAh = 3.6 C → 2.2469e19 Li atoms
LI6_CROSS_SECTION_B = 940.0  # thermal ⁶Li(n,α)³H
LI6_NATURAL_ABUNDANCE = 0.0759
LI_METAL_DENSITY_G_CM3 = 0.534
BARN_CM2 = 1e-24

_ENERGY_GRID_KEV = np.geomspace(0.01, 5000.0, 3000)
_N_SIGMA = 6.0  # Gaussian tails beyond ±6 σ are dropped (1e-9 of a segment per side)
_CHUNK = 2_000_000  # window evaluations per binning chunk


@dataclasses.dataclass(frozen=True)
class Particle:
    """A reaction product.

    Parameters
    ----------
    name : str
        ``"alpha"`` or ``"triton"``.
    mass_u : float
        Nuclear mass in u (used for catima's energy per nucleon).
    charge : int
        Z₁ (full charge; used for Bohr straggling).
    birth_energy_keV : float
        Kinetic energy at birth in keV.
    """

    name: str
    mass_u: float
    charge: int
    birth_energy_keV: float


PARTICLES = {
    "alpha": Particle("alpha", 4.001506, 2, 2055.0),
    "triton": Particle("triton", 3.015501, 1, 2727.0),
}


def _particle(particle: str | Particle) -> Particle:
    if isinstance(particle, Particle):
        return particle
    try:
        return PARTICLES[particle]
    except KeyError:
        raise ValueError(f"particle must be one of {sorted(PARTICLES)}, got {particle!r}") from None


# --------------------------------------------------------------------------------------------
# Materials
# --------------------------------------------------------------------------------------------
def _material_key(material: str | Mapping[str, float]) -> str | tuple[tuple[str, float], ...]:
    if isinstance(material, str):
        return material
    return tuple(sorted((str(k), float(v)) for k, v in material.items()))


@functools.cache
def _composition(key) -> tuple[tuple[int, float, float], ...]:
    """(Z, atomic mass in u, atoms per formula unit) for a formula string or atom-fraction map."""
    if isinstance(key, str):
        atoms = periodictable.formula(key).atoms
        items = [(el.number, float(el.mass), float(n)) for el, n in atoms.items()]
    else:
        items = []
        for symbol, n in key:
            el = periodictable.elements.symbol(symbol)
            items.append((el.number, float(el.mass), float(n)))
    items = [it for it in items if it[2] > 0]
    if not items:
        raise ValueError(f"material {key!r} has no atoms")
    return tuple(sorted(items))


def _atom_densities_cm3(material, density_g_cm3: float) -> tuple[np.ndarray, np.ndarray]:
    """Z and atom density (atoms/cm³) of each element of ``material`` at ``density_g_cm3``."""
    if not density_g_cm3 > 0:
        raise ValueError(f"density_g_cm3 must be > 0, got {density_g_cm3}")
    comp = _composition(_material_key(material))
    z = np.array([c[0] for c in comp], dtype=int)
    mass_u = np.array([c[1] for c in comp])
    count = np.array([c[2] for c in comp])
    units_cm3 = density_g_cm3 * AVOGADRO / float(np.sum(count * mass_u))
    return z, units_cm3 * count


def li_atom_density_cm3(material: str | Mapping[str, float], density_g_cm3: float) -> float:
    """Li atom density (all isotopes) of a material.

    Parameters
    ----------
    material : str or mapping
        Chemical formula (``"Li"``, ``"C2H4OLi0.173424"``) or element symbol → atoms per
        formula unit (or atom fraction).
    density_g_cm3 : float
        Mass density in g/cm³.

    Returns
    -------
    float
        Li atoms per cm³; Li metal at 0.534 g/cm³ gives 4.63e22.
    """
    z, n = _atom_densities_cm3(material, density_g_cm3)
    return float(np.sum(n[z == 3]))


# --------------------------------------------------------------------------------------------
# Stopping powers (pycatima, Bragg's rule)
# --------------------------------------------------------------------------------------------
@functools.cache
def _element_cross_sections(z: int, mass_u: float, particle_name: str) -> tuple[np.ndarray, ...]:
    """Total and electronic stopping cross sections in 1e-15 eV·cm² on ``_ENERGY_GRID_KEV``."""
    p = PARTICLES[particle_name]
    cfg = pycatima.Config()
    cfg.low_energy = pycatima.low_energy_types.srim_95
    target = pycatima.Material([[mass_u, z, 1.0]], density=1.0)
    proj = pycatima.Projectile(p.mass_u, p.charge)
    total = np.empty_like(_ENERGY_GRID_KEV)
    elec = np.empty_like(_ENERGY_GRID_KEV)
    for i, e_keV in enumerate(_ENERGY_GRID_KEV):
        proj.T(e_keV / 1000.0 / p.mass_u)  # catima takes MeV/u
        total[i] = pycatima.dedx(proj, target, cfg)  # MeV cm²/g, electronic + nuclear
        elec[i] = pycatima.sezi_dedx_e(proj, target, cfg)  # MeV cm²/g, electronic
    to_eps = mass_u / AVOGADRO * 1e21  # MeV cm²/g → 1e-15 eV cm² per atom
    return total * to_eps, elec * to_eps


def bohr_variance_rate_keV2_um(
    material: str | Mapping[str, float], density_g_cm3: float, particle: str | Particle
) -> float:
    """Bohr straggling variance per unit path, ω² = 4π Z₁² e⁴ n_e, in keV²/µm."""
    p = _particle(particle)
    z, n = _atom_densities_cm3(material, density_g_cm3)
    n_e = float(np.sum(z * n))
    return 4.0 * math.pi * p.charge**2 * E2_KEV_CM**2 * n_e * 1e-4


@dataclasses.dataclass(frozen=True, eq=False)
class StoppingTable:
    """Tabulated stopping of one particle in one material at one density.

    Attributes
    ----------
    energy_keV : ndarray of shape (N,)
        Log-spaced energy grid.
    stopping_keV_um, electronic_keV_um : ndarray of shape (N,)
        Total (electronic + nuclear) and electronic stopping power in keV/µm.
    range_um : ndarray of shape (N,)
        CSDA range ∫₀^E dE/S (total stopping) in µm.
    inv_cube_um3_keV2 : ndarray of shape (N,)
        ∫_{E_min}^E dE/S³ in µm³/keV², for straggling propagation.
    bohr_keV2_um : float
        Bohr variance per unit path in keV²/µm.
    """

    energy_keV: np.ndarray
    stopping_keV_um: np.ndarray
    electronic_keV_um: np.ndarray
    range_um: np.ndarray
    inv_cube_um3_keV2: np.ndarray
    bohr_keV2_um: float

    def __post_init__(self):
        object.__setattr__(self, "_e0", np.concatenate(([0.0], self.energy_keV)))
        object.__setattr__(self, "_r0", np.concatenate(([0.0], self.range_um)))

    def stopping(self, energy_keV):
        """Total stopping power in keV/µm (clamped to the grid's ends)."""
        return np.interp(energy_keV, self.energy_keV, self.stopping_keV_um)

    def range(self, energy_keV):
        """CSDA range in µm; 0 at 0 keV."""
        return np.interp(energy_keV, self._e0, self._r0)

    def energy_from_range(self, range_um):
        """Inverse of :meth:`range`; 0 for ranges ≤ 0, the grid's top energy beyond it."""
        return np.interp(range_um, self._r0, self._e0)

    def inv_cube(self, energy_keV):
        """∫ dE/S³ from the grid's lowest energy, in µm³/keV²."""
        return np.interp(energy_keV, self.energy_keV, self.inv_cube_um3_keV2)

    def forward(self, energy_keV, path_um, scale=1.0):
        """Energy after a path ``path_um`` with stopping ``scale``·S; 0 when stopped."""
        r = self.range(energy_keV) - scale * np.asarray(path_um)
        return np.where(r > 0.0, self.energy_from_range(r), 0.0)

    def backward(self, energy_keV, path_um, scale=1.0):
        """Energy before a path ``path_um`` that leaves ``energy_keV`` after it."""
        return self.energy_from_range(self.range(energy_keV) + scale * np.asarray(path_um))


@functools.lru_cache(maxsize=256)
def _stopping_table_cached(key, density_g_cm3: float, particle_name: str) -> StoppingTable:
    z, n = _atom_densities_cm3(key if isinstance(key, str) else dict(key), density_g_cm3)
    comp = _composition(key)
    total = np.zeros_like(_ENERGY_GRID_KEV)
    elec = np.zeros_like(_ENERGY_GRID_KEV)
    for (zi, mass_u, _), ni in zip(comp, n, strict=True):
        eps_t, eps_e = _element_cross_sections(zi, mass_u, particle_name)
        total += ni * eps_t * 1e-22  # atoms/cm³ × 1e-15 eV cm² → keV/µm
        elec += ni * eps_e * 1e-22
    e = _ENERGY_GRID_KEV
    log_e = np.log(e)

    def cumtrapz_log(f):  # ∫ f dE = ∫ f E d(ln E)
        g = f * e
        return np.concatenate(([0.0], np.cumsum(0.5 * (g[1:] + g[:-1]) * np.diff(log_e))))

    range_um = e[0] / total[0] + cumtrapz_log(1.0 / total)
    inv_cube = cumtrapz_log(1.0 / total**3)
    omega2 = 4.0 * math.pi * PARTICLES[particle_name].charge ** 2 * E2_KEV_CM**2
    omega2 *= float(np.sum(z * n)) * 1e-4
    return StoppingTable(e, total, elec, range_um, inv_cube, omega2)


def stopping_table(
    material: str | Mapping[str, float], density_g_cm3: float, particle: str | Particle
) -> StoppingTable:
    """Cached :class:`StoppingTable` of ``particle`` in ``material`` at ``density_g_cm3``."""
    return _stopping_table_cached(
        _material_key(material), float(density_g_cm3), _particle(particle).name
    )


def stopping_power_keV_um(
    material: str | Mapping[str, float],
    density_g_cm3: float,
    particle: str | Particle,
    energy_keV,
    *,
    component: str = "total",
):
    """Stopping power of a material for an α or a triton.

    Parameters
    ----------
    material : str or mapping
        Formula or element → atoms per formula unit.
    density_g_cm3 : float
        Mass density in g/cm³.
    particle : {"alpha", "triton"}
    energy_keV : float or ndarray
        Kinetic energy of the whole ion in keV.
    component : {"total", "electronic", "nuclear"}

    Returns
    -------
    float or ndarray
        Stopping power in keV/µm.
    """
    tab = stopping_table(material, density_g_cm3, particle)
    tot = np.interp(energy_keV, tab.energy_keV, tab.stopping_keV_um)
    ele = np.interp(energy_keV, tab.energy_keV, tab.electronic_keV_um)
    if component == "total":
        return tot
    if component == "electronic":
        return ele
    if component == "nuclear":
        return tot - ele
    raise ValueError(f"component must be 'total', 'electronic' or 'nuclear', got {component!r}")


def csda_range_um(
    material: str | Mapping[str, float],
    density_g_cm3: float,
    particle: str | Particle,
    energy_keV=None,
):
    """CSDA range (total stopping) in µm; ``energy_keV`` defaults to the birth energy."""
    p = _particle(particle)
    e = p.birth_energy_keV if energy_keV is None else energy_keV
    return stopping_table(material, density_g_cm3, p).range(e)


# --------------------------------------------------------------------------------------------
# Samples and detector
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Slab:
    """A physical layer of the sample.

    Parameters
    ----------
    material : str or mapping
        Formula (``"Cu"``, ``"C2H4OLi0.173424"``) or element symbol → atoms per formula unit.
    density_g_cm3 : float
        Mass density in g/cm³.
    thickness_um : float
        True (physical) thickness in µm.
    stopping_scale : float
        Multiplies the stopping power (simulates a table that is off by a few %).
    name : str
        Label only.
    """

    material: str | Mapping[str, float]
    density_g_cm3: float
    thickness_um: float
    stopping_scale: float = 1.0
    name: str = ""

    def __post_init__(self):
        if not self.thickness_um >= 0:
            raise ValueError(f"thickness_um must be >= 0, got {self.thickness_um}")
        if not self.stopping_scale > 0:
            raise ValueError(f"stopping_scale must be > 0, got {self.stopping_scale}")
        _atom_densities_cm3(self.material, self.density_g_cm3)  # validates

    @property
    def li_density_cm3(self) -> float:
        """Li atoms per cm³ in this slab."""
        return li_atom_density_cm3(self.material, self.density_g_cm3)

    def table(self, particle) -> StoppingTable:
        """Stopping table of ``particle`` in this slab's material."""
        return stopping_table(self.material, self.density_g_cm3, particle)


@dataclasses.dataclass(frozen=True)
class Detector:
    """Silicon detector, collimator and multichannel analyser.

    Parameters
    ----------
    calibration_keV : (float, float)
        ``(c0, c1)``: energy of channel index k is c0 + c1·k keV (channel centre).
    resolution_keV : float
        Gaussian FWHM in keV.
    n_channels : int
    solid_angle_sr : float
        Ω; each particle reaches the detector with probability Ω/4π.
    half_angle_deg : float
        Collimator acceptance half angle θmax; 0 is a pencil beam.
    threshold_keV : float or None
        Channels whose centre energy lies below it read zero; ``None`` for no threshold.
    """

    calibration_keV: tuple[float, float] = (-5.0, 0.75)
    resolution_keV: float = 25.0
    n_channels: int = 4096
    solid_angle_sr: float = 0.15
    half_angle_deg: float = 12.0
    threshold_keV: float | None = None

    def __post_init__(self):
        if not self.calibration_keV[1] > 0:
            raise ValueError("calibration_keV slope must be > 0")
        if not self.resolution_keV > 0:
            raise ValueError(f"resolution_keV must be > 0, got {self.resolution_keV}")
        if not 0 <= self.half_angle_deg < 90:
            raise ValueError(f"half_angle_deg must be in [0, 90), got {self.half_angle_deg}")
        if not (self.n_channels >= 1 and self.solid_angle_sr > 0):
            raise ValueError("n_channels must be >= 1 and solid_angle_sr > 0")

    @property
    def sigma_keV(self) -> float:
        """Gaussian σ of the resolution in keV."""
        return self.resolution_keV / (2.0 * math.sqrt(2.0 * math.log(2.0)))


def channel_energy_keV(detector: Detector) -> np.ndarray:
    """Centre energy of each channel, c0 + c1·k, in keV; shape (n_channels,)."""
    c0, c1 = detector.calibration_keV
    return c0 + c1 * np.arange(detector.n_channels)


def _angle_nodes(half_angle_deg: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes μ = cos θ on [cos θmax, 1] and weights summing to 1."""
    mu_min = math.cos(math.radians(half_angle_deg))
    if half_angle_deg == 0 or n <= 1:
        return np.array([0.5 * (1.0 + mu_min)]), np.array([1.0])
    x, w = np.polynomial.legendre.leggauss(int(n))
    return 0.5 * (1.0 + mu_min) + 0.5 * (1.0 - mu_min) * x, w / 2.0


def transport(
    energy_keV,
    slabs: Sequence[Slab],
    particle: str | Particle,
    *,
    cos_theta: float = 1.0,
    variance_keV2=0.0,
    straggling_scale: float = 1.0,
):
    """Carry a particle through slabs in the order given (CSDA energy loss + Bohr straggling).

    Parameters
    ----------
    energy_keV : float or ndarray
        Energy entering the first slab.
    slabs : sequence of Slab
        In the order the particle crosses them.
    particle : {"alpha", "triton"}
    cos_theta : float
        Direction cosine; the path in each slab is thickness / cos_theta.
    variance_keV2 : float or ndarray
        Energy variance on entry.
    straggling_scale : float
        Multiplies the Bohr variance added along the path.

    Returns
    -------
    energy_keV, variance_keV2 : ndarray
        Mean energy (0 if stopped) and variance after the last slab.
    """
    e = np.asarray(energy_keV, dtype=float)
    v = np.asarray(variance_keV2, dtype=float) * np.ones_like(e)
    for slab in slabs:
        tab = slab.table(particle)
        k = slab.stopping_scale
        e_out = tab.forward(e, slab.thickness_um / cos_theta, k)
        v = _propagate_variance(tab, k, e, e_out, v, straggling_scale)
        e = e_out
    return e, np.where(e > 0, v, 0.0)


def _propagate_variance(tab: StoppingTable, k, e_in, e_out, v_in, strag):
    """σ²_out = σ²_in (S_out/S_in)² + strag · S_out² ω² ∫_{E_out}^{E_in} dE/S³ / k."""
    s_in = tab.stopping(e_in)
    s_out = tab.stopping(e_out)
    ratio = np.divide(s_out, s_in, out=np.zeros_like(s_out), where=s_in > 0)
    added = s_out**2 * tab.bohr_keV2_um * (tab.inv_cube(e_in) - tab.inv_cube(e_out)) / k
    return v_in * ratio**2 + strag * np.maximum(added, 0.0)


# --------------------------------------------------------------------------------------------
# Expected spectra
# --------------------------------------------------------------------------------------------
def _slab_segments(slabs, j, particle, mu, w_mu, e_cut, de, strag, sigma_det, step_fraction):
    """Depth segments of slab ``j`` for one particle: (E_a, E_b, var, weight·µm) per μ node.

    Energies E_a < E_b are exit energies at the ends of each segment, var its mean straggling
    variance and weight = μ-weight × depth length in µm (to be multiplied by n_Li and the beam).
    The exit-energy grid has steps ``de`` keV, or, when ``de`` is None, steps of
    ``step_fraction`` × the local total width sqrt(σ_det² + σ²_straggling).
    """
    own = slabs[j]
    front = slabs[:j]
    e0 = particle.birth_energy_keV
    tabs = [s.table(particle) for s in front]
    tab_j = own.table(particle)
    k_j = own.stopping_scale
    mu_c = mu[:, None]

    def through_front(e):
        for i in range(j - 1, -1, -1):
            e = tabs[i].forward(e, front[i].thickness_um / mu_c, front[i].stopping_scale)
        return e

    def depth_and_variance(e_det):
        """Birth depth (µm) and straggling variance (keV²) of each exit energy (inverse map)."""
        levels = [e_det]
        e = e_det
        for i in range(j):
            e = tabs[i].backward(e, front[i].thickness_um / mu_c, front[i].stopping_scale)
            levels.append(e)
        e_f = levels[j]  # energy leaving slab j through its front surface
        x = np.clip(mu_c * (tab_j.range(e0) - tab_j.range(e_f)) / k_j, 0.0, own.thickness_um)
        var = _propagate_variance(tab_j, k_j, np.full_like(e_f, e0), e_f, 0.0, 1.0)
        for i in range(j - 1, -1, -1):
            var = _propagate_variance(
                tabs[i], front[i].stopping_scale, levels[i + 1], levels[i], var, 1.0
            )
        return x, strag * var

    ones = np.ones((mu.size, 1))
    e_top = through_front(e0 * ones)[:, 0]
    e_back = tab_j.forward(e0 * ones, own.thickness_um / mu_c, k_j)
    e_bot = through_front(e_back)[:, 0]
    e_low = np.maximum(e_bot, e_cut)
    valid = e_top > e_low
    if not np.any(valid):
        return None
    e_low = np.where(valid, e_low, 0.0)
    e_top = np.where(valid, e_top, 0.0)
    span = e_top - e_low
    if de is not None:
        n = max(1, math.ceil(float(span.max()) / de))
        e_det = e_low[:, None] + span[:, None] * np.linspace(0.0, 1.0, n + 1)
    else:  # pilot pass: local width → step density → adaptive grid
        pilot = e_low[:, None] + span[:, None] * np.linspace(0.0, 1.0, 129)
        width = step_fraction * np.sqrt(sigma_det**2 + depth_and_variance(pilot)[1])
        steps = np.concatenate(
            (np.zeros((mu.size, 1)),
             np.cumsum(0.5 * (1 / width[:, 1:] + 1 / width[:, :-1]) * np.diff(pilot), axis=1)),
            axis=1,
        )
        n = max(1, math.ceil(float(steps[:, -1].max())))
        e_det = np.empty((mu.size, n + 1))
        for a in range(mu.size):
            e_det[a] = np.interp(np.linspace(0.0, steps[a, -1], n + 1), steps[a], pilot[a])
    x, var = depth_and_variance(e_det)
    x[:, -1] = 0.0
    x[valid & (e_bot > 0) & (e_bot >= e_cut), 0] = own.thickness_um  # reaches through
    x[~valid] = 0.0

    dx = np.maximum(x[:, :-1] - x[:, 1:], 0.0)
    weight = w_mu[:, None] * dx
    keep = weight > 0
    return (
        e_det[:, :-1][keep],
        e_det[:, 1:][keep],
        (0.5 * (var[:, :-1] + var[:, 1:]))[keep],
        weight[keep],
    )


def _antiderivative_cdf(u):
    """F(u) = ∫ Φ = u Φ(u) + φ(u)."""
    return u * ndtr(u) + np.exp(-0.5 * u * u) * (1.0 / math.sqrt(2.0 * math.pi))


def _bin_segments(e_a, e_b, var_keV2, counts, detector: Detector) -> np.ndarray:
    """Channel contents of linear-in-depth segments smeared by Gaussians (exact integrals)."""
    c0, c1 = detector.calibration_keV
    n_edges = detector.n_channels + 1
    e_edge0 = c0 - 0.5 * c1  # lower edge of channel 0
    sigma = np.sqrt(var_keV2 + detector.sigma_keV**2)
    k_lo = np.clip(np.floor((e_a - _N_SIGMA * sigma - e_edge0) / c1), 0, n_edges).astype(np.int64)
    k_hi = np.clip(np.floor((e_b + _N_SIGMA * sigma - e_edge0) / c1) + 2, 0, n_edges)
    k_hi = np.maximum(k_hi.astype(np.int64), k_lo)
    # edges at or above k_hi see the whole segment below them
    cum = np.cumsum(np.bincount(k_hi, weights=counts, minlength=n_edges + 1))[:n_edges]
    length = k_hi - k_lo
    d = (e_b - e_a) / sigma  # u_a − u_b
    ends = np.cumsum(length)
    start = 0
    while start < length.size:
        stop = int(np.searchsorted(ends, (ends[start - 1] if start else 0) + _CHUNK, "right"))
        stop = max(stop, start + 1)
        sl = slice(start, stop)
        ln = length[sl]
        tot = int(ln.sum())
        if tot:
            seg = np.repeat(np.arange(ln.size), ln)
            offs = np.arange(tot) - np.repeat(np.cumsum(ln) - ln, ln)
            k = k_lo[sl][seg] + offs
            edge = e_edge0 + c1 * k
            sig = sigma[sl][seg]
            u_a = (edge - e_a[sl][seg]) / sig
            dd = d[sl][seg]
            flat = dd < 1e-4
            g = np.empty(tot)
            u_b = u_a - dd
            nf = ~flat
            g[nf] = (_antiderivative_cdf(u_a[nf]) - _antiderivative_cdf(u_b[nf])) / dd[nf]
            g[flat] = ndtr(u_a[flat] - 0.5 * dd[flat])
            cum += np.bincount(k, weights=g * counts[sl][seg], minlength=n_edges)
        start = stop
    spectrum = np.diff(cum)
    if detector.threshold_keV is not None:
        spectrum[channel_energy_keV(detector) < detector.threshold_keV] = 0.0
    return np.maximum(spectrum, 0.0)


def expected_spectrum(
    slabs: Sequence[Slab],
    *,
    particles: str | Sequence[str] = ("alpha", "triton"),
    detector: Detector | None = None,
    flux_n_cm2_s: float = 1e7,
    area_cm2: float = 1.0,
    live_s: float = 1.0,
    li6_abundance: float = LI6_NATURAL_ABUNDANCE,
    cross_section_b: float = LI6_CROSS_SECTION_B,
    straggling_scale: float = 1.0,
    angle_nodes: int = 8,
    energy_step_keV: float | None = None,
    step_fraction: float = 0.35,
) -> np.ndarray:
    """Noise-free expected counts per channel of a static sample.

    Parameters
    ----------
    slabs : sequence of Slab
        Physical layers from the detector side inwards; every slab holding Li emits.
    particles : str or sequence of str
        ``"alpha"``, ``"triton"`` or both; their spectra are summed.
    detector : Detector, optional
        Defaults to ``Detector()``.
    flux_n_cm2_s : float
        Thermal neutron flux at the sample in n/cm²/s.
    area_cm2 : float
        Irradiated (and seen) sample area in cm².
    live_s : float
        Live time in s.
    li6_abundance : float
        ⁶Li atom fraction of the Li.
    cross_section_b : float
        ⁶Li(n,α)³H cross section in barn.
    straggling_scale : float
        Multiplies the Bohr straggling variance.
    angle_nodes : int
        Gauss–Legendre nodes over cos θ ∈ [cos θmax, 1].
    energy_step_keV : float, optional
        Uniform exit-energy step of the depth segments in keV. By default the step adapts to
        ``step_fraction`` × the local total width sqrt(σ_det² + σ²_straggling).
    step_fraction : float
        Adaptive step as a fraction of the local total width.

    Returns
    -------
    ndarray of shape (n_channels,)
        Expected counts.
    """
    detector = Detector() if detector is None else detector
    names = [particles] if isinstance(particles, str) else list(particles)
    slabs = list(slabs)
    mu, w_mu = _angle_nodes(detector.half_angle_deg, angle_nodes)
    sig = detector.sigma_keV
    de = None if energy_step_keV is None else float(energy_step_keV)
    # every particle that gets out is followed down to 0 keV: straggling can carry it far up
    e_cut = 0.0
    prefactor = (
        flux_n_cm2_s * area_cm2 * live_s * cross_section_b * BARN_CM2 * li6_abundance
        * detector.solid_angle_sr / (4.0 * math.pi) * 1e-4  # µm → cm
    )
    parts = []
    for name in names:
        particle = _particle(name)
        for j, slab in enumerate(slabs):
            n_li = slab.li_density_cm3
            if n_li <= 0 or slab.thickness_um <= 0:
                continue
            seg = _slab_segments(slabs, j, particle, mu, w_mu, e_cut, de, straggling_scale,
                                 sig, step_fraction)
            if seg is not None:
                parts.append((*seg[:3], seg[3] * n_li * prefactor))
    if not parts:
        return np.zeros(detector.n_channels)
    e_a, e_b, var, counts = (np.concatenate(p) for p in zip(*parts, strict=True))
    return _bin_segments(e_a, e_b, var, counts, detector)


# --------------------------------------------------------------------------------------------
# Cycling
# --------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Segment:
    """One step of the cycling protocol: ``kind`` is ``"rest"``, ``"plate"`` or ``"strip"``."""

    kind: str
    start_s: float
    end_s: float
    cycle: int


def cycling_segments(
    *, plate_h: float, rest_h: float, n_cycles: int, coulombic_efficiency: float
) -> list[Segment]:
    """Rest, then ``n_cycles`` × (plate for ``plate_h``, strip for CE·``plate_h``).

    Returns
    -------
    list of Segment
        Times in s from the start of the run.
    """
    if not (plate_h > 0 and rest_h >= 0 and n_cycles >= 1 and coulombic_efficiency > 0):
        raise ValueError("need plate_h > 0, rest_h >= 0, n_cycles >= 1, coulombic_efficiency > 0")
    segs = []
    t = 0.0
    if rest_h > 0:
        segs.append(Segment("rest", 0.0, rest_h * 3600.0, 0))
        t = rest_h * 3600.0
    for c in range(1, n_cycles + 1):
        t1 = t + plate_h * 3600.0
        segs.append(Segment("plate", t, t1, c))
        t2 = t1 + coulombic_efficiency * plate_h * 3600.0
        segs.append(Segment("strip", t1, t2, c))
        t = t2
    return segs


def deposit_mAh_cm2(
    t_s, segments: Sequence[Segment], plated_mAh_cm2: float, li_efficiency: float
) -> tuple[np.ndarray, np.ndarray]:
    """Live and inactive Li (mAh/cm²) at times ``t_s``.

    Plating grows the live Li linearly to ``plated_mAh_cm2``; during the strip the live Li falls
    linearly to 0 while a fraction 1 − ``li_efficiency`` of it turns linearly into inactive Li.
    """
    t = np.asarray(t_s, dtype=float)
    live = np.zeros_like(t)
    inactive = np.zeros_like(t)
    plates = {s.cycle: s for s in segments if s.kind == "plate"}
    strips = {s.cycle: s for s in segments if s.kind == "strip"}
    for c, p in plates.items():
        s = strips[c]
        fp = np.clip((t - p.start_s) / (p.end_s - p.start_s), 0.0, 1.0)
        fs = np.clip((t - s.start_s) / (s.end_s - s.start_s), 0.0, 1.0)
        live += plated_mAh_cm2 * fp * (1.0 - fs)
        inactive += plated_mAh_cm2 * (1.0 - li_efficiency) * fs
    return live, inactive


def cycler_records(
    segments: Sequence[Segment],
    *,
    current_mA: float,
    step_s: float = 30.0,
    seed: int = 0,
    cutoff_V: float = 1.0,
) -> dict[str, np.ndarray]:
    """Rows of a galvanostatic cycling log (EC-Lab GCPL-like columns).

    Plating is a negative current on the Cu working electrode, stripping a positive one ending at
    the voltage cut-off. One row every ``step_s`` within each step, plus one at each step's end and
    one 0.4 ms after each step's start. The voltage curves are cosmetic.

    Returns
    -------
    dict of str → ndarray
        Keys ``mode, ox_red, control_changes, Ns_changes, Ns, time_s, control_mA, Ewe_V, I_mA,
        dq_mAh, Q_Qo_mAh, Q_half_mAh, half_cycle, cycle_number``.
    """
    rng = np.random.default_rng(seed + 7919)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (
        "mode", "ox_red", "control_changes", "Ns_changes", "Ns", "time_s", "control_mA", "Ewe_V",
        "I_mA", "half_cycle", "cycle_number")}
    half_cycle = 0
    ocv = 2.85
    for n_seg, seg in enumerate(segments):
        dur = seg.end_s - seg.start_s
        first = seg.start_s + (4e-4 if n_seg else 0.0)
        inner = seg.start_s + step_s * np.arange(1, math.ceil(dur / step_s - 1e-9))
        t = np.concatenate(([first], inner, [seg.end_s]))
        tau = t - seg.start_s
        m = t.size
        if seg.kind == "rest":
            setp, ns, mode = 0.0, 0, 3
            ewe = 2.53 + (ocv - 2.53) * np.exp(-tau / max(dur / 2.5, 1.0))
        elif seg.kind == "plate":
            setp, ns, mode = -current_mA, 1, 1
            ewe = -0.025 - 0.03 * np.exp(-tau / 300.0) - 0.01 * tau / dur
        else:
            setp, ns, mode = current_mA, 2, 1
            base = 0.02 + 0.02 * tau / dur + 0.01 * (seg.cycle - 1)
            ewe = base + (cutoff_V + 1e-4 - base) * np.exp((tau - dur) / (0.01 * dur))
        if n_seg and seg.kind != "rest":
            prev = segments[n_seg - 1]
            if prev.kind != "rest":
                half_cycle += 1
        ewe = ewe + rng.normal(0.0, 5e-4, m) * (seg.kind != "rest")
        if seg.kind == "strip":
            ewe[-1] = cutoff_V + 1e-4
        current = setp + (rng.normal(0.0, 1e-5, m) if setp else np.zeros(m))
        cols["mode"].append(np.full(m, mode))
        cols["ox_red"].append(np.full(m, int(setp > 0)))
        cc = np.zeros(m, dtype=int)
        cc[0] = 1 if n_seg else 0
        cols["control_changes"].append(cc)
        nc = np.zeros(m, dtype=int)
        nc[0] = 1
        cols["Ns_changes"].append(nc)
        cols["Ns"].append(np.full(m, ns))
        cols["time_s"].append(t)
        cols["control_mA"].append(np.full(m, setp))
        cols["Ewe_V"].append(ewe)
        cols["I_mA"].append(current)
        cols["half_cycle"].append(np.full(m, half_cycle))
        cols["cycle_number"].append(np.full(m, max(seg.cycle - 1, 0)))
    out = {k: np.concatenate(v) for k, v in cols.items()}
    dt = np.diff(out["time_s"], prepend=0.0)
    out["dq_mAh"] = out["I_mA"] * dt / 3600.0
    out["Q_Qo_mAh"] = np.cumsum(out["dq_mAh"])
    q_half = np.empty_like(out["dq_mAh"])
    acc = 0.0
    for i, (dq, changed) in enumerate(zip(out["dq_mAh"], out["Ns_changes"], strict=True)):
        acc = dq if changed else acc + dq
        q_half[i] = acc
    out["Q_half_mAh"] = q_half
    return out


# --------------------------------------------------------------------------------------------
# Operando run
# --------------------------------------------------------------------------------------------
def _as_slab(spec, name: str, scale: float) -> Slab:
    if isinstance(spec, Slab):
        return dataclasses.replace(spec, stopping_scale=spec.stopping_scale * scale)
    spec = tuple(spec)
    label = spec[3] if len(spec) > 3 else name
    return Slab(spec[0], float(spec[1]), float(spec[2]), scale, label)


def _formula(material) -> str:
    """A formula string for the run file (mappings become e.g. ``"C2H4O1Li0.17"``)."""
    if isinstance(material, str):
        return material
    return "".join(f"{el}{n:g}" for el, n in material.items())


def _window_name(material) -> str:
    return "Cu current collector" if material == "Cu" else f"{_formula(material)} window"


def _frame_average(t_edges_s, fun, n_sub: int = 1200):
    """Mean of ``fun(t)`` over each [t_i, t_i+1] by the midpoint rule with ``n_sub`` points."""
    a = np.asarray(t_edges_s[:-1])[:, None]
    b = np.asarray(t_edges_s[1:])[:, None]
    t = a + (b - a) * (np.arange(n_sub) + 0.5) / n_sub
    return fun(t).mean(axis=1)


def _window_pass_energy_keV(window: Sequence[Slab], particle: Particle) -> float:
    """Smallest energy (keV) a particle needs behind ``window`` to get through it (pencil)."""
    e = 0.0
    for slab in window:  # backward from the detector: the first slab is crossed last
        e = float(slab.table(particle).backward(e, slab.thickness_um, slab.stopping_scale))
    return e


def _auto_deposit_step_um(window: Sequence[Slab], deposit: Slab, sigma_keV: float) -> float:
    """Deposit-thickness grid step: a quarter of σ_det over the largest stopping power in the
    deposit of a particle that can still cross the window (≤ 0.05 µm)."""
    s_max = 0.0
    for p in PARTICLES.values():
        if float(transport(p.birth_energy_keV, window[::-1], p)[0]) <= 0:
            continue  # this particle never gets through the window
        e = np.geomspace(max(_window_pass_energy_keV(window, p), 1.0), p.birth_energy_keV, 400)
        s_max = max(s_max, float(deposit.table(p).stopping(e).max()) * deposit.stopping_scale)
    return 0.05 if s_max == 0 else min(0.05, 0.25 * sigma_keV / s_max)


def _rates_on_grid(window, deposit, electrolyte, grid_um, spec_kw, workers):
    """Expected spectra per live second for each deposit thickness of ``grid_um``."""

    def spectrum_at(thick):
        dep = [dataclasses.replace(deposit, thickness_um=float(thick))] if thick > 0 else []
        return expected_spectrum([*window, *dep, electrolyte], **spec_kw)

    for slab in [*window, deposit, electrolyte]:  # fill the caches before threading
        for p in PARTICLES:
            slab.table(p)
    if workers > 1 and len(grid_um) > 1:
        with ThreadPoolExecutor(workers) as pool:
            return np.array(list(pool.map(spectrum_at, grid_um)))
    return np.array([spectrum_at(g) for g in grid_um])


def _interpolate_rates(rates, grid_um, thickness_um):
    """Spectra at ``thickness_um`` (any shape) interpolated linearly between grid spectra."""
    if len(grid_um) == 1:
        return np.broadcast_to(rates[0], (*np.shape(thickness_um), rates.shape[1])).copy()
    pos = np.clip(thickness_um / (grid_um[1] - grid_um[0]), 0.0, len(grid_um) - 1 - 1e-12)
    i0 = np.floor(pos).astype(int)
    w1 = (pos - i0)[..., None]
    return (1.0 - w1) * rates[i0] + w1 * rates[i0 + 1]


def simulate_operando(
    outdir,
    *,
    window=(("Cu", 8.96, 10.0),),
    electrolyte=("C2H4OLi0.173424", 1.3, 60.0),
    current_mA_cm2: float = 0.05,
    plate_h: float = 4.0,
    rest_h: float = 1.0,
    n_cycles: int = 4,
    li_efficiency: float = 0.55,
    coulombic_efficiency: float = 0.66,
    visible_fraction: float = 0.95,
    frame_s: float = 600.0,
    n_frames: int | None = None,
    flux: float = 1e7,
    area_cm2: float = 1.0,
    solid_angle_sr: float = 0.15,
    half_angle_deg: float = 12.0,
    resolution_keV: float = 25.0,
    calibration=(-5.0, 0.75),
    n_channels: int = 4096,
    threshold_keV: float | None = None,
    li6_abundance: float = LI6_NATURAL_ABUNDANCE,
    cross_section_b: float = LI6_CROSS_SECTION_B,
    stopping_scale: float = 1.0,
    window_stopping_scale=None,
    straggling_scale: float = 1.0,
    declared_window_scale: float = 1.0,
    profiled_layer: str = "li",
    profiled_thickness_um: float | None = None,
    li_region_um=(0.0, 10.0),
    dead_time_s: float = 1e-6,
    seed: int = 0,
    substeps: int = 10,
    cycler: bool = True,
    cycler_step_s: float = 30.0,
    time_zero: str = "2024-04-02T08:00:00",
    name: str | None = None,
    angle_nodes: int = 8,
    deposit_step_um: float | None = None,
    workers: int | None = None,
) -> dict:
    """Write a complete synthetic operando NDP run folder and return its truth.

    Physical cell, detector side first: ``window`` slabs | live Li | inactive Li | electrolyte.
    Live and inactive Li are dense Li metal (0.534 g/cm³). After ``rest_h`` of rest, each cycle
    plates at −``current_mA_cm2`` for ``plate_h`` (a ``visible_fraction`` of the charge becomes
    Li metal) and strips at +``current_mA_cm2`` for ``coulombic_efficiency``·``plate_h``, during
    which ``li_efficiency`` of the plated Li leaves and the rest becomes inactive (both
    linearly in time). Frames continue at rest after the protocol until ``n_frames``.

    Parameters
    ----------
    outdir : path-like
        Run folder to create (``spectra/``, ``cycler/cell.mpt``, ``run.toml``, ``truth.json``).
    window : sequence of (material, density_g_cm3, thickness_um[, name]) or Slab
        Layers in front of the deposit, detector side first (true thicknesses).
    electrolyte : (material, density_g_cm3, thickness_um[, name]) or Slab
        The electrolyte behind the deposit.
    current_mA_cm2, plate_h, rest_h, n_cycles : float, float, float, int
        Cycling protocol (current density in mA/cm², durations in h).
    li_efficiency, coulombic_efficiency, visible_fraction : float
        Fractions 0–1 (see above).
    frame_s : float
        Frame length in s (real time); ``n_frames`` defaults to covering the whole protocol.
    flux, area_cm2 : float
        Neutron flux (n/cm²/s) and area (cm²).
    solid_angle_sr, half_angle_deg, resolution_keV, calibration, n_channels, threshold_keV
        Detector (see :class:`Detector`).
    li6_abundance, cross_section_b : float
        ⁶Li atom fraction and cross section (barn).
    stopping_scale : float
        True-to-tabulated stopping ratio for the deposit and electrolyte (and the window unless
        ``window_stopping_scale`` is given, a float or one float per window slab).
    straggling_scale : float
        Multiplies the Bohr variance.
    declared_window_scale : float
        ``run.toml`` declares each window thickness × this factor (the sample uses the true one).
    profiled_layer : {"li", "hse"}
        Declare everything behind the window as one Li-metal layer of ``profiled_thickness_um``
        (default electrolyte + 10 µm), or the electrolyte as the profiled layer with
        ``matrix = "self-consistent"`` (default thickness: the electrolyte's).
    li_region_um : (float, float)
        Depth window (physical depth behind the window) of the Li inventory in the truth.
    dead_time_s : float
        Dead time per count in s.
    seed : int
        Seed of the Poisson noise (and of the cycler log's noise).
    substeps : int
        Sample evaluations averaged per frame.
    cycler : bool
        Write ``cycler/cell.mpt``.
    cycler_step_s : float
        Cycler log row spacing in s.
    time_zero : str
        ISO start time of the run.
    name : str, optional
        Run name for ``run.toml``.
    angle_nodes : int
        Gauss–Legendre nodes over the acceptance cone.
    deposit_step_um : float, optional
        Grid step of the deposit thickness on which spectra are precomputed (default: a
        quarter of σ_det over the largest stopping of a visible particle in Li, ≤ 0.05 µm).
    workers : int, optional
        Threads for precomputing spectra (default: CPU count, at most 4).

    Returns
    -------
    dict
        ``run_dir, run_toml, spectra`` (list of paths), ``cycler`` (path or None),
        ``truth_json, truth`` (the JSON content), and ``expected`` (ndarray of shape
        (n_frames, n_channels), the noise-free counts of each frame).
    """
    if profiled_layer not in ("li", "hse"):
        raise ValueError(f"profiled_layer must be 'li' or 'hse', got {profiled_layer!r}")
    if not (0 <= li_efficiency <= 1 and 0 < visible_fraction <= 1):
        raise ValueError("li_efficiency must be in [0, 1] and visible_fraction in (0, 1]")
    if not (substeps >= 1 and frame_s > 0 and current_mA_cm2 > 0):
        raise ValueError("need substeps >= 1, frame_s > 0 and current_mA_cm2 > 0")
    out = Path(outdir)
    (out / "spectra").mkdir(parents=True, exist_ok=True)

    # ---- sample ------------------------------------------------------------------------
    window = [window] if isinstance(window, Slab) else list(window)
    if window_stopping_scale is None:
        w_scales = [stopping_scale] * len(window)
    elif np.ndim(window_stopping_scale) == 0:
        w_scales = [float(window_stopping_scale)] * len(window)
    else:
        w_scales = [float(v) for v in window_stopping_scale]
    win = [
        _as_slab(w, _window_name(w.material if isinstance(w, Slab) else w[0]), v)
        for w, v in zip(window, w_scales, strict=True)
    ]
    elec = _as_slab(electrolyte, "electrolyte", stopping_scale)
    deposit = Slab("Li", LI_METAL_DENSITY_G_CM3, 0.0, stopping_scale, "Li deposit")
    n_li_metal = deposit.li_density_cm3
    um_per_mAh_cm2 = LI_ATOMS_PER_MAH / n_li_metal * 1e4

    # ---- protocol ----------------------------------------------------------------------
    segs = cycling_segments(
        plate_h=plate_h, rest_h=rest_h, n_cycles=n_cycles,
        coulombic_efficiency=coulombic_efficiency,
    )
    charge_plated = current_mA_cm2 * plate_h
    plated = visible_fraction * charge_plated
    if n_frames is None:
        n_frames = math.ceil(segs[-1].end_s / frame_s - 1e-9)
    t_edges = frame_s * np.arange(n_frames + 1)

    def live_inactive(t):
        return deposit_mAh_cm2(t, segs, plated, li_efficiency)

    def thickness_um(t):
        return sum(live_inactive(t)) * um_per_mAh_cm2

    # ---- expected spectra: deposit-thickness grid, frame sub-steps ---------------------
    det = Detector(
        tuple(float(c) for c in calibration), resolution_keV, n_channels, solid_angle_sr,
        half_angle_deg, threshold_keV,
    )
    spec_kw = dict(
        detector=det, flux_n_cm2_s=flux, area_cm2=area_cm2, live_s=1.0,
        li6_abundance=li6_abundance, cross_section_b=cross_section_b,
        straggling_scale=straggling_scale, angle_nodes=angle_nodes,
    )
    sub_l = thickness_um(t_edges[:-1, None] + frame_s * (np.arange(substeps) + 0.5) / substeps)
    l_max = float(sub_l.max())
    step = (_auto_deposit_step_um(win, deposit, det.sigma_keV) if deposit_step_um is None
            else float(deposit_step_um))
    grid = np.linspace(0.0, l_max, max(2, math.ceil(l_max / step) + 1) if l_max > 0 else 1)
    rates = _rates_on_grid(win, deposit, elec, grid, spec_kw,
                           workers or min(4, os.cpu_count() or 1))
    frame_rate = _interpolate_rates(rates, grid, sub_l).mean(axis=1)

    rng = np.random.default_rng(seed)
    real_s = np.full(n_frames, float(frame_s))
    live_s = np.round(real_s * (1.0 - dead_time_s * frame_rate.sum(axis=1)))
    expected = frame_rate * live_s[:, None]
    counts = rng.poisson(expected)

    # ---- truth -------------------------------------------------------------------------
    r0, r1 = (float(v) for v in li_region_um)

    def region_li(t):
        return n_li_metal * 1e-4 * np.clip(np.minimum(thickness_um(t), r1) - r0, 0.0, None)

    def region_elec(t):
        th = thickness_um(t)
        hi = np.minimum(th + elec.thickness_um, r1)
        return elec.li_density_cm3 * 1e-4 * np.clip(hi - np.maximum(th, r0), 0.0, None)

    live_avg = _frame_average(t_edges, lambda t: live_inactive(t)[0])
    inactive_avg = _frame_average(t_edges, lambda t: live_inactive(t)[1])
    li_areal = _frame_average(t_edges, region_li)
    elec_areal = _frame_average(t_edges, region_elec)
    stripped = li_efficiency * plated
    cycles = [
        {
            "cycle": c,
            "plated_mAh_cm2": plated,
            "stripped_mAh_cm2": stripped,
            "inactive_li_mAh_cm2": plated - stripped,
            "inactive_li_cumulative_mAh_cm2": c * (plated - stripped),
            "li_efficiency": li_efficiency,
            "charge_plated_mAh_cm2": charge_plated,
            "charge_stripped_mAh_cm2": coulombic_efficiency * charge_plated,
            "coulombic_efficiency": coulombic_efficiency,
        }
        for c in range(1, n_cycles + 1)
    ]

    # ---- files -------------------------------------------------------------------------
    t0 = _dt.datetime.fromisoformat(time_zero)
    run_name = name or f"independent operando run, {current_mA_cm2:g} mA/cm2"
    frames = []
    spectra_paths = []
    width = max(3, len(str(n_frames - 1)))
    for f in range(n_frames):
        tag = f"{f:0{width}d}"
        spectra_paths.append(writers.write_spe(
            out / "spectra" / f"frame_{tag}.Spe", counts[f], live_s=live_s[f], real_s=real_s[f],
            start=t0 + _dt.timedelta(seconds=float(t_edges[f])),
            calibration_keV=det.calibration_keV, spec_id=f"independent NDP frame {tag}",
            remark=f"{run_name}; frame {tag}",
            fwhm_channels=det.resolution_keV / det.calibration_keV[1],
        ))
        frames.append({
            "index": f,
            "start_s": float(t_edges[f]),
            "end_s": float(t_edges[f + 1]),
            "li_areal_cm2": float(li_areal[f]),
            "li_capacity_mAh_cm2": float(li_areal[f] / LI_ATOMS_PER_MAH),
            "live_li_mAh_cm2": float(live_avg[f]),
            "inactive_li_mAh_cm2": float(inactive_avg[f]),
            "electrolyte_li_in_region_cm2": float(elec_areal[f]),
            "li_areal_total_in_region_cm2": float(li_areal[f] + elec_areal[f]),
            "live_s": float(live_s[f]),
            "real_s": float(real_s[f]),
            "expected_total_counts": float(expected[f].sum()),
            "recorded_total_counts": int(counts[f].sum()),
        })

    cycler_path = None
    if cycler:
        current_mA = current_mA_cm2 * area_cm2
        rec = cycler_records(segs, current_mA=current_mA, step_s=cycler_step_s, seed=seed)
        cycler_path = writers.write_mpt(
            out / "cycler" / "cell.mpt", rec, start=t0, current_mA=current_mA,
            plate_h=plate_h, rest_h=rest_h, n_cycles=n_cycles, area_cm2=area_cm2,
            step_s=cycler_step_s,
        )

    layers = [
        {"name": w.name, "material": _formula(w.material), "density": w.density_g_cm3,
         "thickness_um": round(w.thickness_um * declared_window_scale, 9)}
        for w in win
    ]
    analysis = {"particles": "auto", "method": "inversion", "depth_step_um": 0.1,
                "li_region_um": [r0, r1]}
    if profiled_layer == "li":
        thick = elec.thickness_um + 10.0 if profiled_thickness_um is None else profiled_thickness_um
        layers.append({"name": "Li deposit + electrolyte", "material": "Li",
                       "density": LI_METAL_DENSITY_G_CM3, "thickness_um": float(thick),
                       "profiled": True})
    else:
        thick = elec.thickness_um if profiled_thickness_um is None else profiled_thickness_um
        layers.append({"name": elec.name, "material": _formula(elec.material),
                       "density": elec.density_g_cm3, "thickness_um": float(thick),
                       "profiled": True})
        analysis["matrix"] = "self-consistent"
    run_toml = writers.write_run_toml(
        out / "run.toml", name=run_name, spectra="spectra/*.Spe",
        cycler="cycler/cell.mpt" if cycler else None, time_zero=time_zero,
        calibration=list(det.calibration_keV), resolution_keV=det.resolution_keV,
        solid_angle_sr=det.solid_angle_sr, half_angle_deg=det.half_angle_deg, flux=flux,
        area_cm2=area_cm2, li6_abundance=li6_abundance, layers=layers, analysis=analysis,
    )

    truth = {
        "generator": "tests/independent (pycatima stopping; shares no code with ndp)",
        "seed": seed,
        "substeps_per_frame": substeps,
        "time_zero": time_zero,
        "notes": (
            "li_areal_cm2 / li_capacity_mAh_cm2 count only plated + inactive Li (dense Li metal) "
            "within li_region_um of physical depth behind the window; the electrolyte's own Li "
            "there is electrolyte_li_in_region_cm2. Frame values are exact time averages."
        ),
        "parameters": {
            "current_mA_cm2": current_mA_cm2, "area_cm2": area_cm2, "plate_h": plate_h,
            "strip_h": coulombic_efficiency * plate_h, "rest_h": rest_h, "n_cycles": n_cycles,
            "visible_fraction": visible_fraction, "li_efficiency": li_efficiency,
            "coulombic_efficiency": coulombic_efficiency, "flux_n_cm2_s": flux,
            "sigma_b": cross_section_b, "li6_abundance": li6_abundance,
            "solid_angle_sr": solid_angle_sr, "acceptance_half_angle_deg": half_angle_deg,
            "resolution_fwhm_keV": resolution_keV, "calibration_keV": list(det.calibration_keV),
            "n_channels": n_channels, "threshold_keV": threshold_keV, "frame_s": frame_s,
            "n_frames": n_frames, "li_atoms_per_mAh": LI_ATOMS_PER_MAH,
            "li_region_um": [r0, r1], "li_metal_density_cm3": n_li_metal,
            "um_li_metal_per_mAh_cm2": um_per_mAh_cm2, "stopping_scale": stopping_scale,
            "window_stopping_scale": [w.stopping_scale for w in win],
            "straggling_scale": straggling_scale, "declared_window_scale": declared_window_scale,
            "profiled_layer": profiled_layer, "dead_time_s": dead_time_s,
            "dead_time_model": f"live = round(real*(1-{dead_time_s:g}*rate))",
            "angle_nodes": angle_nodes,
            "deposit_grid_step_um": float(grid[1] - grid[0]) if grid.size > 1 else 0.0,
            "stack": [
                *({"name": w.name, "material": _formula(w.material),
                   "density_g_cm3": w.density_g_cm3, "thickness_um": w.thickness_um}
                  for w in win),
                {"name": "live Li + inactive Li", "material": "Li",
                 "density_g_cm3": LI_METAL_DENSITY_G_CM3, "thickness_um": "varies"},
                {"name": elec.name, "material": _formula(elec.material),
                 "density_g_cm3": elec.density_g_cm3, "thickness_um": elec.thickness_um,
                 "li_cm3": elec.li_density_cm3},
            ],
            "segments": [dataclasses.asdict(sg) for sg in segs],
        },
        "cycles": cycles,
        "frames": frames,
    }
    truth_json = out / "truth.json"
    truth_json.write_text(json.dumps(truth, indent=1, default=_json_default))
    return {
        "run_dir": out,
        "run_toml": run_toml,
        "spectra": spectra_paths,
        "cycler": cycler_path,
        "truth_json": truth_json,
        "truth": truth,
        "expected": expected,
    }


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj)}")
