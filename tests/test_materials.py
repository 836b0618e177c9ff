"""Materials: formulas, named materials, mixtures, densities, errors."""

from __future__ import annotations

import pickle

import pytest

from ndp import Material, named_materials
from ndp.errors import MaterialError
from ndp.physics.constants import LI_METAL_ATOMS_CM3


def test_li_metal_atom_density():
    li = Material("Li")
    assert li.density_g_cm3 == 0.534
    assert li.li_atoms_cm3 == pytest.approx(LI_METAL_ATOMS_CM3, rel=2e-3)
    assert li.li_density_rel == pytest.approx(1.0, rel=2e-3)
    assert Material("Li metal") == li


def test_llzo_li_density():
    llzo = Material("Li7La3Zr2O12", density=5.1)
    # 7 Li per 839.7 g/mol formula unit.
    expected = 5.1 / 839.73 * 6.02214076e23 * 7
    assert llzo.li_atoms_cm3 == pytest.approx(expected, rel=1e-4)
    assert Material("LLZO").li_atoms_cm3 == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("row", named_materials(), ids=lambda r: r[0])
def test_every_named_material_builds_and_stops(row):
    name, _formula, density, _ = row
    m = Material(name)
    assert m.density_g_cm3 == density
    assert m.atoms_cm3 > 0
    s_e, s_n = m.stopping("alpha", 1000.0)
    assert s_e > 0 and s_n > 0
    assert m.range_um("triton") > 0


def test_named_materials_of_the_issue_exist():
    for name in ["Li metal", "Cu", "Ni", "Al", "stainless steel", "ZnO", "Kapton", "Mylar", "PEO",
                 "LiTFSI", "succinonitrile", "LiPON", "LLZO", "LAGP", "Li6PS5Cl", "Li3PS4", "Si",
                 "graphite", "LiFePO4", "LiCoO2", "NMC811", "Li4Ti5O12", "SiO2", "Al2O3"]:  # fmt: skip
        assert Material(name).density_g_cm3 > 0


def test_element_symbols_win_over_names():
    assert Material("Sn").atoms == {"Sn": 1.0}  # tin, not succinonitrile
    assert Material("SN").atoms == {"C": 4.0, "H": 4.0, "N": 2.0}
    assert Material("Co").atoms == {"Co": 1.0}


def test_isotopes_fold_into_elements():
    m = Material("Li[6]F", density=2.5)
    assert m.atoms == {"Li": 1.0, "F": 1.0}


def test_mixture_by_weight_and_volume():
    peo, litfsi = Material("PEO"), Material("LiTFSI")
    by_w = Material.mix([(peo, 0.7), (litfsi, 0.3)], by="weight")
    assert by_w.density_g_cm3 == pytest.approx(1 / (0.7 / 1.21 + 0.3 / 1.33))
    by_v = Material.mix([(peo, 0.5), (litfsi, 0.5)], by="volume")
    assert by_v.density_g_cm3 == pytest.approx(0.5 * 1.21 + 0.5 * 1.33)
    # Li atoms come only from LiTFSI: its mass share over its molar mass.
    li = 0.3 * by_w.density_g_cm3 / litfsi.molar_mass_g_mol * 6.02214076e23
    assert by_w.li_atoms_cm3 == pytest.approx(li, rel=1e-9)


def test_hybrid_electrolyte_with_lagp():
    hse = Material.mix([("PEO", 0.6), ("LiTFSI", 0.2), ("SN", 0.1), ("LAGP", 0.1)], by="weight")
    assert 1.2 < hse.density_g_cm3 < 1.4
    assert hse.li_atoms_cm3 > 0
    assert set(hse.atoms) >= {"Li", "Al", "Ge", "P", "S", "F", "N", "C", "H", "O"}


def test_repr_and_pickle_round_trip():
    for m in [Material("Cu"), Material("LLZO", density=4.9), Material("C2H4O", 1.2, name="PEO film"),
              Material.mix([("PEO", 0.6), ("LiTFSI", 0.4)], by="weight"),
              Material("Li").with_density(0.3)]:  # fmt: skip
        assert eval(repr(m), {"Material": Material}) == m
        assert pickle.loads(pickle.dumps(m)) == m
        assert hash(pickle.loads(pickle.dumps(m))) == hash(m)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("Xy2",), r"cannot read 'Xy2' \(unknown element Xy\)"),
        (("Li7La3Zr2O12))",), r"cannot read 'Li7La3Zr2O12\)\)'"),
        (("C2H4O",), r"density of 'C2H4O': required"),
        (("Cu", -1.0), r"density of 'Cu': expected a positive number"),
        (("Cu", 0.0), r"expected a positive number"),
        (("Cu", "heavy"), r"expected a number in g/cm3, got 'heavy'"),
        (("",), r"expected a non-empty name"),
    ],
)
def test_bad_materials_give_one_line_errors(args, match):
    with pytest.raises(MaterialError, match=match) as info:
        Material(*args)
    assert "\n" not in str(info.value)


def test_mixture_fractions_must_sum_to_one():
    with pytest.raises(MaterialError, match=r"weight fractions sum to 0.9, expected 1"):
        Material.mix([("PEO", 0.6), ("LiTFSI", 0.3)])
    with pytest.raises(MaterialError, match=r"must be >= 0"):
        Material.mix([("PEO", 1.5), ("LiTFSI", -0.5)])
    with pytest.raises(MaterialError, match=r"'weight' or 'volume'"):
        Material.mix([("PEO", 1.0)], by="mole")


def test_areal_density_conversion():
    cu = Material("Cu")
    assert cu.um_to_areal(1.0) == pytest.approx(8.491e22 * 1e-4 / 1e15, rel=1e-3)
    assert cu.areal_to_um(cu.um_to_areal(3.7)) == pytest.approx(3.7)
