"""Regenerate the stopping tables shipped with ``ndp`` from the reference data.

Usage (from the repository root)::

    python stopping_tables/generate.py --reference ../shared/reference

The reference folder holds NIST ASTAR/PSTAR electronic mass stopping powers, the NIST material
compositions, the ICRU Report 49 fit coefficients and the ICRU 49 reduced nuclear stopping (see
``README.md`` beside this file). The tables written here are plain tab-separated text on one
logarithmic energy grid, 1 keV to 4 MeV, so that ``ndp.physics.stopping`` can look values up by index.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np
import periodictable
from scipy.interpolate import CubicSpline

HERE = Path(__file__).resolve().parent

E_MIN_KEV = 1.0
E_MAX_KEV = 4000.0
POINTS_PER_DECADE = 50

# 602.2141 = 1e-21 MeV cm^2 per (eV / 1e15 atoms/cm^2) times Avogadro's number.
EPS_TO_MASS = 602.2141
PROTON_MASS_U = 1.007276
# Nuclear masses, as used for the reference ranges (../shared/reference/ranges.csv).
ALPHA_MASS_U = 4.001506
TRITON_MASS_U = 3.01550

# NIST element tables used for the element columns. Carbon takes GRAPHITE (the solid carbon of
# electrodes and the one the ICRU 49 He fit reproduces); CARBON AMORPHOUS stays available as a
# compound table.
NIST_ELEMENTS = {
    "HYDROGEN": "H",
    "HELIUM": "He",
    "BERYLLIUM": "Be",
    "GRAPHITE": "C",
    "NITROGEN": "N",
    "OXYGEN": "O",
    "ALUMINUM": "Al",
    "SILICON": "Si",
    "TITANIUM": "Ti",
    "IRON": "Fe",
    "COPPER": "Cu",
    "GERMANIUM": "Ge",
    "SILVER": "Ag",
    "TIN": "Sn",
    "TUNGSTEN": "W",
    "PLATINUM": "Pt",
    "GOLD": "Au",
    "LEAD": "Pb",
}

# NIST compound tables shipped as compounds, keyed by the short name ndp's materials use.
NIST_COMPOUNDS = {
    "AIR DRY (NEAR SEA LEVEL)": "air",
    "ALUMINUM OXIDE": "Al2O3",
    "GLASS BOROSILICATE (PYREX)": "pyrex",
    "KAPTON POLYIMIDE FILM": "kapton",
    "LITHIUM FLUORIDE": "LiF",
    "LITHIUM TETRABORATE": "Li2B4O7",
    "POLYETHYLENE": "polyethylene",
    "POLYETHYLENE TEREPHTHALATE (MYLAR)": "mylar",
    "POLYMETHYL METHACRYLATE (PMMA LUCITE PERSPEX)": "pmma",
    "POLYPROPYLENE": "polypropylene",
    "POLYTETRAFLUOROETHYLENE (TEFLON)": "ptfe",
    "SILICON DIOXIDE": "SiO2",
    "WATER LIQUID": "water",
    "CARBON AMORPHOUS": "carbon_amorphous",
}


def energy_grid() -> np.ndarray:
    n = round(math.log10(E_MAX_KEV / E_MIN_KEV) * POINTS_PER_DECADE) + 1
    return np.geomspace(E_MIN_KEV, E_MAX_KEV, n)


def icru49_he(coef: dict, e_kev: np.ndarray) -> np.ndarray:
    """ICRU 49 He electronic stopping cross section, eV/(1e15 atoms/cm2), E = whole-ion keV."""
    t = np.maximum(e_kev, 1.0) / 1000.0
    a1, a2, a3, a4, a5 = (coef[f"he_A{i}"] for i in range(1, 6))
    s_low = a1 * (1000.0 * t) ** a2
    s_high = (a3 / t) * np.log(1.0 + a4 / t + a5 * t)
    s = s_low * s_high / (s_low + s_high)
    return np.where(e_kev < 1.0, s * np.sqrt(e_kev / 1.0), s)


def icru49_p(coef: dict, e_kev: np.ndarray) -> np.ndarray:
    """ICRU 49 proton electronic stopping cross section, eV/(1e15 atoms/cm2)."""
    t = e_kev / PROTON_MASS_U
    a1, a2, a3, a4, a5 = (coef[f"p_A{i}"] for i in range(1, 6))
    tt = np.maximum(t, 10.0)
    s_low = a2 * tt**0.45
    s_high = (a3 / tt) * np.log(1.0 + a4 / tt + a5 * tt)
    s = s_low * s_high / (s_low + s_high)
    return np.where(t < 10.0, a1 * np.sqrt(t), s)


def nuclear(z1: int, m1: float, z2: int, m2: float, e_kev: np.ndarray, table) -> np.ndarray:
    """ICRU 49 nuclear stopping cross section, eV/(1e15 atoms/cm2)."""
    screen = z1**0.23 + z2**0.23
    eps = 32.536 * m2 * e_kev / (z1 * z2 * (m1 + m2) * screen)
    eps_tab, sn_tab = table
    sn = np.interp(eps, eps_tab, sn_tab)
    high = eps > eps_tab[-1]
    sn[high] = np.log(eps[high]) / (2.0 * eps[high])
    return sn * 8.462 * z1 * z2 * m1 / ((m1 + m2) * screen)


def read_nist(reference: Path) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    rows: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with open(reference / "astar_pstar_electronic.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            key = (row["projectile"], row["material"])
            rows.setdefault(key, []).append(
                (float(row["energy_keV"]), float(row["S_electronic_MeV_cm2_per_g"]))
            )
    return {k: tuple(np.array(c) for c in zip(*sorted(v), strict=True)) for k, v in rows.items()}


def nist_on_grid(e_nist: np.ndarray, s_nist: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """NIST table interpolated as a natural cubic spline of ln S against ln E."""
    spline = CubicSpline(np.log(e_nist), np.log(s_nist), bc_type="natural")
    return np.exp(spline(np.log(grid)))


def write_table(path: Path, title: list[str], columns: dict[str, np.ndarray], grid: np.ndarray):
    names = list(columns)
    lines = [f"# {t}" for t in title]
    lines.append("\t".join(["energy_keV", *names]))
    data = np.column_stack([grid, *(columns[n] for n in names)])
    lines += ["\t".join(f"{v:.6g}" for v in row) for row in data]
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reference", type=Path, default=HERE.parent.parent / "shared" / "reference"
    )
    parser.add_argument("--output", type=Path, default=HERE)
    args = parser.parse_args(argv)
    ref: Path = args.reference
    out: Path = args.output

    grid = energy_grid()
    nist = read_nist(ref)
    with open(ref / "icru49_coefficients.csv", newline="") as fh:
        coefs = [
            {k: (v if k == "symbol" else float(v) if v else None) for k, v in row.items()}
            for row in csv.DictReader(fh)
        ]
    eps_tab, sn_tab = np.loadtxt(ref / "icru49_nuclear_stopping.csv", delimiter=",", skiprows=1).T

    nist_element = {sym: name for name, sym in NIST_ELEMENTS.items()}
    electronic = {"alpha": {}, "proton": {}}
    sources = []
    for coef in coefs:
        sym = coef["symbol"]
        mass = periodictable.elements.symbol(sym).mass
        name = nist_element.get(sym)
        src = {}
        for particle, fit, nist_label in (
            ("alpha", icru49_he, "ASTAR"),
            ("proton", icru49_p, "PSTAR"),
        ):
            if name is not None:
                e_n, s_n = nist[(particle, name)]
                electronic[particle][sym] = nist_on_grid(e_n, s_n, grid) * mass / EPS_TO_MASS
                src[particle] = f"NIST {nist_label} {name}"
            else:
                electronic[particle][sym] = fit(coef, grid)
                src[particle] = f"ICRU49 {'He' if particle == 'alpha' else 'proton'} fit"
        sources.append((int(coef["Z"]), sym, src["alpha"], src["proton"]))

    nuc = {"alpha": {}, "triton": {}}
    for coef in coefs:
        sym = coef["symbol"]
        z2 = int(coef["Z"])
        m2 = periodictable.elements.symbol(sym).mass
        nuc["alpha"][sym] = nuclear(2, ALPHA_MASS_U, z2, m2, grid, (eps_tab, sn_tab))
        nuc["triton"][sym] = nuclear(1, TRITON_MASS_U, z2, m2, grid, (eps_tab, sn_tab))

    unit = "electronic stopping cross section, eV/(1e15 atoms/cm2)"
    write_table(
        out / "electronic_alpha.tsv",
        [f"4He ions: {unit}; energy = whole-ion kinetic energy.", "Sources: sources.tsv."],
        electronic["alpha"],
        grid,
    )
    write_table(
        out / "electronic_proton.tsv",
        [f"protons: {unit}. Tritons use these at the same velocity.", "Sources: sources.tsv."],
        electronic["proton"],
        grid,
    )
    for particle, m1 in (("alpha", ALPHA_MASS_U), ("triton", TRITON_MASS_U)):
        write_table(
            out / f"nuclear_{particle}.tsv",
            [
                f"{particle} (m1 = {m1} u): ICRU 49 nuclear stopping cross section, "
                "eV/(1e15 atoms/cm2).",
            ],
            nuc[particle],
            grid,
        )

    compounds = {"alpha": {}, "proton": {}}
    for name, key in NIST_COMPOUNDS.items():
        for particle in ("alpha", "proton"):
            e_n, s_n = nist[(particle, name)]
            compounds[particle][key] = nist_on_grid(e_n, s_n, grid)
    for particle, label in (("alpha", "ASTAR"), ("proton", "PSTAR")):
        write_table(
            out / f"compounds_{particle}.tsv",
            [f"NIST {label} compounds: electronic mass stopping power, MeV cm2/g."],
            compounds[particle],
            grid,
        )

    with open(ref / "nist_materials.csv", newline="") as fh:
        mats = {row["material"]: row for row in csv.DictReader(fh)}
    lines = ["key\tnist_name\tnist_id\tdensity_g_cm3\tcomposition_Z_massfraction"]
    for name, key in NIST_COMPOUNDS.items():
        m = mats[name]
        lines.append(
            f"{key}\t{name}\t{m['nist_id']}\t{m['density_g_cm3']}\t{m['composition_Z_massfraction']}"
        )
    (out / "compounds.tsv").write_text("\n".join(lines) + "\n")

    lines = ["Z\tsymbol\talpha_electronic\tproton_electronic"]
    lines += [f"{z}\t{s}\t{a}\t{p}" for z, s, a, p in sources]
    (out / "sources.tsv").write_text("\n".join(lines) + "\n")
    print(f"wrote tables for {len(sources)} elements and {len(NIST_COMPOUNDS)} compounds to {out}")


if __name__ == "__main__":
    main()
