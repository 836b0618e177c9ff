"""Write SRIM-style stopping tables (as SRIM / SR Module prints them) for tests."""

from __future__ import annotations

import numpy as np

from ndp import Material
from ndp.physics.stopping import EPS_TO_MASS


def _energy(e_kev: float) -> str:
    if e_kev < 1:
        return f"{e_kev * 1000:7.2f} eV "
    if e_kev < 1000:
        return f"{e_kev:7.2f} keV"
    if e_kev < 1e6:
        return f"{e_kev / 1000:7.2f} MeV"
    return f"{e_kev / 1e6:7.2f} GeV"


def _length(um: float) -> str:
    if um < 0.1:
        return f"{um * 1e4:6.0f} A "
    if um < 1000:
        return f"{um:6.2f} um"
    return f"{um / 1000:6.2f} mm"


def srim_text(material: Material, particle: str = "alpha", *, comma: bool = False,
              crlf: bool = False, gas: bool = False, energies=None, units_spaced: bool = True) -> str:  # fmt: skip
    """A SRIM-like table of ``material`` computed by ndp itself (so the truth is known)."""
    ion = {"alpha": ("Helium", 2, 4.003), "triton": ("Hydrogen", 1, 1.008)}[particle]
    e = np.asarray(energies if energies is not None else np.geomspace(0.5, 8000, 60))
    # A hydrogen table is a proton table: ndp's triton at the same velocity.
    scale = 3.0155 / 1.007276 if particle == "triton" else 1.0
    elec, nuc = material.cross_sections(particle, e * scale)
    if particle == "triton":  # nuclear depends on mass; a proton's is not the triton's
        nuc = nuc / 3.0
    per_mg = EPS_TO_MASS / material.mean_atomic_mass_u / 1000.0  # eps -> MeV/(mg/cm2)
    curve = material.curve(particle)
    rng = curve.range(e * scale) / scale
    rho = material.density_g_cm3
    comp = material.atom_fractions
    lines = [
        " ==================================================================",
        "              Calculation using SRIM-2006 ",
        "              SRIM version ---> SRIM-2013.00",
        " ==================================================================",
        "",
        " Disk File Name = SRIM Outputs\\test.txt",
        "",
        f" Ion = {ion[0]}        [{ion[1]}] , Mass = {ion[2]:.3f} amu",
        "",
        f" Density =  {rho:.4E} g/cm3 = {material.atoms_cm3:.4E} atoms/cm3",
        " ======= Target  Composition ========",
        "    Atom   Atom   Atomic    Mass     ",
        "    Name   Numb   Percent   Percent  ",
        "    ----   ----   -------   -------  ",
    ]
    for sym, x in comp.items():
        lines.append(f"     {sym:>2s}     {1:2d}    {100 * x:06.2f}    {100 * x:06.2f}   ")
    lines += [" ====================================", " Bragg Correction = 0.00%"]
    if gas:
        lines.append(" Target is a GAS ")
    units = "MeV / (mg/cm2)" if units_spaced else "MeV/(mg/cm2)"
    lines += [
        f" Stopping Units =  {units} ",
        " See bottom of Table for other Stopping units ",
        "",
        "   Ion        dE/dx      dE/dx     Projected  Longitudinal   Lateral",
        "  Energy      Elec.      Nuclear     Range     Straggling   Straggling",
        "-----------  ---------- ---------- ----------  ----------  ----------",
    ]
    for ei, se, sn, r in zip(e, elec * per_mg, nuc * per_mg, rng, strict=True):
        lines.append(
            f"{_energy(ei)}   {se:.3E}  {sn:.3E}   {_length(r)}   {_length(r / 20)}   {_length(r / 30)}"
        )
    lines += [
        "-----------------------------------------------------------",
        " Multiply Stopping by        for Stopping Units",
        " -------------------        ------------------",
        f"  {rho * 100:.4E}                eV / Angstrom ",
        f"  {rho * 1000:.4E}                keV / micron   ",
        f"  {rho * 1000:.4E}                MeV / mm       ",
        "  1.0000E+00                keV / (ug/cm2) ",
        "  1.0000E+00                MeV / (mg/cm2) ",
        "  1.0000E+03                keV / (mg/cm2) ",
        f"  {1 / per_mg:.4E}                 eV / (1E15 atoms/cm2)",
        "  1.0000E+00                L.S.S. reduced units",
        " ==================================================================",
        " (C) 1984,1989,1992,1998,2008 by J.P. Biersack and J.F. Ziegler",
    ]
    text = "\n".join(lines) + "\n"
    if comma:
        import re

        text = re.sub(r"(\d)\.(\d)", r"\1,\2", text)
    if crlf:
        text = text.replace("\n", "\r\n")
    return text
