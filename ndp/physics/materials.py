"""The sample as it is built: materials (elements, formulas, named battery materials, mixtures),
the layers cut from them and the stack of layers from the detector side inwards.

>>> from ndp import Material
>>> li = Material("Li")                      # element, density from periodictable
>>> round(li.li_atoms_cm3 / 1e22, 2)
4.63
>>> llzo = Material("Li7La3Zr2O12", density=5.1)
>>> hse = Material.mix([("PEO", 0.6), ("LiTFSI", 0.2), ("SN", 0.1), ("LAGP", 0.1)], by="weight")
>>> cu = Material("Cu")
>>> stack = cu(10.0) | li(40.0, profiled=True)

Element, isotope and formula handling is periodictable's (NCNR). Stopping (``stopping=``):
``"auto"`` (default) uses NIST's own ASTAR/PSTAR table for the compounds NIST tabulates (Kapton,
Mylar, PTFE, SiO2, Al2O3, LiF, ...) and, for every other compound, Bragg's rule with the
condensed-phase correction of H, C, N, O, F (``"corrected"``); ``"bragg"`` is plain Bragg's rule
over the element tables. A SRIM table given to a material replaces all of these.

>>> Material("Li7La3Zr2O12", density=5.1).stopping_method
'corrected'
>>> Material("SiO2", stopping="bragg").stopping_method
'bragg'

A material called with a thickness is a :class:`Layer`; layers joined with ``|`` are a
:class:`Stack`, listed from the detector side inwards:

>>> stack = cu(10.0, name="Cu current collector") | li(40.0, profiled=True)
>>> stack.profiled.material.name
'Li'
>>> [layer.thickness_um for layer in stack.window]
[10.0]

One layer is *profiled*: it holds the Li whose depth profile is measured, and depth 0 is its
detector-side surface. The layers before it (window, current collector, coatings) only slow the
particles down; layers behind it do not matter for what reaches the detector.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ndp.errors import MaterialError, StackError
from ndp.physics import constants as C
from ndp.physics.kinematics import CompiledStack
from ndp.physics.srim import particle_of
from ndp.physics.stopping import (
    STOPPING_METHODS,
    Particle,
    StoppingCurve,
    bragg_cross_section,
    compound_cross_section,
    curve_grid,
    get_particle,
)

if TYPE_CHECKING:
    from ndp.physics.srim import SrimTable

__all__ = ["NAMED_MATERIALS", "Layer", "Material", "Stack", "named_materials"]


@dataclass(frozen=True)
class _Named:
    formula: str | None  # None: composition from the NIST compound table
    density: float
    description: str
    aliases: tuple[str, ...] = ()
    nist: str | None = None  # key of a NIST compound stopping table
    by_weight: tuple[tuple[str, float], ...] = ()  # alloys: element, mass fraction


# Usual densities (g/cm³) of what an NDP cell is made of. Where a material's density varies with
# how it was made (sputtered LiPON, ALD oxides, polymer crystallinity), the value is a typical
# one and the run file should state the sample's own.
NAMED_MATERIALS: dict[str, _Named] = {
    "Li metal": _Named("Li", C.LI_METAL_DENSITY_G_CM3, "lithium metal", ("lithium", "limetal")),
    "stainless steel": _Named(
        None,
        7.93,
        "AISI 304 stainless steel",
        ("ss", "ss304", "steel", "304"),
        by_weight=(("Fe", 0.695), ("Cr", 0.19), ("Ni", 0.095), ("Mn", 0.02)),
    ),
    "ZnO": _Named("ZnO", 5.61, "zinc oxide coating", ("zinc oxide",)),
    "Kapton": _Named("C22H10N2O5", 1.42, "Kapton polyimide film", ("polyimide",), "kapton"),
    "Mylar": _Named("C10H8O4", 1.40, "Mylar (PET) film", ("pet",), "mylar"),
    "PEO": _Named("C2H4O", 1.21, "poly(ethylene oxide)", ("polyethylene oxide",)),
    "LiTFSI": _Named("LiC2F6NO4S2", 1.33, "lithium bis(trifluoromethanesulfonyl)imide"),
    "succinonitrile": _Named("C4H4N2", 0.985, "succinonitrile plastic crystal", ("sn",)),
    "LiPON": _Named("Li2.9PO3.3N0.46", 2.5, "sputtered lithium phosphorus oxynitride"),
    "LLZO": _Named("Li7La3Zr2O12", 5.1, "garnet Li7La3Zr2O12"),
    "LAGP": _Named("Li1.5Al0.5Ge1.5(PO4)3", 3.4, "NASICON Li1.5Al0.5Ge1.5(PO4)3"),
    "Li6PS5Cl": _Named("Li6PS5Cl", 1.64, "argyrodite sulfide electrolyte", ("lpscl",)),
    "Li3PS4": _Named("Li3PS4", 1.87, "thiophosphate electrolyte", ("lps",)),
    "graphite": _Named("C", 2.26, "graphite"),
    "LiFePO4": _Named("LiFePO4", 3.6, "lithium iron phosphate", ("lfp",)),
    "LiCoO2": _Named("LiCoO2", 5.05, "lithium cobalt oxide", ("lco",)),
    "NMC811": _Named("LiNi0.8Mn0.1Co0.1O2", 4.75, "LiNi0.8Mn0.1Co0.1O2", ("ncm811",)),
    "Li4Ti5O12": _Named("Li4Ti5O12", 3.5, "lithium titanate", ("lto",)),
    "SiO2": _Named("SiO2", 2.2, "amorphous silica", ("silica",), "SiO2"),
    "Al2O3": _Named("Al2O3", 3.95, "alumina", ("alumina",), "Al2O3"),
    "LiF": _Named("LiF", 2.635, "lithium fluoride", (), "LiF"),
    "Li2CO3": _Named("Li2CO3", 2.11, "lithium carbonate"),
    "Li2O": _Named("Li2O", 2.01, "lithium oxide"),
    "Li3N": _Named("Li3N", 1.27, "lithium nitride"),
    "Li2S": _Named("Li2S", 1.66, "lithium sulfide"),
    "LiPF6": _Named("LiPF6", 2.84, "lithium hexafluorophosphate"),
    "EC": _Named("C3H4O3", 1.32, "ethylene carbonate", ("ethylene carbonate",)),
    "DMC": _Named("C3H6O3", 1.07, "dimethyl carbonate", ("dimethyl carbonate",)),
    "PVDF": _Named("C2H2F2", 1.78, "poly(vinylidene fluoride) binder"),
    "PTFE": _Named("C2F4", 2.2, "PTFE (Teflon)", ("teflon",), "ptfe"),
    "polyethylene": _Named("C2H4", 0.94, "polyethylene separator", ("pe",), "polyethylene"),
    "polypropylene": _Named("C3H6", 0.90, "polypropylene separator", ("pp",), "polypropylene"),
    "PMMA": _Named("C5H8O2", 1.19, "poly(methyl methacrylate)", (), "pmma"),
    "water": _Named("H2O", 1.0, "liquid water", (), "water"),
    "Li2B4O7": _Named("Li2B4O7", 2.44, "lithium tetraborate", (), "Li2B4O7"),
    "pyrex": _Named(None, 2.23, "borosilicate glass (glass-fibre separator)", (), "pyrex"),
    "air": _Named(None, 1.20479e-3, "dry air near sea level", (), "air"),
    "carbon amorphous": _Named("C", 2.0, "amorphous carbon", (), "carbon_amorphous"),
}


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


@functools.cache
def _name_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for key, entry in NAMED_MATERIALS.items():
        for alias in (key, *entry.aliases):
            index[_norm(alias)] = key
    return index


def named_materials() -> list[tuple[str, str, float, str]]:
    """(name, formula, density g/cm³, description) of every named material."""
    return [
        (k, v.formula or "(mixture)", v.density, v.description) for k, v in NAMED_MATERIALS.items()
    ]


@functools.cache
def _nist_compositions() -> dict[str, dict[str, float]]:
    """NIST compound key → element symbol → mass fraction (from ``compounds.tsv``)."""
    import periodictable  # its element tables load on first import (~0.1 s)

    text = resources.files("ndp.stopping_tables").joinpath("compounds.tsv").read_text()
    out = {}
    for line in text.splitlines()[1:]:
        key, _name, _id, _rho, comp = line.split("\t")
        out[key] = {
            periodictable.elements[int(z)].symbol: float(w)
            for z, w in (pair.split(":") for pair in comp.split(";"))
        }
    return out


def _parse_formula(spec: str) -> dict[str, float]:
    """Element symbol → atoms per formula unit, isotopes folded into their elements."""
    import periodictable  # its element tables load on first import (~0.1 s)

    try:
        f = periodictable.formula(spec)
    except Exception as exc:  # periodictable raises ValueError or pyparsing errors
        reason = str(exc).split("(at char")[0].strip().rstrip(",")
        raise MaterialError(
            f"material: cannot read {spec!r} ({reason}); expected an element, a formula such "
            "as 'Li7La3Zr2O12', or a named material (ndp stopping --list)"
        ) from None
    atoms: dict[str, float] = {}
    for atom, n in f.atoms.items():
        element = getattr(atom, "element", atom)
        if element.number < 1 or element.number > 92:
            raise MaterialError(f"material: {spec!r} contains {element.symbol}; ndp knows Z = 1-92")
        atoms[element.symbol] = atoms.get(element.symbol, 0.0) + float(n)
    if not atoms:
        raise MaterialError(f"material: {spec!r} contains no atoms")
    return atoms


def _by_mass(fractions: Mapping[str, float]) -> dict[str, float]:
    """Element mass fractions → atoms per gram-mole-ish formula unit (relative amounts)."""
    import periodictable  # its element tables load on first import (~0.1 s)

    return {sym: w / periodictable.elements.symbol(sym).mass for sym, w in fractions.items()}


def _molar_mass(atoms: Mapping[str, float]) -> float:
    import periodictable  # its element tables load on first import (~0.1 s)

    return sum(n * periodictable.elements.symbol(s).mass for s, n in atoms.items())


def _check_density(density: Any, what: str) -> float:
    try:
        value = float(density)
    except (TypeError, ValueError):
        raise MaterialError(
            f"density of {what}: expected a number in g/cm3, got {density!r}"
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise MaterialError(f"density of {what}: expected a positive number in g/cm3, got {value}")
    return value


class Material:
    """A homogeneous material: composition, density and how it stops ions.

    Parameters
    ----------
    spec : str
        An element (``"Cu"``), a chemical formula (``"Li7La3Zr2O12"``, ``"Li[6]F"`` for an
        isotope) or a named material (``"LLZO"``, ``"Kapton"``, ``"stainless steel"``; see
        :func:`named_materials`). Element symbols take precedence over names, names over formulas.
    density : float, optional
        Mass density, g/cm³. Required for a formula that is not a named material or an element.
    name : str, optional
        Display name; defaults to ``spec``.
    srim : dict of str to SrimTable, optional
        Electronic (and, for a matching ion, nuclear) stopping for ``"alpha"`` and/or
        ``"triton"`` from SRIM outputs, replacing the built-in tables.
    stopping : {"auto", "corrected", "bragg"}
        How electronic stopping is built. ``"auto"``: NIST's own compound table where the named
        material has one, else ``"corrected"``. ``"corrected"``: Bragg's rule over the element
        tables with the condensed-phase factors of H, C, N, O, F (they matter for compounds of
        light elements; see ``stopping_tables/README.md``). ``"bragg"``: plain Bragg's rule, as
        ndp did before. A one-element material is its element table under every method.

    Notes
    -----
    Instances are immutable, hashable and picklable; ``eval(repr(m))`` rebuilds them (except
    those with SRIM tables).
    """

    def __init__(
        self,
        spec: str,
        density: float | None = None,
        *,
        name: str | None = None,
        srim: Mapping[str, SrimTable] | None = None,
        stopping: str = "auto",
    ):
        stopping = _check_method(stopping)
        if not isinstance(spec, str) or not spec.strip():
            raise MaterialError(f"material: expected a non-empty name or formula, got {spec!r}")
        spec = spec.strip()
        table = None
        if re.fullmatch(r"[A-Z][a-z]?", spec) and _is_element(spec):
            atoms = {spec: 1.0}
            default_density = _element_density(spec)
            if spec == "Li":
                default_density = NAMED_MATERIALS["Li metal"].density
        elif _norm(spec) in _name_index():
            key = _name_index()[_norm(spec)]
            entry = NAMED_MATERIALS[key]
            if entry.formula is not None:
                atoms = _parse_formula(entry.formula)
            elif entry.by_weight:
                atoms = _by_mass(dict(entry.by_weight))
            else:
                atoms = _by_mass(_nist_compositions()[entry.nist])
            default_density = entry.density
            table = entry.nist
        else:
            atoms = _parse_formula(spec)
            default_density = None
        if density is None:
            if default_density is None:
                raise MaterialError(
                    f"density of {spec!r}: required for a formula that is not a named material "
                    "(give density in g/cm3)"
                )
            density = default_density
        self._init(atoms, _check_density(density, repr(spec)), name or spec, table, srim, stopping)
        args = [repr(spec)] + ([f"density={density!r}"] if density != default_density else [])
        if name:
            args.append(f"name={name!r}")
        if stopping != "auto":
            args.append(f"stopping={stopping!r}")
        self._repr = f"Material({', '.join(args)})"

    def _init(self, atoms, density, name, table, srim, stopping="auto"):
        total = sum(atoms.values())
        if total <= 0 or any(n < 0 for n in atoms.values()):
            raise MaterialError(f"material {name!r}: composition must have positive amounts")
        self._atoms = tuple(sorted((s, float(n)) for s, n in atoms.items() if n > 0))
        self.density_g_cm3 = float(density)
        self.name = str(name)
        self.table = table if stopping == "auto" else None
        self.stopping_option = stopping
        self.srim = dict(srim or {})
        for particle in self.srim:
            get_particle(particle)

    @classmethod
    def _from_parts(
        cls, atoms, density, name, table=None, srim=None, rep=None, stopping="auto"
    ) -> Material:
        self = cls.__new__(cls)
        self._init(atoms, density, name, table, srim, stopping)
        self._repr = rep or f"<Material {name}>"
        return self

    # -- construction helpers ------------------------------------------------------------

    @classmethod
    def mix(
        cls,
        components: Sequence[tuple[Material | str, float]],
        *,
        by: str = "weight",
        density: float | None = None,
        name: str | None = None,
        stopping: str = "auto",
    ) -> Material:
        """A homogeneous mixture of materials by weight or volume fraction.

        Parameters
        ----------
        components : sequence of (Material or str, float)
            Each component and its fraction; the fractions must sum to 1.
        by : {"weight", "volume"}
        density : float, optional
            Density of the mixture, g/cm³; by default ideal mixing (volumes add).
        name : str, optional
        stopping : {"auto", "corrected", "bragg"}
            As for :class:`Material`; a mixture has no NIST table, so ``"auto"`` is
            ``"corrected"``.

        Examples
        --------
        >>> hse = Material.mix([("PEO", 0.6), ("LiTFSI", 0.2), ("SN", 0.1), ("LAGP", 0.1)])
        >>> round(hse.density_g_cm3, 3)
        1.287
        """
        stopping = _check_method(stopping)
        if by not in ("weight", "volume"):
            raise MaterialError(f"mixture: 'by' must be 'weight' or 'volume', got {by!r}")
        if not components:
            raise MaterialError("mixture: no components given")
        mats = [c if isinstance(c, Material) else Material(c) for c, _ in components]
        fracs = []
        for comp, f in components:
            try:
                value = float(f)
            except (TypeError, ValueError):
                raise MaterialError(
                    f"mixture: fraction of {comp!r} must be a number, got {f!r}"
                ) from None
            if not math.isfinite(value) or value < 0:
                raise MaterialError(f"mixture: fraction of {comp!r} must be >= 0, got {value}")
            fracs.append(value)
        total = sum(fracs)
        if abs(total - 1.0) > 1e-6:
            raise MaterialError(
                f"mixture: {by} fractions sum to {total:.6g}, expected 1 "
                f"({', '.join(f'{m.name}={f:g}' for m, f in zip(mats, fracs, strict=True))})"
            )
        if by == "weight":
            masses = fracs
            volume = sum(w / m.density_g_cm3 for w, m in zip(fracs, mats, strict=True))
            rho = 1.0 / volume
        else:
            masses = [v * m.density_g_cm3 for v, m in zip(fracs, mats, strict=True)]
            rho = sum(masses)
        atoms: dict[str, float] = {}
        for mass, m in zip(masses, mats, strict=True):
            units = mass / m.molar_mass_g_mol  # formula units per gram of mixture
            for sym, n in m.atoms.items():
                atoms[sym] = atoms.get(sym, 0.0) + units * n
        label = name or " + ".join(f"{f:g} {m.name}" for m, f in zip(mats, fracs, strict=True))
        rho_out = _check_density(density, label) if density is not None else rho
        parts = ", ".join(f"({m.name!r}, {f!r})" for m, f in zip(mats, fracs, strict=True))
        extra = (
            (f", density={density!r}" if density is not None else "")
            + (f", name={name!r}" if name else "")
            + (f", stopping={stopping!r}" if stopping != "auto" else "")
        )
        rep = f"Material.mix([{parts}], by={by!r}{extra})"
        return cls._from_parts(atoms, rho_out, label, rep=rep, stopping=stopping)

    def with_density(self, density_g_cm3: float) -> Material:
        """The same material at another density (e.g. a porous or mossy deposit)."""
        rho = _check_density(density_g_cm3, repr(self.name))
        rep = self._repr
        if rep.startswith("Material(") and "density=" not in rep and "srim" not in rep:
            rep = rep[:-1] + f", density={rho!r})"
        else:
            rep = f"{rep}.with_density({rho!r})"
        return Material._from_parts(
            dict(self._atoms), rho, self.name, self.table, self.srim, rep, self.stopping_option
        )

    @classmethod
    def from_srim(cls, *tables: SrimTable, name: str | None = None,
                  density: float | None = None) -> Material:  # fmt: skip
        """The target of SRIM stopping tables (its composition and density), stopping from them.

        Parameters
        ----------
        *tables : SrimTable
            One per particle (He ions for the α, H ions for the triton), from
            :func:`ndp.physics.srim.read_srim`; the first gives the composition and density.
        name : str, optional
            Display name (default: the first file's name).
        density : float, optional
            g/cm³, replacing the file's.
        """

        if not tables:
            raise MaterialError("material from SRIM: expected at least one table")
        first = tables[0]
        srim = {particle_of(t): t for t in tables}
        rho = first.density_g_cm3 if density is None else density
        label = name or Path(first.source).stem
        return cls._from_parts(dict(first.composition), _check_density(rho, repr(label)), label,
                               None, srim, f"Material.from_srim(...)  # {label}")  # fmt: skip

    def with_srim(self, **tables: SrimTable) -> Material:
        """The same material with stopping from SRIM tables, e.g. ``with_srim(alpha=t)``."""
        srim = {**self.srim, **{get_particle(k).name: v for k, v in tables.items()}}
        return Material._from_parts(
            dict(self._atoms),
            self.density_g_cm3,
            self.name,
            self.table,
            srim,
            f"{self._repr}.with_srim(...)",
            self.stopping_option,
        )

    # -- composition -------------------------------------------------------------------

    @property
    def atoms(self) -> dict[str, float]:
        """Element symbol → atoms per formula unit."""
        return dict(self._atoms)

    @property
    def formula(self) -> str:
        """Hill-ordered formula with (possibly fractional) counts."""
        parts = []
        for sym, n in self._atoms:
            parts.append(sym if abs(n - 1) < 1e-9 else f"{sym}{n:.4g}")
        return "".join(parts)

    @functools.cached_property
    def molar_mass_g_mol(self) -> float:
        """Mass of one formula unit, g/mol."""
        return _molar_mass(dict(self._atoms))

    @functools.cached_property
    def atom_fractions(self) -> dict[str, float]:
        """Element symbol → atom fraction (sums to 1)."""
        total = sum(n for _, n in self._atoms)
        return {s: n / total for s, n in self._atoms}

    @property
    def mean_atomic_mass_u(self) -> float:
        """Mass per atom, u."""
        return self.molar_mass_g_mol / sum(n for _, n in self._atoms)

    @property
    def atoms_cm3(self) -> float:
        """Atom density (all elements), atoms/cm³."""
        return self.density_g_cm3 * C.AVOGADRO / self.mean_atomic_mass_u

    def element_atoms_cm3(self, symbol: str) -> float:
        """Atom density of one element (all its isotopes), atoms/cm³."""
        return self.atoms_cm3 * self.atom_fractions.get(symbol, 0.0)

    @property
    def li_atoms_cm3(self) -> float:
        """Li atom density, atoms/cm³."""
        return self.element_atoms_cm3("Li")

    @property
    def li_density_rel(self) -> float:
        """Li atom density relative to Li metal (``ndp.physics.constants.LI_METAL_ATOMS_CM3``, 4.63×10²² cm⁻³)."""
        return self.li_atoms_cm3 / C.LI_METAL_ATOMS_CM3

    def um_to_areal(self, depth_um) -> np.ndarray:
        """Convert a thickness in µm to areal density in 10¹⁵ atoms/cm²."""
        return np.asarray(depth_um) * self.atoms_cm3 * 1e-19

    def areal_to_um(self, areal_1e15_cm2) -> np.ndarray:
        """Convert an areal density in 10¹⁵ atoms/cm² to a thickness in µm."""
        return np.asarray(areal_1e15_cm2) / (self.atoms_cm3 * 1e-19)

    # -- stopping ----------------------------------------------------------------------

    @property
    def stopping_method(self) -> str:
        """The method in use without SRIM tables: ``"nist"``, ``"corrected"`` or ``"bragg"``.

        ``"corrected"`` only where it changes something: a condensed compound with H, C, N, O
        or F. A gas (below ``GAS_DENSITY_G_CM3``) keeps the element tables, which are the
        gases'.
        """
        if self.table:
            return "nist"
        if (
            self.stopping_option == "bragg"
            or len(self._atoms) < 2
            or self.density_g_cm3 < C.GAS_DENSITY_G_CM3
            or not any(s in _CONDENSED_ELEMENTS for s, _ in self._atoms)
        ):
            return "bragg"
        return "corrected"

    def stopping_source(self, particle: str | Particle) -> str:
        """Where this material's electronic stopping for ``particle`` comes from."""
        p = get_particle(particle)
        if p.name in self.srim:
            return f"SRIM file {self.srim[p.name].source}"
        method = self.stopping_method
        if method == "nist":
            return f"NIST {'ASTAR' if p.projectile == 'alpha' else 'PSTAR'} compound table {self.table}"
        if method == "corrected":
            return (
                "Bragg's rule over ndp's element tables with the condensed-phase factors "
                "of H, C, N, O, F (stopping='corrected')"
            )
        if len(self._atoms) < 2:
            return "ndp's element table"
        return "Bragg's rule over ndp's element tables (stopping='bragg')"

    def cross_sections(self, particle: str | Particle, energy_keV) -> tuple[np.ndarray, np.ndarray]:
        """Electronic and nuclear stopping cross sections per atom, eV/(10¹⁵ atoms/cm²).

        Parameters
        ----------
        particle : {"alpha", "triton"}
        energy_keV : array_like of shape (...)

        Returns
        -------
        electronic, nuclear : ndarray of shape (...)
        """
        p = get_particle(particle)
        e = np.asarray(energy_keV, dtype=float)
        elec, nuc = bragg_cross_section(
            self.atom_fractions, p, e, condensed=self.stopping_method == "corrected"
        )
        if self.table:
            elec = compound_cross_section(self.table, p, e, self.mean_atomic_mass_u)
        table = self.srim.get(p.name)
        if table is not None:
            elec, nuc_srim = table.cross_sections(p, e)
            if nuc_srim is not None:
                nuc = nuc_srim
        return elec, nuc

    def stopping(self, particle: str | Particle, energy_keV) -> tuple[np.ndarray, np.ndarray]:
        """Electronic and nuclear stopping powers, keV/µm, each of ``energy_keV``'s shape."""
        return self.curve(particle).components(energy_keV)

    def curve(self, particle: str | Particle, *, nuclear: bool = True) -> StoppingCurve:
        """The compiled :class:`~ndp.physics.stopping.StoppingCurve` (cached per material)."""
        return _curve(self, get_particle(particle).name, nuclear)

    def range_um(self, particle: str | Particle, energy_keV=None, *, nuclear: bool = True):
        """CSDA range, µm, at ``energy_keV`` (default: the particle's birth energy)."""
        p = get_particle(particle)
        e = p.energy_keV if energy_keV is None else energy_keV
        return self.curve(p, nuclear=nuclear).range(e)

    # -- layers ------------------------------------------------------------------------

    def __call__(
        self, thickness_um: float, *, profiled: bool = False, name: str | None = None
    ) -> Layer:
        """A :class:`Layer` of this material, ``thickness_um`` thick."""
        return Layer(self, thickness_um, profiled=profiled, name=name)

    # -- identity ----------------------------------------------------------------------

    def _key(self):
        srim = tuple(sorted((k, v.digest) for k, v in self.srim.items()))
        return (self._atoms, self.density_g_cm3, self.table, self.stopping_method, srim)

    def __eq__(self, other):
        return isinstance(other, Material) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return self._repr


@functools.lru_cache(maxsize=256)
def _curve(material: Material, particle: str, nuclear: bool) -> StoppingCurve:
    grid = curve_grid()
    elec, nuc = material.cross_sections(particle, grid)
    if not nuclear:
        nuc = np.zeros_like(nuc)
    return StoppingCurve.from_cross_sections(grid, elec, nuc, material.atoms_cm3)


#: Elements whose electronic stopping the condensed-phase correction scales.
_CONDENSED_ELEMENTS = frozenset({"H", "C", "N", "O", "F"})


def _check_method(stopping: Any) -> str:
    if stopping not in STOPPING_METHODS:
        raise MaterialError(
            f"stopping: expected one of {', '.join(STOPPING_METHODS)}, got {stopping!r}"
        )
    return stopping


@functools.cache
def _is_element(symbol: str) -> bool:
    import periodictable  # its element tables load on first import (~0.1 s)

    try:
        el = periodictable.elements.symbol(symbol)
    except ValueError:
        return False
    return 1 <= el.number <= 92


def _element_density(symbol: str) -> float | None:
    import periodictable  # its element tables load on first import (~0.1 s)

    return periodictable.elements.symbol(symbol).density


# -- layers and stacks ----------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    """A homogeneous layer.

    Parameters
    ----------
    material : Material
    thickness_um : float
        Thickness, µm (> 0).
    profiled : bool
        Whether this is the layer whose Li is profiled.
    name : str, optional
    """

    material: Material
    thickness_um: float
    profiled: bool = False
    name: str | None = None

    def __post_init__(self):
        if not isinstance(self.material, Material):
            raise StackError(
                f"layer {self.name or ''}: material must be a Material, got {self.material!r}"
            )
        try:
            t = float(self.thickness_um)
        except (TypeError, ValueError):
            raise StackError(
                f"layer {self.label!r}: thickness_um must be a number, got {self.thickness_um!r}"
            ) from None
        if not math.isfinite(t) or t <= 0:
            raise StackError(f"layer {self.label!r}: thickness_um must be > 0, got {t:g}")
        object.__setattr__(self, "thickness_um", t)

    @property
    def label(self) -> str:
        """The layer's name, or its material's."""
        return self.name or self.material.name

    @property
    def areal_1e15_cm2(self) -> float:
        """Areal density of the layer, 10¹⁵ atoms/cm²."""
        return float(self.material.um_to_areal(self.thickness_um))

    def __or__(self, other: Layer | Stack) -> Stack:
        return Stack((self,)) | other

    def __repr__(self) -> str:
        extra = (", profiled=True" if self.profiled else "") + (
            f", name={self.name!r}" if self.name else ""
        )
        return f"{self.material!r}({self.thickness_um!r}{extra})"


@dataclass(frozen=True)
class Stack:
    """Layers from the detector side inwards; exactly one is profiled when it is used.

    Parameters
    ----------
    layers : tuple of Layer
    """

    layers: tuple[Layer, ...]

    def __post_init__(self):
        layers = tuple(self.layers)
        for layer in layers:
            if not isinstance(layer, Layer):
                raise StackError(f"stack: expected Layer objects, got {layer!r}")
        profiled = [i for i, layer in enumerate(layers) if layer.profiled]
        if len(profiled) > 1:
            names = ", ".join(repr(layers[i].label) for i in profiled)
            raise StackError(
                f"stack: exactly one layer may be profiled, got {len(profiled)} ({names})"
            )
        object.__setattr__(self, "layers", layers)

    def __or__(self, other: Layer | Stack) -> Stack:
        if isinstance(other, Layer):
            return Stack((*self.layers, other))
        if isinstance(other, Stack):
            return Stack((*self.layers, *other.layers))
        return NotImplemented

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def __repr__(self) -> str:
        return " | ".join(repr(layer) for layer in self.layers) if self.layers else "Stack(())"

    @property
    def profiled_index(self) -> int:
        """Index of the profiled layer; :class:`StackError` if there is none."""
        for i, layer in enumerate(self.layers):
            if layer.profiled:
                return i
        raise StackError(
            "stack: no layer is profiled; mark the layer holding the Li with profiled = true"
        )

    @property
    def profiled(self) -> Layer:
        """The profiled layer."""
        return self.layers[self.profiled_index]

    @property
    def window(self) -> tuple[Layer, ...]:
        """The layers between the profiled region and the detector, detector side first."""
        return self.layers[: self.profiled_index]

    @property
    def region(self) -> tuple[Layer, ...]:
        """The profiled region: the profiled layer and every layer behind it.

        Depth runs from the profiled layer's detector-side surface through all of them, so a Li
        profile can cross interfaces (deposit → electrolyte).
        """
        return self.layers[self.profiled_index :]

    @property
    def region_thickness_um(self) -> float:
        """Total thickness of the profiled region, µm."""
        return float(sum(layer.thickness_um for layer in self.region))

    def matrix_at(self, depth_um) -> list[Layer]:
        """The region layer at each depth (µm)."""
        tops = np.cumsum([0.0] + [layer.thickness_um for layer in self.region])[:-1]
        idx = np.clip(
            np.searchsorted(tops, np.atleast_1d(depth_um), side="right") - 1,
            0,
            len(self.region) - 1,
        )
        return [self.region[i] for i in idx]

    def depth_to_areal(self, depth_um) -> np.ndarray:
        """Depth in the profiled region (µm) → areal density from its surface (10¹⁵ atoms/cm²)."""
        x = np.asarray(depth_um, dtype=float)
        out = np.zeros_like(x)
        top = 0.0
        for layer in self.region:
            inside = np.clip(x - top, 0.0, layer.thickness_um)
            out = out + layer.material.um_to_areal(inside)
            top += layer.thickness_um
        # Past the region's back, continue in its last layer.
        return out + self.region[-1].material.um_to_areal(np.maximum(x - top, 0.0))

    def to_array(self, particle):
        """Compile for one particle: see :class:`ndp.physics.kinematics.CompiledStack` (cached)."""

        return _compile(self, get_particle(particle).name)


@functools.lru_cache(maxsize=64)
def _compile(stack: Stack, particle: str):
    return CompiledStack.from_stack(stack, particle)
