"""The independent simulator (tests/independent) checked against NIST/ICRU numbers and closed-form
physics. Nothing here imports ndp: these tests make sure the simulator that tests ndp is right.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest
from independent import simulator as sim

SHARED = Path(os.environ.get("NDP_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
N_A = 6.02214076e23
M_P, M_T = 1.007276, 3.015501  # u


def _reference_dir() -> Path:
    ref = SHARED / "reference"
    if not ref.is_dir():
        pytest.skip("../shared/reference is not available")
    return ref


def _to_mass_stopping(s_keV_um, density_g_cm3):
    """keV/µm → MeV cm²/g."""
    return np.asarray(s_keV_um) * 10.0 / density_g_cm3


def _icru49(ref: Path, symbol: str, projectile: str, energy_keV):
    """ICRU 49 electronic stopping fit (icru49_README.md) in MeV cm²/g; protons: E in keV."""
    with open(ref / "icru49_coefficients.csv") as fh:
        row = next(r for r in csv.DictReader(fh) if r["symbol"] == symbol)
    a = [float(row[f"{'he' if projectile == 'alpha' else 'p'}_A{i}"]) for i in range(1, 6)]
    e = np.asarray(energy_keV, dtype=float)
    if projectile == "alpha":
        t = e / 1000.0  # MeV
        s_low = a[0] * (1000.0 * t) ** a[1]
    else:
        t = e / M_P  # keV/u
        s_low = a[1] * t**0.45
    s_high = a[2] / t * np.log(1.0 + a[3] / t + a[4] * t)
    return s_low * s_high / (s_low + s_high) * 602.2141 / float(row["atomic_weight"])


# ------------------------------------------------------------------------------------------
# Stopping powers and ranges
# ------------------------------------------------------------------------------------------
def test_li_atom_densities():
    assert sim.li_atom_density_cm3("Li", 0.534) == pytest.approx(4.63e22, rel=2e-3)
    assert sim.li_atom_density_cm3({"Li": 1.0}, 0.534) == pytest.approx(4.63e22, rel=2e-3)
    assert sim.li_atom_density_cm3("C2H4OLi0.173424", 1.3) == pytest.approx(3.0e21, rel=2e-3)
    assert sim.li_atom_density_cm3("Cu", 8.96) == 0.0


def test_alpha_in_cu_against_astar():
    ref = _reference_dir()
    with open(ref / "astar_pstar_electronic.csv") as fh:
        rows = [r for r in csv.DictReader(fh)
                if r["projectile"] == "alpha" and r["material"] == "COPPER"]
    e = np.array([float(r["energy_keV"]) for r in rows])
    s_ref = np.array([float(r["S_electronic_MeV_cm2_per_g"]) for r in rows])
    use = (e >= 200) & (e <= 3000)  # the α's energies in a cell
    mine = _to_mass_stopping(
        sim.stopping_power_keV_um("Cu", 8.96, "alpha", e[use], component="electronic"), 8.96
    )
    dev = mine / s_ref[use] - 1
    assert np.max(np.abs(dev)) < 0.03, dev


def test_triton_in_cu_against_velocity_scaled_pstar():
    ref = _reference_dir()
    with open(ref / "astar_pstar_electronic.csv") as fh:
        rows = [r for r in csv.DictReader(fh)
                if r["projectile"] == "proton" and r["material"] == "COPPER"]
    e_p = np.array([float(r["energy_keV"]) for r in rows])
    s_ref = np.array([float(r["S_electronic_MeV_cm2_per_g"]) for r in rows])
    use = (e_p >= 300) & (e_p <= 1000)  # tritons of 0.9–3 MeV
    e_t = e_p[use] * M_T / M_P
    mine = _to_mass_stopping(
        sim.stopping_power_keV_um("Cu", 8.96, "triton", e_t, component="electronic"), 8.96
    )
    dev = mine / s_ref[use] - 1
    assert np.max(np.abs(dev)) < 0.03, dev


@pytest.mark.parametrize(("particle", "e_lo", "e_hi"), [("alpha", 400, 2055), ("triton", 900, 2727)])
def test_li_against_icru49_fit(particle, e_lo, e_hi):
    ref = _reference_dir()
    e = np.geomspace(e_lo, e_hi, 12)
    e_fit = e if particle == "alpha" else e * M_P / M_T  # triton: proton at the same velocity
    fit = _icru49(ref, "Li", particle, e_fit)
    mine = _to_mass_stopping(
        sim.stopping_power_keV_um("Li", 0.534, particle, e, component="electronic"), 0.534
    )
    dev = mine / fit - 1
    assert np.max(np.abs(dev)) < 0.03, dev


def test_csda_ranges_against_reference_table():
    ref = _reference_dir()
    formula = {"Li": "Li", "Cu": "Cu", "Ni": "Ni", "Al": "Al", "Kapton": "C22H10N2O5"}
    with open(ref / "ranges.csv") as fh:
        rows = [r for r in csv.DictReader(line for line in fh if not line.startswith("#"))
                if r["primary"] == "true"]
    assert len(rows) == 10
    for r in rows:
        mine = float(sim.csda_range_um(formula[r["material"]], float(r["density_g_cm3"]),
                                       r["particle"], float(r["E0_keV"])))
        expected = float(r["range_um_electronic_plus_nuclear"])
        assert mine == pytest.approx(expected, rel=0.03), (r["particle"], r["material"], mine)


@pytest.mark.parametrize(
    ("particle", "material", "density", "range_um"),
    [("alpha", "Li", 0.534, 24.0), ("triton", "Cu", 8.96, 18.7), ("alpha", "Cu", 8.96, 4.0),
     ("triton", "Li", 0.534, 134.0)],
)
def test_ranges_quoted_in_physics_md(particle, material, density, range_um):
    assert float(sim.csda_range_um(material, density, particle)) == pytest.approx(range_um,
                                                                                  rel=0.03)


def test_triton_from_cu_li_interface_behind_10um_cu():
    e_out, var = sim.transport(2727.0, [sim.Slab("Cu", 8.96, 10.0)], "triton")
    assert float(e_out) == pytest.approx(1450.0, rel=0.02)
    assert 10.0 < math.sqrt(float(var)) < 60.0  # Bohr straggling through 10 µm Cu
    # the range-table inversion agrees with brute-force RK4 on dE/ds = −S(E)
    tab = sim.stopping_table("Cu", 8.96, "triton")
    e, n = 2727.0, 4000
    h = 10.0 / n
    for _ in range(n):
        k1 = -tab.stopping(e)
        k2 = -tab.stopping(e + 0.5 * h * k1)
        k3 = -tab.stopping(e + 0.5 * h * k2)
        k4 = -tab.stopping(e + h * k3)
        e += h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
    assert float(e_out) == pytest.approx(float(e), abs=0.5)


@pytest.mark.parametrize(("particle", "e0", "cu_um"), [("alpha", 2055.0, 2.0),
                                                       ("triton", 2727.0, 10.0)])
def test_straggling_closed_form_matches_the_ode(particle, e0, cu_um):
    """dσ²/ds = ω² − 2 (dS/dE) σ², integrated by RK4 alongside dE/ds = −S(E)."""
    tab = sim.stopping_table("Cu", 8.96, particle)
    omega2 = tab.bohr_keV2_um

    def rhs(y):
        e, v = y
        ds_de = (tab.stopping(e * 1.001) - tab.stopping(e * 0.999)) / (0.002 * e)
        return np.array([-tab.stopping(e), omega2 - 2 * ds_de * v])

    y, n = np.array([e0, 0.0]), 2000
    h = cu_um / n
    for _ in range(n):
        k1 = rhs(y)
        k2 = rhs(y + 0.5 * h * k1)
        k3 = rhs(y + 0.5 * h * k2)
        k4 = rhs(y + h * k3)
        y = y + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
    for slabs in ([sim.Slab("Cu", 8.96, cu_um)], [sim.Slab("Cu", 8.96, cu_um / 3),
                                                  sim.Slab("Cu", 8.96, 2 * cu_um / 3)]):
        e_out, var = sim.transport(e0, slabs, particle)  # one slab, or variance carried over
        assert float(e_out) == pytest.approx(y[0], abs=0.1)
        assert float(var) == pytest.approx(y[1], rel=2e-3)
    assert float(var) > 1.05 * omega2 * cu_um  # slowing down widens the distribution


def test_stopping_scale_and_oblique_path_are_the_same_thing():
    cu = sim.Slab("Cu", 8.96, 5.0)
    e_scaled, _ = sim.transport(2727.0, [sim.Slab("Cu", 8.96, 5.0, stopping_scale=1.1)], "triton")
    e_thick, _ = sim.transport(2727.0, [sim.Slab("Cu", 8.96, 5.5)], "triton")
    e_tilted, _ = sim.transport(2727.0, [cu], "triton", cos_theta=1 / 1.1)
    assert float(e_scaled) == pytest.approx(float(e_thick), abs=1e-6)
    assert float(e_tilted) == pytest.approx(float(e_thick), abs=1e-6)
    assert float(sim.transport(2055.0, [sim.Slab("Cu", 8.96, 10.0)], "alpha")[0]) == 0.0


# ------------------------------------------------------------------------------------------
# Expected spectra
# ------------------------------------------------------------------------------------------
def _norm(flux=1e7, area=1.0, live=600.0, omega=0.15):
    """Φ·A·t·σ·a6·Ω/4π in cm² per (atom/cm²)."""
    return flux * area * live * 940e-24 * 0.0759 * omega / (4 * math.pi)


@pytest.mark.parametrize(
    ("slabs", "li_um"),
    [([sim.Slab("Li", 0.534, 0.005)], 0.005),
     ([sim.Slab("Cu", 8.96, 0.5), sim.Slab("Li", 0.534, 2.0)], 2.0)],
)
def test_counts_conservation(slabs, li_um):
    det = sim.Detector()  # no threshold; α and t leave these stacks with > 100 keV
    areal = 0.534 * N_A / 6.94 * li_um * 1e-4
    for particle in ("alpha", "triton"):
        total = sim.expected_spectrum(slabs, particles=particle, detector=det, live_s=600).sum()
        assert total == pytest.approx(_norm() * areal, rel=1e-6)
    both = sim.expected_spectrum(slabs, detector=det, live_s=600).sum()
    assert both == pytest.approx(2 * _norm() * areal, rel=1e-6)


def test_counts_scale_with_flux_and_live_time():
    slabs = [sim.Slab("Cu", 8.96, 10.0), sim.Slab("Li", 0.534, 3.0),
             sim.Slab("C2H4OLi0.173424", 1.3, 30.0)]
    base = sim.expected_spectrum(slabs, flux_n_cm2_s=1e7, live_s=600)
    assert base.sum() > 1e4
    np.testing.assert_allclose(sim.expected_spectrum(slabs, flux_n_cm2_s=2e7, live_s=600),
                               2 * base, rtol=1e-12)
    np.testing.assert_allclose(sim.expected_spectrum(slabs, flux_n_cm2_s=1e7, live_s=1200),
                               2 * base, rtol=1e-12)


def test_visible_depth_of_thick_li_under_cu():
    """Pencil beam, α only: counts = norm · n_Li · (deepest birth depth that still gets out)."""
    cu, li = sim.Slab("Cu", 8.96, 0.5), sim.Slab("Li", 0.534, 40.0)
    det = sim.Detector(calibration_keV=(-300.0, 1.0), n_channels=3000, half_angle_deg=0.0)
    total = sim.expected_spectrum([cu, li], particles="alpha", detector=det, live_s=600).sum()
    e_need = float(sim.stopping_table("Cu", 8.96, "alpha").energy_from_range(0.5))
    x_max = float(sim.csda_range_um("Li", 0.534, "alpha") - sim.csda_range_um("Li", 0.534,
                                                                              "alpha", e_need))
    assert 15 < x_max < 24
    n_li = 0.534 * N_A / 6.94
    assert total == pytest.approx(_norm() * n_li * x_max * 1e-4, rel=1e-4)
    # behind 10 µm Cu no α gets out at all
    thick_cu = [sim.Slab("Cu", 8.96, 10.0), li]
    assert sim.expected_spectrum(thick_cu, particles="alpha", detector=det).sum() == 0.0


def _moments(spectrum, det):
    e = sim.channel_energy_keV(det)
    mean = (e * spectrum).sum() / spectrum.sum()
    var = ((e - mean) ** 2 * spectrum).sum() / spectrum.sum()
    return mean, var


def test_channel_convention_centroid():
    """$ENER_FIT: channel k sits at c0 + c1·k; a thin layer's peak centroid is its energy."""
    li = [sim.Slab("Li", 0.534, 0.001)]
    for cal in [(0.0, 1.0), (-5.0, 0.75), (3.3, 0.9)]:
        det = sim.Detector(calibration_keV=cal, half_angle_deg=0.0)
        for particle, e0 in (("alpha", 2055.0), ("triton", 2727.0)):
            mean, _ = _moments(sim.expected_spectrum(li, particles=particle, detector=det), det)
            assert mean == pytest.approx(e0, abs=0.05)


@pytest.mark.parametrize("particle", ["alpha", "triton"])
def test_bohr_straggling_in_thin_foil(particle):
    z1 = {"alpha": 2, "triton": 1}[particle]
    det = sim.Detector(calibration_keV=(0.0, 0.1), resolution_keV=0.5, n_channels=30000,
                       half_angle_deg=0.0)
    stack = [sim.Slab("Cu", 8.96, 0.3), sim.Slab("Li", 0.534, 0.001)]
    spec = sim.expected_spectrum(stack, particles=particle, detector=det)
    mean, var = _moments(spec, det)
    var -= det.sigma_keV**2 + 0.1**2 / 12  # detector and channel width
    n_e = 8.96 * N_A / 63.546 * 29
    bohr = 4 * math.pi * z1**2 * (1.43996448e-10) ** 2 * n_e * 0.3e-4  # keV²
    assert var == pytest.approx(bohr, rel=0.05)
    e_csda, _ = sim.transport(sim.PARTICLES[particle].birth_energy_keV, stack[:1], particle)
    assert mean == pytest.approx(float(e_csda), abs=0.2)
    doubled = sim.expected_spectrum(stack, particles=particle, detector=det, straggling_scale=2)
    assert _moments(doubled, det)[1] - det.sigma_keV**2 - 0.1**2 / 12 == pytest.approx(
        2 * var, rel=1e-3)


def test_acceptance_cone_lengthens_the_mean_path():
    """Uniform in cos θ over [cos θmax, 1]: mean path factor ⟨1/μ⟩ = ln(1/c)/(1 − c)."""
    stack = [sim.Slab("Cu", 8.96, 0.3), sim.Slab("Li", 0.534, 0.001)]
    loss = {}
    for half_angle in (0.0, 30.0):
        det = sim.Detector(calibration_keV=(0.0, 0.1), resolution_keV=0.5, n_channels=30000,
                           half_angle_deg=half_angle)
        spec = sim.expected_spectrum(stack, particles="alpha", detector=det, angle_nodes=16)
        loss[half_angle] = 2055.0 - _moments(spec, det)[0]
    c = math.cos(math.radians(30.0))
    assert loss[30.0] / loss[0.0] == pytest.approx(math.log(1 / c) / (1 - c), rel=5e-3)


def test_alpha_step_and_triton_peak_under_thin_cu():
    """3 µm Li under 0.5 µm Cu: the α plateau spans the exit energies of the layer's two faces."""
    cu, li = sim.Slab("Cu", 8.96, 0.5), sim.Slab("Li", 0.534, 3.0)
    det = sim.Detector(half_angle_deg=0.0)
    e = sim.channel_energy_keV(det)
    alpha = sim.expected_spectrum([cu, li], particles="alpha", detector=det)
    triton = sim.expected_spectrum([cu, li], particles="triton", detector=det)
    e_front = float(sim.transport(2055.0, [cu], "alpha")[0])
    e_back = float(sim.transport(2055.0, [li, cu], "alpha")[0])
    above = e[alpha > 0.5 * np.median(alpha[(e > e_back + 40) & (e < e_front - 40)])]
    assert above.max() == pytest.approx(e_front, abs=4.0)
    assert above.min() == pytest.approx(e_back, abs=6.0)
    assert triton[e < e_front + 100].sum() < 1e-6 * triton.sum()  # no overlap
    t_front = float(sim.transport(2727.0, [cu], "triton")[0])
    assert t_front - 45 < e[np.argmax(triton)] < t_front


def test_quadrature_is_converged():
    slabs = [sim.Slab("Cu", 8.96, 10.0), sim.Slab("Li", 0.534, 1.0),
             sim.Slab("C2H4OLi0.173424", 1.3, 60.0)]
    default = sim.expected_spectrum(slabs, live_s=600)
    fine = sim.expected_spectrum(slabs, live_s=600, angle_nodes=24, step_fraction=0.1)
    e = sim.channel_energy_keV(sim.Detector())
    assert np.max(np.abs(default - fine)) < 2e-3 * fine.max()
    assert default.sum() == pytest.approx(fine.sum(), rel=2e-4)
    assert np.all(default[e > 1600] < 1e-3)  # nothing above the window's exit energy


def test_threshold_zeroes_low_channels():
    slabs = [sim.Slab("Cu", 8.96, 10.0), sim.Slab("C2H4OLi0.173424", 1.3, 60.0)]
    det = sim.Detector(threshold_keV=150.0)
    e = sim.channel_energy_keV(det)
    with_threshold = sim.expected_spectrum(slabs, detector=det)
    without = sim.expected_spectrum(slabs)
    assert np.all(with_threshold[e < 150.0] == 0.0)
    np.testing.assert_allclose(with_threshold[e >= 150.0], without[e >= 150.0], rtol=1e-12)


def test_frame_of_the_shared_validation_run_is_reproduced():
    """Frame 0 of ../shared's run (another independent generator, other stopping tables)."""
    run = SHARED / "validation" / "cu_hse_operando"
    if not run.is_dir():
        pytest.skip("../shared/validation is not available")
    truth = json.loads((run / "truth.json").read_text())
    p = truth["parameters"]
    det = sim.Detector(tuple(p["calibration_keV"]), p["resolution_fwhm_keV"], p["n_channels"],
                       p["solid_angle_sr"], p["acceptance_half_angle_deg"])
    slabs = [sim.Slab("Cu", 8.96, 10.0),
             sim.Slab(p["hse_formula"], p["hse_density"], p["hse_thickness_um"])]
    frame = truth["frames"][0]
    mine = sim.expected_spectrum(slabs, detector=det, flux_n_cm2_s=p["flux_n_cm2_s"],
                                 live_s=frame["live_s"], li6_abundance=p["li6_abundance"],
                                 cross_section_b=p["sigma_b"]).sum()
    assert mine == pytest.approx(frame["expected_total_counts"], rel=0.04)


# ------------------------------------------------------------------------------------------
# Operando runs
# ------------------------------------------------------------------------------------------
def _read_spe(path: Path):
    lines = path.read_text(encoding="ascii").splitlines()
    i = lines.index("$DATA:")
    first, last = (int(v) for v in lines[i + 1].split())
    counts = np.array([int(v) for v in lines[i + 2:i + 3 + last - first]])
    live, real = (float(v) for v in lines[lines.index("$MEAS_TIM:") + 1].split())
    fit = [float(v) for v in lines[lines.index("$ENER_FIT:") + 1].split()]
    return counts, live, real, fit, lines


def test_small_operando_run_files(tmp_path):
    res = sim.simulate_operando(
        tmp_path / "run", plate_h=1.0, rest_h=0.5, n_cycles=2, frame_s=600, substeps=4,
        declared_window_scale=1.02, seed=3, li_region_um=(0.0, 8.0),
    )
    truth = json.loads(res["truth_json"].read_text())
    total_s = 1800 + 2 * (3600 + 0.66 * 3600)
    n_frames = math.ceil(total_s / 600)
    assert len(res["spectra"]) == n_frames == len(truth["frames"])
    assert sorted(p.name for p in (tmp_path / "run" / "spectra").iterdir())[0] == "frame_000.Spe"

    # spectra: ORTEC ASCII, CRLF
    assert b"\r\n" in res["spectra"][0].read_bytes()
    for f, path in enumerate(res["spectra"]):
        counts, live, real, fit, lines = _read_spe(path)
        assert counts.size == 4096 and lines[0] == "$SPEC_ID:"
        assert fit == [-5.0, 0.75]
        assert real == 600 and 0 < live <= real
        fr = truth["frames"][f]
        assert fr["live_s"] == live and counts.sum() == fr["recorded_total_counts"]
        assert abs(counts.sum() - fr["expected_total_counts"]) < 5 * math.sqrt(
            fr["expected_total_counts"])
    lines = _read_spe(res["spectra"][1])[4]
    assert lines[lines.index("$DATE_MEA:") + 1] == "04/02/2024 08:10:00"

    # truth: protocol, inventory, efficiencies
    cyc = truth["cycles"]
    assert [c["cycle"] for c in cyc] == [1, 2]
    assert cyc[0]["plated_mAh_cm2"] == pytest.approx(0.95 * 0.05)
    assert cyc[0]["li_efficiency"] == pytest.approx(0.55)
    assert cyc[0]["charge_stripped_mAh_cm2"] == pytest.approx(0.66 * 0.05)
    assert cyc[1]["inactive_li_cumulative_mAh_cm2"] == pytest.approx(2 * 0.45 * 0.95 * 0.05)
    cap = np.array([fr["li_capacity_mAh_cm2"] for fr in truth["frames"]])
    assert cap[:3].max() == 0.0 and cap.max() <= 0.95 * 0.05 * 1.45 + 1e-12
    # frame 5 (3000–3600 s) plates from 1800 s: mean of a linear rise is its midpoint value
    assert cap[5] == pytest.approx(0.0475 * (3300 - 1800) / 3600, rel=1e-6)
    counts_total = np.array([fr["expected_total_counts"] for fr in truth["frames"]])
    assert counts_total[5] > counts_total[0]  # plated Li is seen

    # run.toml
    run = tomllib.loads(res["run_toml"].read_text())
    layers = run["sample"]["layers"]
    assert layers[0]["material"] == "Cu" and layers[0]["thickness_um"] == pytest.approx(10.2)
    assert layers[-1]["profiled"] is True and layers[-1]["material"] == "Li"
    assert run["analysis"]["li_region_um"] == [0.0, 8.0]
    assert run["detector"]["calibration"] == [-5.0, 0.75]
    assert run["run"]["cycler"] == "cycler/cell.mpt"

    # cycler log: EC-Lab text export
    raw = res["cycler"].read_bytes()
    assert raw.startswith(b"EC-Lab ASCII FILE\r\n")
    text = raw.decode("latin-1").splitlines()
    n_header = int(text[1].split(":")[1])
    columns = text[n_header - 1].rstrip("\t").split("\t")
    for name in ("time/s", "control/V/mA", "Ewe/V", "<I>/mA", "(Q-Qo)/mA.h", "cycle number"):
        assert name in columns
    data = np.array([[float(v) for v in row.rstrip("\t").split("\t")] for row in text[n_header:]])
    t = data[:, columns.index("time/s")]
    assert np.all(np.diff(t) > 0) and t[-1] == pytest.approx(total_s)
    q = data[:, columns.index("(Q-Qo)/mA.h")]
    end_plate = np.searchsorted(t, 1800 + 3600, side="right") - 1
    assert q[end_plate] == pytest.approx(-0.05, rel=1e-3)
    assert q[-1] == pytest.approx(2 * (-0.05 + 0.033), rel=1e-3)
    assert data[-1, columns.index("Ewe/V")] >= 1.0


def test_operando_profiled_hse_and_dead_time(tmp_path):
    res = sim.simulate_operando(
        tmp_path, plate_h=0.5, rest_h=0.0, n_cycles=1, frame_s=300, substeps=2,
        profiled_layer="hse", cycler=False, flux=1e10, seed=1,
    )
    run = tomllib.loads(res["run_toml"].read_text())
    assert run["analysis"]["matrix"] == "self-consistent"
    assert run["sample"]["layers"][-1]["material"] == "C2H4OLi0.173424"
    assert "cycler" not in run["run"] and res["cycler"] is None
    for fr in res["truth"]["frames"]:
        rate = fr["expected_total_counts"] / fr["live_s"]
        assert rate > 1e4
        assert fr["live_s"] == round(300 * (1 - 1e-6 * rate))
        assert fr["live_s"] < 300


def test_frame_is_the_mean_of_its_substeps(tmp_path):
    kw = dict(plate_h=1.0, rest_h=0.0, n_cycles=1, frame_s=600, substeps=3, cycler=False)
    res = sim.simulate_operando(tmp_path, **kw)
    f = 3  # plating, 1800–2400 s
    um_per_mAh = sim.LI_ATOMS_PER_MAH / sim.li_atom_density_cm3("Li", 0.534) * 1e4
    thick = [0.95 * 0.05 * (1800 + 100 + 200 * i) / 3600 * um_per_mAh for i in range(3)]
    direct = np.mean([
        sim.expected_spectrum([sim.Slab("Cu", 8.96, 10.0), sim.Slab("Li", 0.534, th),
                               sim.Slab("C2H4OLi0.173424", 1.3, 60.0)], live_s=1.0)
        for th in thick
    ], axis=0) * res["truth"]["frames"][f]["live_s"]
    frame = res["expected"][f]
    assert np.max(np.abs(frame - direct)) < 1e-3 * direct.max()
    assert frame.sum() == pytest.approx(direct.sum(), rel=1e-5)


@pytest.mark.slow
def test_validation_sized_run_is_fast(tmp_path):
    start = time.perf_counter()
    res = sim.simulate_operando(tmp_path)  # 4 cycles, 166 frames of 600 s, 10 sub-steps
    elapsed = time.perf_counter() - start
    assert len(res["spectra"]) == 166
    assert elapsed < 30.0
    cycles = res["truth"]["cycles"]
    assert [c["li_efficiency"] for c in cycles] == [0.55] * 4
