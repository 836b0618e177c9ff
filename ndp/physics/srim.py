"""Reader for SRIM / SR Module "Stopping/Range table" output files (``SR_OUTPUT.txt``).

Real files differ: LF or CRLF, decimal commas (non-English Windows locales), energies in
eV/keV/MeV/GeV and lengths in A/um/mm within one table, "Target is a GAS" lines, stopping
units with or without spaces. The stopping columns are in the file's own units; the file's
"Multiply Stopping by" block converts them, and this reader uses it rather than re-deriving
factors from the density.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ndp.errors import FileFormatError, MaterialError
from ndp.physics.stopping import get_particle

__all__ = ["SrimTable", "read_srim"]

_ENERGY_UNITS = {"ev": 1e-3, "kev": 1.0, "mev": 1e3, "gev": 1e6}
_LENGTH_UNITS = {"a": 1e-4, "um": 1.0, "mm": 1e3, "cm": 1e4, "m": 1e6, "km": 1e9}
_NUM = r"[-+]?\d+(?:[.,]\d*)?(?:[eE][-+]?\d+)?"
_ROW = re.compile(
    rf"^\s*({_NUM})\s*(eV|keV|MeV|GeV)\s+({_NUM})\s+({_NUM})\s+({_NUM})\s*(A|um|mm|cm|m|km)"
    rf"\s+({_NUM})\s*(A|um|mm|cm|m|km)\s+({_NUM})\s*(A|um|mm|cm|m|km)\s*$",
    re.IGNORECASE,
)


def _num(text: str) -> float:
    return float(text.replace(",", "."))


def _unit_key(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


@dataclass(frozen=True, eq=False)
class SrimTable:
    """One SRIM stopping/range table: one ion in one target.

    Attributes
    ----------
    source : str
        The file it was read from.
    digest : str
        SHA-256 of the file's bytes (provenance; identifies the table in caches).
    ion_z : int
    ion_mass_u : float
    density_g_cm3, atoms_cm3 : float
        Target density as the file states it.
    composition : dict of str to float
        Element symbol → atom fraction of the target.
    gas : bool
        Whether SRIM treated the target as a gas.
    stopping_units : str
        Units of the stopping columns as printed in the file.
    energy_keV : ndarray of shape (n,)
    electronic, nuclear : ndarray of shape (n,)
        Stopping in the file's units.
    range_um, longitudinal_straggling_um, lateral_straggling_um : ndarray of shape (n,)
        Projected range and stragglings, µm.
    factors : dict of str to float
        The file's conversion block: unit (spaces removed, lower case) → factor.
    """

    source: str
    digest: str
    ion_z: int
    ion_mass_u: float
    density_g_cm3: float
    atoms_cm3: float
    composition: dict[str, float]
    gas: bool
    stopping_units: str
    energy_keV: np.ndarray
    electronic: np.ndarray
    nuclear: np.ndarray
    range_um: np.ndarray
    longitudinal_straggling_um: np.ndarray
    lateral_straggling_um: np.ndarray
    factors: dict[str, float] = field(default_factory=dict)

    def _factor(self, unit: str) -> float:
        try:
            return self.factors[_unit_key(unit)]
        except KeyError:
            raise FileFormatError(
                self.source, f"the conversion block has no factor for {unit}"
            ) from None

    @property
    def electronic_eV_1e15(self) -> np.ndarray:
        """Electronic stopping cross section, eV/(10¹⁵ atoms/cm²), shape (n,)."""
        return self.electronic * self._factor("eV/(1E15 atoms/cm2)")

    @property
    def nuclear_eV_1e15(self) -> np.ndarray:
        """Nuclear stopping cross section, eV/(10¹⁵ atoms/cm²), shape (n,)."""
        return self.nuclear * self._factor("eV/(1E15 atoms/cm2)")

    @property
    def electronic_keV_um(self) -> np.ndarray:
        """Electronic stopping power at the file's density, keV/µm, shape (n,)."""
        return self.electronic * self._factor("keV/micron")

    @property
    def nuclear_keV_um(self) -> np.ndarray:
        """Nuclear stopping power at the file's density, keV/µm, shape (n,)."""
        return self.nuclear * self._factor("keV/micron")

    def _interp(self, values: np.ndarray, energy_keV: np.ndarray) -> np.ndarray:
        ln_e, ln_v = np.log(self.energy_keV), np.log(np.maximum(values, 1e-300))
        x = np.log(np.maximum(energy_keV, 1e-12))
        out = np.interp(x, ln_e, ln_v)
        hi = x > ln_e[-1]
        if np.any(hi):  # continue the last log-log slope
            slope = (ln_v[-1] - ln_v[-2]) / (ln_e[-1] - ln_e[-2])
            out = np.where(hi, ln_v[-1] + slope * (x - ln_e[-1]), out)
        out = np.exp(out)
        lo = energy_keV < self.energy_keV[0]
        # Below the table, electronic stopping goes with velocity.
        return np.where(lo, out * np.sqrt(np.maximum(energy_keV, 0) / self.energy_keV[0]), out)

    def cross_sections(self, particle, energy_keV) -> tuple[np.ndarray, np.ndarray | None]:
        """ε for ``particle`` at ``energy_keV``: electronic, and nuclear if the ion matches.

        The electronic part is taken at the same velocity (a proton table serves the triton);
        nuclear stopping depends on the mass, so it is used only when the file's ion has the
        particle's mass (within 0.1 u), else ``None``.
        """

        p = get_particle(particle)
        if self.ion_z != p.z:
            raise MaterialError(
                f"SRIM table {self.source}: ion Z = {self.ion_z} cannot stand for the {p.name} "
                f"(Z = {p.z})"
            )
        e = np.asarray(energy_keV, dtype=float)
        elec = self._interp(self.electronic_eV_1e15, e * self.ion_mass_u / p.mass_u)
        nuc = None
        if abs(self.ion_mass_u - p.mass_u) < 0.1:
            nuc = self._interp(self.nuclear_eV_1e15, e)
        return elec, nuc


def read_srim(path: str | os.PathLike) -> SrimTable:
    """Read a SRIM / SR Module stopping table.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    SrimTable

    Raises
    ------
    FileFormatError
        Naming the file and line when the file is not such a table.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FileFormatError(path, f"cannot read the file ({exc.strerror})") from None
    text = raw.decode("latin-1")
    lines = text.splitlines()
    if not lines or not any("stopping" in ln.lower() or "dE/dx" in ln for ln in lines[:60]):
        raise FileFormatError(path, "not a SRIM stopping/range table (no stopping header)", 1)

    ion_z = ion_mass = density = atoms_cm3 = None
    units = None
    gas = False
    composition: dict[str, float] = {}
    rows: list[tuple] = []
    factors: dict[str, float] = {}
    in_comp = False
    state = "header"
    for lineno, line in enumerate(lines, start=1):
        s = line.strip()
        low = s.lower()
        if state == "header":
            m = re.search(rf"Ion\s*=\s*\S+\s*\[\s*(\d+)\s*\]\s*,\s*Mass\s*=\s*({_NUM})", s)
            if m:
                ion_z, ion_mass = int(m.group(1)), _num(m.group(2))
            m = re.search(rf"Density\s*=\s*({_NUM})\s*g/cm3\s*=\s*({_NUM})\s*atoms/cm3", s)
            if m:
                density, atoms_cm3 = _num(m.group(1)), _num(m.group(2))
            if "target is a gas" in low:
                gas = True
            m = re.search(r"Stopping\s+Units\s*=\s*(.+)$", s, re.IGNORECASE)
            if m:
                units = m.group(1).strip()
            if re.match(r"^-+\s+-+", s) and rows == [] and ion_z is not None and units:
                state = "table"
            if low.startswith("----") and "atom" in low:
                in_comp = False
            if in_comp and s and not s.startswith("=") and not s.startswith("-"):
                parts = s.split()
                if len(parts) >= 3 and parts[0].isalpha():
                    try:
                        composition[parts[0]] = _num(parts[2])
                    except ValueError:
                        raise FileFormatError(
                            path, f"unreadable target composition row {s!r}", lineno
                        ) from None
            if low.startswith("name") and "numb" in low:
                in_comp = True
            elif s.startswith("=") and in_comp and composition:
                in_comp = False
            continue
        if state == "table":
            if s.startswith("-----"):
                state = "footer"
                continue
            if not s:
                continue
            m = _ROW.match(s)
            if not m:
                raise FileFormatError(
                    path,
                    f"expected a table row 'energy unit dE/dx_elec dE/dx_nucl range unit "
                    f"straggling unit straggling unit', got {s[:60]!r}",
                    lineno,
                )
            g = m.groups()
            rows.append(
                (
                    _num(g[0]) * _ENERGY_UNITS[g[1].lower()],
                    _num(g[2]),
                    _num(g[3]),
                    _num(g[4]) * _LENGTH_UNITS[g[5].lower()],
                    _num(g[6]) * _LENGTH_UNITS[g[7].lower()],
                    _num(g[8]) * _LENGTH_UNITS[g[9].lower()],
                )
            )
            continue
        # footer: "  3.2099E+01     eV/Angstrom"
        m = re.match(rf"^({_NUM})\s+(\S.*)$", s)
        if m:
            factors[_unit_key(m.group(2))] = _num(m.group(1))

    if ion_z is None:
        raise FileFormatError(path, "no 'Ion = <name> [Z] , Mass = <u> amu' line in the header")
    if density is None:
        raise FileFormatError(path, "no 'Density = ... g/cm3 = ... atoms/cm3' line in the header")
    if units is None:
        raise FileFormatError(path, "no 'Stopping Units = ...' line in the header")
    if not rows:
        raise FileFormatError(path, "no rows in the stopping table", len(lines))
    if "ev/(1e15atoms/cm2)" not in factors or "kev/micron" not in factors:
        raise FileFormatError(
            path,
            "no 'Multiply Stopping by' block with eV/(1E15 atoms/cm2) and keV/micron factors",
            len(lines),
        )
    data = np.array(rows)
    if np.any(np.diff(data[:, 0]) <= 0):
        bad = int(np.argmax(np.diff(data[:, 0]) <= 0)) + 1
        raise FileFormatError(path, f"energies must increase (table row {bad + 1})")
    total = sum(composition.values()) or 1.0
    return SrimTable(
        source=str(path),
        digest=hashlib.sha256(raw).hexdigest(),
        ion_z=ion_z,
        ion_mass_u=ion_mass,
        density_g_cm3=density,
        atoms_cm3=atoms_cm3,
        composition={k: v / total for k, v in composition.items()},
        gas=gas,
        stopping_units=units,
        energy_keV=data[:, 0],
        electronic=data[:, 1],
        nuclear=data[:, 2],
        range_um=data[:, 3],
        longitudinal_straggling_um=data[:, 4],
        lateral_straggling_um=data[:, 5],
        factors=factors,
    )


# --------------------------------------------------------------------------------------------
def particle_of(table: SrimTable) -> str:
    """Which NDP particle a table can serve: ``"alpha"`` (He ions) or ``"triton"`` (H ions)."""
    if table.ion_z == 2:
        return "alpha"
    if table.ion_z == 1:
        return "triton"
    raise MaterialError(
        f"SRIM table {table.source}: ion Z = {table.ion_z}; NDP needs He (alpha) or H (triton) ions"
    )
