"""Straggling models against pycatima (CATIMA 1.7), an independent code, and their limits.

CATIMA's default straggling (ATIMA: Lindhard–Sørensen with an effective charge) is close to Bohr
for hydrogen ions at 0.5–0.9 MeV/u, and lies between Bohr and the low-velocity corrections for
He; the bands below state by how much each model is expected to differ from it there (the
numbers behind them: ``python benchmarks/bench_physics.py --straggling``).
"""

from __future__ import annotations

import numpy as np
import pytest

from ndp import Material
from ndp.errors import NdpError
from ndp.physics.detector import Detector
from ndp.physics.kinematics import detected_energy
from ndp.physics.resolution import straggling_variance
from ndp.physics.stopping import get_particle
from ndp.physics.straggling import CHU_COEFFICIENTS, MODELS, bohr_ratio, he_charge_fraction
from ndp.runfile import parse_run

pycatima = pytest.importorskip("pycatima")

CU, LI = Material("Cu"), Material("Li")


def catima(particle: str, cu_um: float) -> tuple[float, float]:
    """(energy after the Cu, straggling σ), keV, from CATIMA."""
    p = get_particle(particle)
    proj = pycatima.Projectile(p.mass_u, p.z)
    proj.T(p.energy_keV / 1e3 / p.mass_u)
    mat = pycatima.Material()
    mat.add_element(63.546, 29, 1)
    mat.density(8.96)
    mat.thickness_cm(cu_um * 1e-4)
    r = pycatima.calculate(proj, mat).get_dict()
    return r["Eout"] * p.mass_u * 1e3, r["sigma_E"] * p.mass_u * 1e3


def ndp_sigma(particle: str, cu_um: float, model: str) -> float:
    cs = (CU(cu_um) | LI(10.0, profiled=True)).to_array(particle)
    return float(np.sqrt(straggling_variance(cs, [0.0], model=model)[0]))


# (particle, Cu µm, model) -> allowed ratio ndp σ / CATIMA σ.
BANDS = {
    "triton": {
        "bohr": (0.97, 1.04),
        "yang": (0.85, 0.96),
        "chu": (0.78, 0.90),
        "lindhard-scharff": (0.80, 0.92),
    },
    "alpha": {
        "bohr": (1.05, 1.18),
        "yang": (0.92, 1.02),
        "chu": (0.72, 0.85),
        "lindhard-scharff": (0.72, 0.86),
    },
}
CASES = [("triton", 0.5), ("triton", 10.0), ("alpha", 0.5), ("alpha", 2.0)]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(("particle", "cu_um"), CASES)
def test_models_against_catima(particle, cu_um, model):
    _, s_ref = catima(particle, cu_um)
    lo, hi = BANDS[particle][model]
    assert lo < ndp_sigma(particle, cu_um, model) / s_ref < hi


@pytest.mark.parametrize(("particle", "cu_um", "rel"), [("triton", 0.5, 0.002), ("triton", 10.0, 0.01),
                                                         ("alpha", 0.5, 0.005)])  # fmt: skip
def test_edge_behind_copper_against_catima(particle, cu_um, rel):
    e_ref, _ = catima(particle, cu_um)
    cs = (CU(cu_um) | LI(10.0, profiled=True)).to_array(particle)
    assert float(detected_energy(cs, 0.0)) == pytest.approx(e_ref, rel=rel)


def test_bohr_is_the_upper_bound_and_corrections_vanish_at_high_velocity():
    """Chu's and Lindhard–Scharff's factors reach 1 for fast ions (Chu 1976: H → 1)."""
    z2 = np.array([6, 14, 29, 79])
    fast = 100e3 * 4.0  # 100 MeV/u He
    for model in ("lindhard-scharff", "chu"):
        assert np.allclose(bohr_ratio(model, fast, 4.0, 2, z2), 1.0, atol=0.02)
        slow = bohr_ratio(model, 2055.0, 4.0, 2, z2[1:])  # α of 0.5 MeV/u: slow for Z2 >= 14
        assert np.all(slow < 1.0) and np.all(slow > 0.1)


def test_chu_table_rows():
    """Rows are Z2 = 2…97; hydrogen has no fit (Bohr)."""
    assert CHU_COEFFICIENTS.shape == (98, 4)
    assert np.isnan(CHU_COEFFICIENTS[1]).all() and np.isfinite(CHU_COEFFICIENTS[2:]).all()
    assert bohr_ratio("chu", 1000.0, 1.0, 1, [1])[..., 0] == 1.0


def test_he_effective_charge_is_nearly_full_at_mev():
    """Ziegler's He effective charge: γ² → 1 above ~0.5 MeV/u, ~0.7 at 20 keV/u."""
    assert he_charge_fraction(1000.0) > 0.99
    assert 0.6 < he_charge_fraction(20.0) < 0.8


def test_model_choice_in_the_run_file():
    base = '[sample]\nlayers = [{material = "Li", thickness_um = 10, profiled = true}]\n'
    cfg = parse_run('[detector]\nstraggling = "chu"\n' + base)
    assert cfg.detector.straggling == "chu"
    assert parse_run(base).detector.straggling == "lindhard-scharff"
    with pytest.raises(NdpError, match=r"detector\.straggling.*'bohr'"):
        parse_run('[detector]\nstraggling = "bohrr"\n' + base)
    with pytest.raises(NdpError, match=r"detector\.straggling"):
        Detector(straggling="landau")


def test_scale_multiplies_the_standard_deviation():
    from ndp.physics.resolution import depth_resolution

    cs = (CU(10.0) | LI(10.0, profiled=True)).to_array("triton")
    one = depth_resolution(cs, [0.0], Detector(straggling="yang"))["sigma2_straggling"][0]
    two = depth_resolution(cs, [0.0], Detector(straggling="yang", straggling_scale=2.0))
    assert two["sigma2_straggling"][0] == pytest.approx(4 * one)
