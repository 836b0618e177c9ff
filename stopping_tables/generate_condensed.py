"""Fit the condensed-phase factors of H, C, N, O and F (``condensed_phase.tsv``).

Usage (from the repository root, after ``generate.py``)::

    python stopping_tables/generate_condensed.py --reference ../shared/reference

ndp's element columns for H, N, O (and F, an ICRU 49 fit of the gas) describe free molecules.
Bound in a solid they stop ions less: the valence electrons are shared and the excitation
spectrum moves up (ICRU Report 49, §3.2 on phase and chemical effects; Ziegler and Manoyan, Nucl.
Instrum. Methods B 35 (1988) 215). ICRU 49 and NIST ASTAR/PSTAR take this into account in their
compound tables, but publish no condensed-phase element curves. This script infers them from
those compound tables: for each projectile (⁴He, proton) and each of H, C, N, O, F it fits a
factor f_Z(v) ≤ or ≥ 1, smooth in the projectile velocity (linear in ln(E/A) between knots,
constant outside), such that Bragg's rule with ε_Z·f_Z reproduces NIST's condensed compounds
(every NIST compound of ``nist_materials.csv`` except dry air, a gas; graphite and amorphous
carbon are elements) in the least-squares sense of ln S, over the energies where NDP's depth
scale lives. Other elements keep factor 1.

The script also reports a leave-one-out check (each compound predicted by factors fitted without
it) in the table's header, as the honest estimate for a compound NIST does not tabulate.
The fit is deterministic; the table in git is its output.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import periodictable
from scipy.optimize import least_squares

HERE = Path(__file__).resolve().parent

EPS_TO_MASS = 602.2141
PROJECTILE_MASS_U = {"alpha": 4.001506, "proton": 1.007276}
ELEMENTS = ("H", "C", "N", "O", "F")
KNOTS_KEV_U = (25.0, 50.0, 100.0, 200.0, 350.0, 600.0, 1000.0)
# Fitted energies (whole projectile, keV): α below its 2055 keV birth energy, protons up to the
# velocity of the 2727 keV triton (910 keV); the low ends keep the factors tame where the
# particles end their paths.
FIT_RANGE_KEV = {"alpha": (500.0, 2100.0), "proton": (150.0, 1000.0)}
# Penalties on ln f: its step between knots (smooth factors, flat where no compound constrains
# them) and its size (a factor only one compound sees, N in Kapton, stays near 1 rather than
# absorbing that compound's scatter).
SMOOTHING = 0.3
PRIOR = 0.1
EXCLUDED = {"AIR DRY (NEAR SEA LEVEL)"}


def _element_columns(projectile: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    lines = [
        ln
        for ln in (HERE / f"electronic_{projectile}.tsv").read_text().splitlines()
        if ln and not ln.startswith("#")
    ]
    header = lines[0].split("\t")
    data = np.array([ln.split("\t") for ln in lines[1:]], dtype=float)
    return data[:, 0], {h: data[:, i] for i, h in enumerate(header[1:], start=1)}


def _compounds(reference: Path, projectile: str):
    """[(name, energy_keV, S_nist, {symbol: mass-stopping part by Bragg})] in the fit range."""
    grid, cols = _element_columns(projectile)
    lo, hi = FIT_RANGE_KEV[projectile]
    with open(reference / "nist_materials.csv", newline="") as fh:
        # NIST numbers its compounds above 100; 906 is GRAPHITE, an element.
        materials = [r for r in csv.DictReader(fh) if 100 < int(r["nist_id"]) != 906]
    with open(reference / "astar_pstar_electronic.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["projectile"] == projectile]
    out = []
    for m in materials:
        if m["material"] in EXCLUDED:
            continue
        pts = [
            (float(r["energy_keV"]), float(r["S_electronic_MeV_cm2_per_g"]))
            for r in rows
            if r["material"] == m["material"] and lo <= float(r["energy_keV"]) <= hi
        ]
        e, s = np.array(pts).T
        parts = {}
        for pair in m["composition_Z_massfraction"].split(";"):
            z, w = pair.split(":")
            el = periodictable.elements[int(z)]
            eps = np.exp(np.interp(np.log(e), np.log(grid), np.log(cols[el.symbol])))
            parts[el.symbol] = float(w) * eps * EPS_TO_MASS / el.mass
        out.append((m["material"], e, s, parts))
    return out


def _factors(params: np.ndarray, ln_v: np.ndarray) -> dict[str, np.ndarray]:
    k = len(KNOTS_KEV_U)
    ln_knots = np.log(KNOTS_KEV_U)
    return {
        sym: np.exp(np.interp(ln_v, ln_knots, params[i * k : (i + 1) * k]))
        for i, sym in enumerate(ELEMENTS)
    }


def _model(params, projectile, e, parts):
    f = _factors(params, np.log(e / PROJECTILE_MASS_U[projectile]))
    return sum(f.get(sym, 1.0) * part for sym, part in parts.items())


def _fit(data, projectile, skip=None) -> np.ndarray:
    k = len(KNOTS_KEV_U)

    def residuals(params):
        r = [np.log(_model(params, projectile, e, p) / s) for n, e, s, p in data if n != skip]
        r.append(SMOOTHING * np.diff(params.reshape(len(ELEMENTS), k), axis=1).ravel())
        r.append(PRIOR * params)
        return np.concatenate(r)

    return least_squares(residuals, np.zeros(len(ELEMENTS) * k)).x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--reference", type=Path, default=HERE.parent.parent / "shared" / "reference"
    )
    args = parser.parse_args()
    k = len(KNOTS_KEV_U)
    columns, report = {}, []
    for projectile in ("alpha", "proton"):
        data = _compounds(args.reference, projectile)
        params = _fit(data, projectile)
        for i, sym in enumerate(ELEMENTS):
            columns[f"{projectile}_{sym}"] = np.exp(params[i * k : (i + 1) * k])
        for name, e, s, parts in data:
            inside = np.abs(_model(params, projectile, e, parts) / s - 1).max()
            loo = np.abs(_model(_fit(data, projectile, skip=name), projectile, e, parts) / s - 1)
            report.append(
                f"# {projectile:6s} {name[:40]:40s} fit {100 * inside:4.1f} %  "
                f"left out {100 * loo.max():4.1f} %"
            )
    lo_a, hi_a = FIT_RANGE_KEV["alpha"]
    lo_p, hi_p = FIT_RANGE_KEV["proton"]
    header = [
        "# Condensed-phase factors f_Z(v) for Bragg's rule: eps_Z(condensed) = f_Z * eps_Z(table).",
        "# Written by stopping_tables/generate_condensed.py from NIST ASTAR/PSTAR compound tables",
        "# (../shared/reference/astar_pstar_electronic.csv, nist_materials.csv); see README.md.",
        "# keV_per_u: projectile energy per u (E / 4.001506 u for alpha, E / 1.007276 u for the",
        "# proton table); linear in ln(keV_per_u) between rows, constant outside.",
        f"# Fitted: alpha {lo_a:g}-{hi_a:g} keV, proton {lo_p:g}-{hi_p:g} keV; "
        f"penalties: step {SMOOTHING}, size {PRIOR}.",
        "# Largest |Bragg-corrected / NIST - 1| over the fitted energies, with the compound in",
        "# the fit and left out of it:",
        *report,
    ]
    names = list(columns)
    lines = ["\t".join(["keV_per_u", *names])]
    for j, v in enumerate(KNOTS_KEV_U):
        lines.append("\t".join([f"{v:g}", *(f"{columns[n][j]:.5f}" for n in names)]))
    (HERE / "condensed_phase.tsv").write_text("\n".join(header + lines) + "\n")
    print("\n".join(report))


if __name__ == "__main__":
    main()
