"""SRIM / SR Module stopping tables: real and varied files, use as a material's stopping."""

from __future__ import annotations

import numpy as np
import pytest
from srim_files import srim_text

from ndp import Material
from ndp.errors import FileFormatError, MaterialError
from ndp.physics.srim import read_srim


def test_real_srim_file_reproduces_its_own_table(shared_reference):
    path = shared_reference / "srim" / "pysrim_SR_OUTPUT_Xe_in_SiC.txt"
    t = read_srim(path)
    assert (t.ion_z, t.ion_mass_u) == (54, 131.293)
    assert t.density_g_cm3 == 3.21 and t.atoms_cm3 == 9.6421e22
    assert t.composition == {"Si": 0.5, "C": 0.5}
    assert t.energy_keV.size == 159
    # First and last rows as printed: "999.999 eV  1.599E-01 2.126E+00  27 A  8 A  6 A" ...
    assert t.energy_keV[0] == pytest.approx(0.999999)
    assert t.electronic[0] == 1.599e-01 and t.nuclear[0] == 2.126
    assert t.range_um[0] == pytest.approx(27e-4) and t.lateral_straggling_um[0] == pytest.approx(
        6e-4
    )
    assert t.energy_keV[-1] == pytest.approx(1.2e6) and t.range_um[-1] == pytest.approx(59.41)
    assert t.longitudinal_straggling_um[-1] == pytest.approx(1.77)
    # The file's two conversion factors agree with its own density within 0.5 %.
    np.testing.assert_allclose(
        t.electronic_eV_1e15 * t.atoms_cm3 * 1e-22, t.electronic_keV_um, rtol=5e-3
    )
    # A Xe table cannot stand for an alpha.
    with pytest.raises(MaterialError, match="ion Z = 54 cannot stand for the alpha"):
        t.cross_sections("alpha", 1000.0)


@pytest.mark.parametrize(
    "variant",
    [{}, {"crlf": True}, {"comma": True}, {"comma": True, "crlf": True}, {"gas": True},
     {"units_spaced": False}],
    ids=["plain", "crlf", "comma", "comma-crlf", "gas", "units-unspaced"],
)  # fmt: skip
def test_variants_parse_to_the_same_table(tmp_path, variant):
    llzo = Material("LLZO")
    ref = tmp_path / "ref.txt"
    ref.write_text(srim_text(llzo), newline="")
    f = tmp_path / "v.txt"
    f.write_bytes(srim_text(llzo, **variant).encode("latin-1"))
    a, b = read_srim(ref), read_srim(f)
    np.testing.assert_array_equal(a.energy_keV, b.energy_keV)
    np.testing.assert_array_equal(a.electronic, b.electronic)
    np.testing.assert_array_equal(a.range_um, b.range_um)
    assert b.gas == variant.get("gas", False)
    assert b.energy_keV[0] < 1 and b.energy_keV[-1] > 1000  # eV and MeV rows both read


@pytest.mark.parametrize("particle", ["alpha", "triton"])
def test_material_with_srim_table_reproduces_it_within_half_a_percent(tmp_path, particle):
    li = Material("Li")
    f = tmp_path / f"{particle}.txt"
    f.write_text(srim_text(li, particle))
    table = read_srim(f)
    m = li.with_srim(**{particle: table})
    assert "SRIM" in m.stopping_source(particle)
    # The ion's energies map to the particle at the same velocity.
    scale = 3.0155 / 1.008 if particle == "triton" else 4.001506 / 4.003
    e_particle = table.energy_keV * scale
    inside = (e_particle > 2) & (e_particle < 3000)
    got = m.cross_sections(particle, e_particle[inside])[0]
    np.testing.assert_allclose(got, table.electronic_eV_1e15[inside], rtol=5e-3)
    # And in between the table's rows, it is ndp's own stopping again (the file came from it).
    e = np.geomspace(20, 2700, 30)
    np.testing.assert_allclose(
        m.cross_sections(particle, e)[0], li.cross_sections(particle, e)[0], rtol=5e-3
    )


def test_a_material_from_its_srim_table(tmp_path):
    f = tmp_path / "lipon_he.txt"
    f.write_text(srim_text(Material("LiPON")))
    m = Material.from_srim(read_srim(f), name="LiPON-sputtered")
    assert m.density_g_cm3 == pytest.approx(2.5)
    assert "SRIM" in m.stopping_source("alpha")
    assert "SRIM" not in m.stopping_source("triton")
    assert float(m.range_um("alpha")) == pytest.approx(
        float(Material("LiPON").range_um("alpha")), rel=0.01
    )


def test_a_run_file_names_its_srim_table_by_path_and_the_run_hashes_it(tmp_path, data_dir):
    """A layer's SRIM table comes from the run file, never from the user's home folder."""
    from ndp.runfile import parse_run

    f = tmp_path / "lipon_he.txt"
    f.write_text(srim_text(Material("LiPON")))
    text = (data_dir / "run_cu_li.toml").read_text()
    head, sep, rest = text.partition("[[sample.layers]]")
    layer = '[[sample.layers]]\nname = "LiPON"\nsrim = ["lipon_he.txt"]\nthickness_um = 0.5\n\n'
    cfg = parse_run(head + layer + sep + rest, path=tmp_path / "run.toml")
    lipon = cfg.stack.layers[0].material
    assert "SRIM" in lipon.stopping_source("alpha") and lipon.density_g_cm3 == pytest.approx(2.5)
    assert cfg.srim_files == (str(f),)


def _lines(text):
    return text.splitlines(keepends=True)


def test_broken_files_name_the_line(tmp_path):
    good = _lines(srim_text(Material("Cu")))
    row = next(i for i, ln in enumerate(good) if ln.strip().endswith("A") and "keV" in ln)
    bad = good.copy()
    bad[row] = "  10.00 keV   1.2E+00  garbage\n"
    f = tmp_path / "bad.txt"
    f.write_text("".join(bad))
    with pytest.raises(FileFormatError, match=rf"bad.txt, line {row + 1}: expected a table row"):
        read_srim(f)

    no_block = "".join(ln for ln in good if "micron" not in ln and "atoms/cm2)" not in ln)
    f.write_text(no_block)
    with pytest.raises(FileFormatError, match="Multiply Stopping by"):
        read_srim(f)

    f.write_text("hello\nworld\n")
    with pytest.raises(FileFormatError, match="not a SRIM stopping/range table"):
        read_srim(f)

    with pytest.raises(FileFormatError, match="cannot read the file"):
        read_srim(tmp_path / "missing.txt")
