"""Compound stopping: the condensed-phase correction against references that share no code with ndp.

References, each cited where it is used:
- NIST ASTAR/PSTAR compound tables (``../shared/reference/astar_pstar_electronic.csv``), computed
  here through ndp's generic compound path from the composition only, never read from NIST's
  table for the same compound;
- a TRIM calculation quoted in issue 11: ⁴He losing 228.5 keV in 400 nm of Cr₂O₃ (5.22 g/cm³);
- CATIMA (pycatima, A. Prochazka, GSI), independent code: Bragg's rule over Ziegler's SRIM-95
  elemental parametrisation for solids at the α's velocities (``low_energy_types.srim_95``).

The energies are those that set NDP's depth scale: the α from its 2055 keV birth energy down to
1 MeV, the triton from 2727 keV down to 1.5 MeV (protons of 0.5–0.91 MeV at the same velocity).
"""

from __future__ import annotations

import csv
import pickle

import numpy as np
import pytest

from ndp import Material
from ndp.errors import MaterialError
from ndp.physics.constants import PROTON_MASS_U, TRITON_MASS_U
from ndp.physics.stopping import EPS_TO_MASS, bragg_cross_section, condensed_phase_factor

T_OVER_P = TRITON_MASS_U / PROTON_MASS_U
# (projectile in NIST's file, ndp particle, lowest and highest NIST energy in keV, energy factor)
WINDOWS = {
    "alpha": ("alpha", "alpha", 1000.0, 2100.0, 1.0),
    "triton": ("proton", "triton", 500.0, 910.0, T_OVER_P),
}

# Where the corrected Bragg sum misses NIST by more than 2 % in the window: measured largest
# deviation, %. NIST's compound tables are not one model below ~2 MeV (α) / ~0.5 MeV (p): many
# are fits to each compound's own measurements, and the same CH2 composition is 4.5 % apart in
# NIST's polyethylene and polypropylene at 1 MeV α, so no composition-only rule meets 2 % for
# all of them. These rows are strict xfails (a fix shows) and stay pinned within 6 %.
KNOWN_MISSES = {
    ("alpha", "ALUMINUM OXIDE"): 2.8,
    ("alpha", "LITHIUM FLUORIDE"): -3.7,
    ("alpha", "LITHIUM TETRABORATE"): -5.6,
    ("alpha", "POLYETHYLENE"): -2.6,
    ("alpha", "POLYTETRAFLUOROETHYLENE (TEFLON)"): 5.4,
    ("alpha", "SILICON DIOXIDE"): 4.2,
    ("triton", "ALUMINUM OXIDE"): 2.4,
}

# Every compound of nist_materials.csv (graphite and amorphous carbon are elements), short ids.
NIST_IDS = {
    "AIR DRY (NEAR SEA LEVEL)": "air", "ALUMINUM OXIDE": "Al2O3",
    "GLASS BOROSILICATE (PYREX)": "pyrex", "KAPTON POLYIMIDE FILM": "Kapton",
    "LITHIUM FLUORIDE": "LiF", "LITHIUM TETRABORATE": "Li2B4O7", "POLYETHYLENE": "PE",
    "POLYETHYLENE TEREPHTHALATE (MYLAR)": "Mylar",
    "POLYMETHYL METHACRYLATE (PMMA LUCITE PERSPEX)": "PMMA", "POLYPROPYLENE": "PP",
    "POLYTETRAFLUOROETHYLENE (TEFLON)": "PTFE", "SILICON DIOXIDE": "SiO2", "WATER LIQUID": "water",
}  # fmt: skip
NIST_COMPOUNDS = list(NIST_IDS)


def _nist_rows(ref, projectile, material, lo, hi):
    with open(ref / "astar_pstar_electronic.csv", newline="") as fh:
        rows = [
            (float(r["energy_keV"]), float(r["S_electronic_MeV_cm2_per_g"]))
            for r in csv.DictReader(fh)
            if r["projectile"] == projectile and r["material"] == material
        ]
    return np.array([r for r in rows if lo <= r[0] <= hi]).T


def _generic_material(ref, nist_name, stopping="auto") -> Material:
    """The NIST compound as a plain formula (from its mass fractions), so no NIST table is used."""
    import periodictable

    with open(ref / "nist_materials.csv", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["material"] == nist_name)
    atoms = {}
    for pair in row["composition_Z_massfraction"].split(";"):
        z, w = pair.split(":")
        el = periodictable.elements[int(z)]
        atoms[el.symbol] = float(w) / el.mass
    scale = 1000.0 / max(atoms.values())
    formula = "".join(f"{sym}{n * scale:.6f}" for sym, n in atoms.items())
    m = Material(formula, density=float(row["density_g_cm3"]), stopping=stopping)
    assert m.table is None
    return m


def _deviation(ref, nist_name, window, stopping="auto") -> np.ndarray:
    projectile, particle, lo, hi, scale = WINDOWS[window]
    e, s_nist = _nist_rows(ref, projectile, nist_name, lo, hi)
    m = _generic_material(ref, nist_name, stopping)
    elec, _ = m.cross_sections(particle, e * scale)
    return elec * EPS_TO_MASS / m.mean_atomic_mass_u / s_nist - 1


def _cases():
    for window in WINDOWS:
        for name in NIST_COMPOUNDS:
            miss = KNOWN_MISSES.get((window, name))
            marks = (
                [
                    pytest.mark.xfail(
                        strict=True, reason=f"measured {miss:+.1f} % (see KNOWN_MISSES)"
                    )
                ]
                if miss is not None
                else []
            )
            yield pytest.param(window, name, marks=marks, id=f"{window}-{NIST_IDS[name]}")


@pytest.mark.parametrize(("window", "nist_name"), list(_cases()))
def test_nist_compound_within_2_percent_by_the_generic_path(shared_reference, window, nist_name):
    """NIST ASTAR/PSTAR (SRD 124) compound tables vs ndp's default for a plain formula."""
    dev = _deviation(shared_reference, nist_name, window)
    assert np.abs(dev).max() < 0.02, f"{100 * dev[np.argmax(np.abs(dev))]:+.1f} %"


@pytest.mark.parametrize("window", list(WINDOWS))
@pytest.mark.parametrize("nist_name", NIST_COMPOUNDS, ids=list(NIST_IDS.values()))
def test_no_nist_compound_is_off_by_more_than_6_percent(shared_reference, window, nist_name):
    assert np.abs(_deviation(shared_reference, nist_name, window)).max() < 0.06


@pytest.mark.parametrize("window", list(WINDOWS))
def test_correction_beats_plain_bragg_on_nist_compounds(shared_reference, window):
    """Over the NIST compounds, the correction at least halves plain Bragg's rms deviation."""
    rms = {}
    for method in ("corrected", "bragg"):
        dev = np.concatenate(
            [_deviation(shared_reference, n, window, method) for n in NIST_COMPOUNDS]
        )
        rms[method] = float(np.sqrt(np.mean(dev**2)))
    assert rms["corrected"] < 0.5 * rms["bragg"], rms


# ⁴He in Cr₂O₃: TRIM calculation quoted in issue 11 (228.5 keV lost in 400 nm at 5.22 g/cm³; ndp
# with plain Bragg gave 239.4 keV). The α is ¹⁰B(n,α)'s 1472 keV line: plain Bragg reproduces
# the 239.4 keV there, which identifies the energy.
CR2O3_TRIM_LOSS_KEV = 228.5


def test_alpha_loss_in_400_nm_cr2o3_within_3_percent_of_trim():
    cr2o3 = Material("Cr2O3", density=5.22)
    assert cr2o3.stopping_method == "corrected"
    loss = 1472.0 - float(cr2o3.curve("alpha").energy_after(1472.0, 0.4))
    assert loss == pytest.approx(CR2O3_TRIM_LOSS_KEV, rel=0.03)
    bragg = Material("Cr2O3", density=5.22, stopping="bragg")
    old = 1472.0 - float(bragg.curve("alpha").energy_after(1472.0, 0.4))
    assert old == pytest.approx(239.4, abs=0.2)  # the number: the test can fail
    assert abs(loss / CR2O3_TRIM_LOSS_KEV - 1) < 0.5 * abs(old / CR2O3_TRIM_LOSS_KEV - 1)


# Battery compounds NIST does not tabulate, against CATIMA for the α at 1–2.055 MeV (0.25–0.51
# MeV/u). There CATIMA's electronic stopping is Ziegler's SRIM-95 parametrisation of each element
# in the solid (J.F. Ziegler, J.P. Biersack, U. Littmark, The Stopping and Range of Ions in
# Solids, 1985, as updated for SRIM-95) combined by Bragg's rule: condensed-phase elements, no
# bond correction, and none of ndp's tables. Tritons are not compared: at 0.5–0.9 MeV/u CATIMA
# is 2–6 % above NIST's own tables for water, SiO2, Al2O3 and LiF, as large as the effect tested.
BATTERY = ["LiPON", "LLZO", "PEO", "Li2CO3", "Li2O"]
ALPHA_ENERGIES_KEV = (1000.0, 1250.0, 1500.0, 1750.0, 2055.0)


def _catima_alpha_mass_stopping(material: Material, energies_keV) -> np.ndarray:
    pycatima = pytest.importorskip("pycatima")
    import periodictable

    cfg = pycatima.Config()
    cfg.low_energy = pycatima.low_energy_types.srim_95
    # Atom counts ≥ 1 (CATIMA reads counts below 1 as mass fractions).
    k = 10.0 / min(material.atoms.values())
    target = pycatima.Material(
        [
            [periodictable.elements.symbol(s).mass, periodictable.elements.symbol(s).number, n * k]
            for s, n in material.atoms.items()
        ],
        density=material.density_g_cm3,
    )
    alpha = pycatima.Projectile(4.001506, 2)
    out = []
    for e in energies_keV:
        alpha.T(e / 1000.0 / 4.001506)  # MeV/u
        out.append(pycatima.sezi_dedx_e(alpha, target, cfg))  # MeV cm²/g, electronic
    return np.array(out)


@pytest.mark.parametrize("name", BATTERY)
def test_battery_compounds_within_3_percent_of_catima_for_the_alpha(name):
    m = Material(name)
    assert m.stopping_method == "corrected"
    e = np.array(ALPHA_ENERGIES_KEV)
    elec, _ = m.cross_sections("alpha", e)
    ndp_mass = elec * EPS_TO_MASS / m.mean_atomic_mass_u
    np.testing.assert_allclose(ndp_mass, _catima_alpha_mass_stopping(m, e), rtol=0.03)


def test_plain_bragg_misses_catima_for_oxides_the_correction_fixes():
    """The CATIMA test can fail: plain Bragg is > 4 % high at 1 MeV for these."""
    e = np.array([1000.0])
    for name in ("LLZO", "PEO", "Li2CO3", "Li2O"):
        m = Material(name, stopping="bragg")
        elec, _ = m.cross_sections("alpha", e)
        ratio = elec * EPS_TO_MASS / m.mean_atomic_mass_u / _catima_alpha_mass_stopping(m, e)
        assert ratio[0] > 1.04, (name, ratio)


# -- the switch --------------------------------------------------------------------------


def test_bragg_switch_gives_the_plain_sum_back():
    m = Material("Li7La3Zr2O12", density=5.1, stopping="bragg")
    e = np.geomspace(100, 2700, 9)
    for particle in ("alpha", "triton"):
        expected = bragg_cross_section(m.atom_fractions, particle, e)
        np.testing.assert_array_equal(m.cross_sections(particle, e)[0], expected[0])
    corrected = Material("Li7La3Zr2O12", density=5.1)
    assert np.all(corrected.cross_sections("alpha", e)[0] < m.cross_sections("alpha", e)[0])


def test_methods_for_named_elements_gases_and_mixtures():
    assert Material("Kapton").stopping_method == "nist"
    assert Material("Kapton", stopping="corrected").stopping_method == "corrected"
    assert Material("Kapton", stopping="bragg").table is None
    # One element is its own table; a gas keeps the gas-phase element tables; no light element,
    # nothing to correct.
    assert Material("C", stopping="corrected").stopping_method == "bragg"
    assert Material("N2O", density=1.98e-3).stopping_method == "bragg"
    assert Material("Li3PS4").stopping_method == "bragg"
    hse = Material.mix([("PEO", 0.7), ("LiTFSI", 0.3)])
    assert hse.stopping_method == "corrected"
    assert (
        Material.mix([("PEO", 0.7), ("LiTFSI", 0.3)], stopping="bragg").stopping_method == "bragg"
    )
    assert "condensed-phase" in Material("LLZO").stopping_source("triton")
    assert "stopping='bragg'" in Material("LLZO", stopping="bragg").stopping_source("alpha")


def test_graphite_is_unchanged_by_the_correction():
    e = np.geomspace(50, 2700, 7)
    np.testing.assert_array_equal(
        Material("C", stopping="corrected").cross_sections("alpha", e)[0],
        Material("C").cross_sections("alpha", e)[0],
    )


def test_factor_is_one_for_other_elements_and_bounded_for_light_ones():
    e = np.geomspace(1, 4000, 30)
    np.testing.assert_array_equal(condensed_phase_factor("Cu", "alpha", e), 1.0)
    for sym in ("H", "C", "N", "O", "F"):
        for proj in ("alpha", "proton"):
            f = condensed_phase_factor(sym, proj, e)
            assert np.all((f > 0.75) & (f < 1.25)), (sym, proj, f.min(), f.max())


def test_repr_pickle_and_identity_keep_the_method():
    m = Material("LLZO", stopping="bragg")
    assert repr(m) == "Material('LLZO', stopping='bragg')"
    assert eval(repr(m)) == m
    assert pickle.loads(pickle.dumps(m)) == m
    assert m != Material("LLZO")
    assert m.with_density(4.9).stopping_method == "bragg"
    mix = Material.mix([("PEO", 0.5), ("LiTFSI", 0.5)], stopping="bragg")
    assert eval(repr(mix), {"Material": Material}) == mix


def test_unknown_method_is_one_line():
    with pytest.raises(MaterialError, match=r"^stopping: expected one of auto, corrected, bragg"):
        Material("LLZO", stopping="srim")


def test_cli_names_the_method():
    from typer.testing import CliRunner

    from ndp.cli.main import app

    runner = CliRunner()
    r = runner.invoke(app, ["stopping", "LLZO", "-e", "2055"])
    assert r.exit_code == 0, r.output
    assert "# stopping method: corrected" in r.stdout
    r = runner.invoke(app, ["stopping", "SiO2", "--method", "bragg", "-e", "2055"])
    assert r.exit_code == 0, r.output
    assert "# stopping method: bragg" in r.stdout
    r = runner.invoke(app, ["stopping", "Kapton", "-e", "2055"])
    assert "# stopping method: nist" in r.stdout
    r = runner.invoke(app, ["stopping", "LLZO", "--method", "exact"])
    assert r.exit_code == 2 and "stopping: expected one of" in r.output
