"""Detector effects: dead layer, pulse-height defect, low-energy tail; calibration transfer.

References: pycatima (CATIMA 1.7) for the energy lost in the dead layer, scipy's exponentially
modified Gaussian (``scipy.stats.exponnorm``) for the tail, and the defect's own value for the
pulse-height shift.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from ndp import Material
from ndp.errors import NdpError
from ndp.model.forward import response_matrix
from ndp.physics.constants import B10_LINES_KEV
from ndp.physics.detector import Detector, compile_stack
from ndp.physics.kinematics import detected_energy
from ndp.physics.stopping import get_particle
from ndp.runfile import parse_run
from ndp.spectra.calibration import Calibration, fit_b10, fit_li6

CU, LI = Material("Cu"), Material("Li")
CAL = Calibration.from_linear(0.0, 0.25)
N_CH = 12000
ENERGY = CAL(np.arange(N_CH))
SURFACE = np.array([0.0, 1e-4])  # one very thin bin at the surface


def catima_after(particle: str, layers) -> float:
    """Energy (keV) after crossing ``layers`` = [(A, Z, density g/cm³, µm), ...] with CATIMA."""
    pycatima = pytest.importorskip("pycatima")
    p = get_particle(particle)
    e = p.energy_keV
    for a, z, rho, um in layers:
        proj = pycatima.Projectile(p.mass_u, p.z)
        proj.T(e / 1e3 / p.mass_u)
        mat = pycatima.Material()
        mat.add_element(a, z, 1)
        mat.density(rho)
        mat.thickness_cm(um * 1e-4)
        e = pycatima.calculate(proj, mat).get_dict()["Eout"] * p.mass_u * 1e3
    return e


def mean_keV(r: np.ndarray) -> float:
    return float((r * ENERGY).sum() / r.sum())


SI, AU = (28.0855, 14, 2.33), (196.967, 79, 19.3)


@pytest.mark.parametrize(
    ("particle", "material", "um", "rel"),
    [("alpha", "Si", 0.5, 0.02), ("triton", "Si", 0.5, 0.03), ("alpha", "Au", 0.05, 0.05),
     ("triton", "Au", 0.2, 0.03)],
)  # fmt: skip
def test_dead_layer_loss_against_catima(particle, material, um, rel):
    det = Detector(dead_layer_material=material, dead_layer_um=um)
    ref = get_particle(particle).energy_keV - catima_after(
        particle, [(*dict(Si=SI, Au=AU)[material], um)]
    )
    loss = get_particle(particle).energy_keV - float(
        det.detected_keV(particle, get_particle(particle).energy_keV)
    )
    assert loss == pytest.approx(ref, rel=rel)


def test_dead_layer_is_a_layer_of_the_stack_in_the_response():
    """Triton behind 2 µm Cu and a 1 µm Si dead layer: the line sits where CATIMA puts a
    triton after both layers."""
    stack = CU(2.0) | LI(10.0, profiled=True)
    det = Detector(resolution_keV=10.0, dead_layer_um=1.0)
    assert len(compile_stack(stack, "triton", det).window) == 2
    r = response_matrix(stack, "triton", det, CAL, N_CH, SURFACE)[:, 0]
    ref = catima_after("triton", [(63.546, 29, 8.96, 2.0), (*SI, 1.0)])
    assert 2727.0 - mean_keV(r) == pytest.approx(2727.0 - ref, rel=0.01)  # 1 % of the loss
    # Straggling in the dead layer widens the line.
    bare = response_matrix(stack, "triton", replace(det, dead_layer_um=0.0), CAL, N_CH, SURFACE)[
        :, 0
    ]
    var = float((r * (ENERGY - mean_keV(r)) ** 2).sum() / r.sum())
    var_bare = float((bare * (ENERGY - mean_keV(bare)) ** 2).sum() / bare.sum())
    assert var > var_bare


@pytest.mark.parametrize("particle", ["alpha", "triton"])
def test_pulse_height_defect_shifts_only_its_particle(particle):
    stack = CU(0.5) | LI(10.0, profiled=True)
    det = Detector(resolution_keV=12.0, acceptance_half_angle_deg=5.0)
    phd = replace(det, pulse_height_defect_alpha_keV=31.0, pulse_height_defect_triton_keV=12.0)
    shift = {"alpha": 31.0, "triton": 12.0}[particle]
    base = response_matrix(stack, particle, det, CAL, N_CH, SURFACE)[:, 0]
    moved = response_matrix(stack, particle, phd, CAL, N_CH, SURFACE)[:, 0]
    assert mean_keV(base) - mean_keV(moved) == pytest.approx(shift, abs=0.02)
    assert phd.pulse_height_keV(particle, 1000.0) == pytest.approx(1000.0 - shift)


@pytest.mark.parametrize(("fraction", "slope_keV"), [(0.05, 40.0), (0.2, 8.0)])
def test_tail_against_scipy_exponnorm(fraction, slope_keV):
    """Gaussian plus a fraction shifted down by an exponential: scipy's exponnorm mirrored."""
    stack = LI(1e-6) | LI(10.0, profiled=True)
    det = Detector(resolution_keV=15.0, straggling_scale=0.0, tail_fraction=fraction,
                   tail_slope_keV=slope_keV)  # fmt: skip
    r = response_matrix(stack, "alpha", det, CAL, N_CH, SURFACE)[:, 0]
    r = r / r.sum()
    mu = float(detected_energy(stack.to_array("alpha"), 0.5e-4))
    sigma = 15.0 / 2.3548200450309493
    lo, hi = CAL(np.arange(N_CH) - 0.5), CAL(np.arange(N_CH) + 0.5)
    gauss = stats.norm.cdf(hi, mu, sigma) - stats.norm.cdf(lo, mu, sigma)
    # X = μ − W, W = σZ + Y with Y exponential of mean λ: exponnorm(K = λ/σ, scale = σ).
    w = stats.exponnorm(slope_keV / sigma, loc=0.0, scale=sigma)
    tail = w.cdf(mu - lo) - w.cdf(mu - hi)
    ref = (1 - fraction) * gauss + fraction * tail
    assert np.max(np.abs(r - ref)) < 2e-3 * ref.max()
    assert mean_keV(r) == pytest.approx(mu - fraction * slope_keV, abs=0.05)


def test_effects_are_off_by_default_and_run_file_keys():
    base = '[sample]\nlayers = [{material = "Li", thickness_um = 10, profiled = true}]\n'
    det = parse_run(base).detector
    assert (det.dead_layer_um, det.pulse_height_defect_alpha_keV, det.tail_fraction) == (0, 0, 0)
    assert det.cone == "exact" and not det.has_pulse_effects
    text = ('[detector]\ndead_layer_material = "Au"\ndead_layer_um = 0.05\n'
            'pulse_height_defect_alpha_keV = 30\npulse_height_defect_triton_keV = 10\n'
            'tail_fraction = 0.02\ntail_slope_keV = 40\ncone = "gaussian"\n')  # fmt: skip
    det = parse_run(text + base).detector
    assert det == Detector(dead_layer_material="Au", dead_layer_um=0.05, pulse_height_defect_alpha_keV=30,
                           pulse_height_defect_triton_keV=10, tail_fraction=0.02, tail_slope_keV=40,
                           cone="gaussian")  # fmt: skip
    for bad, match in [('dead_layer_material = "Al"', "dead_layer_material"),
                       ("tail_fraction = 1.5", "tail_fraction"),
                       ("pulse_height_defect_triton_keV = -3", "pulse_height_defect_triton_keV"),
                       ('cone = "cone"', "cone")]:  # fmt: skip
        with pytest.raises(NdpError, match=match):
            parse_run(f"[detector]\n{bad}\n" + base)


TRUE_CAL = Calibration.from_linear(-12.0, 0.8)
EFFECTS = Detector(resolution_keV=15.0, dead_layer_um=0.1, pulse_height_defect_alpha_keV=25.0,
                   pulse_height_defect_triton_keV=8.0)  # fmt: skip


def test_li6_calibration_with_detector_effects_recovers_the_gain():
    """A ⁶Li standard measured through a dead layer with defects: fitted at their detected
    energies, the edges give back the true calibration."""
    # Thick enough for a plateau behind each edge (the step fit assumes one).
    stack = LI(1e-6) | LI(20.0, profiled=True)
    edges = np.linspace(0.0, 20.0, 201)
    profile = np.where(edges[:-1] < 10.0, 1.0, 0.0)
    n = 4096
    counts = sum(
        response_matrix(stack, p, EFFECTS, TRUE_CAL, n, edges) @ profile
        for p in ("alpha", "triton")
    )
    counts = 1e6 * counts / counts.max() + 5.0
    good = fit_li6(counts, detector=EFFECTS).calibration
    naive = fit_li6(counts).calibration
    ch = TRUE_CAL.inverse(np.array([1000.0, 2600.0]))
    assert np.abs(good(ch) - TRUE_CAL(ch)).max() < 2.0
    assert np.abs(naive(ch) - TRUE_CAL(ch)).max() > 10.0


def test_alpha_calibration_transfers_to_tritons():
    """A ¹⁰B α-only calibration with the detector's effects puts the triton surface line where
    the true gain does; without them it misses by the defects' and dead layer's difference."""
    x = np.arange(4096, dtype=float)
    counts = np.full(x.size, 3.0)
    for name, e in B10_LINES_KEV.items():
        particle = "alpha" if name.startswith("alpha") else None
        e_det = float(EFFECTS.detected_keV("alpha", e)) if particle else e - 40.0
        height = 1e5 if name in ("li7_840", "alpha_1472") else 7e3
        counts += height * np.exp(-0.5 * ((x - TRUE_CAL.inverse(e_det)) / 8.0) ** 2)
    triton = float(EFFECTS.detected_keV("triton", 2727.0))
    true_ch = float(TRUE_CAL.inverse(triton))
    cal = fit_b10(counts, detector=EFFECTS).calibration
    assert float(cal.inverse(triton)) == pytest.approx(true_ch, abs=0.5)
    naive = fit_b10(counts, alpha_only=True).calibration
    assert abs(float(naive.inverse(2727.0 - 0.0)) - true_ch) > 5.0


def test_the_direct_method_maps_energy_through_the_dead_layer_and_the_defect():
    """3 µm of Li metal under 0.5 µm Cu, seen through a 0.5 µm Si dead layer with a 30 keV α
    pulse-height defect (expected counts): told of both, the direct method puts the back edge at
    3 µm and the layer at Li-metal density; told of neither, the edge moves by about 2 µm."""
    import warnings

    from profile_helpers import half_crossings

    from ndp.model.invert import invert
    from ndp.model.scale import Scale
    from ndp.model.simulate import simulate
    from ndp.physics.constants import LI_METAL_ATOMS_CM3

    stack = CU(0.5) | LI(10.0, profiled=True)
    det = Detector(resolution_keV=10.0, acceptance_half_angle_deg=2.0, dead_layer_um=0.5,
                   pulse_height_defect_alpha_keV=30.0)  # fmt: skip
    cal = Calibration.from_linear(0.0, 1.0)
    scale = Scale.from_beam(1e7, 1.0, 0.1, 0.0759)
    spectra = simulate(stack, det, cal, lambda x: np.where(np.asarray(x) < 3.0, LI_METAL_ATOMS_CM3, 0.0),
                       scale=scale, n_channels=3000, live_time_s=3600.0, particles="alpha",
                       poisson=False)  # fmt: skip
    edges = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 0.05 µm step is finer than the resolution
        for told, d in (("both", det), ("neither", replace(det, dead_layer_um=0.0,
                                                            pulse_height_defect_alpha_keV=0.0))):
            out = invert(spectra, stack, d, cal, scale=scale, method="direct", particles="alpha",
                         depth_step_um=0.05, max_depth_um=6.0)  # fmt: skip
            rel, depth = out.li_density_rel.values[0], out.depth.values
            edges[told] = half_crossings(rel, depth)
            if told == "both":
                inside = (depth > 0.5) & (depth < 2.5)
                assert np.median(rel[inside]) == pytest.approx(1.0, abs=0.01)
    assert len(edges["both"]) == 1 and edges["both"][0] == pytest.approx(3.0, abs=0.05)
    assert abs(edges["neither"][0] - 3.0) > 1.0
