"""Speed of the physics core (issue "Physics core"); run: python benchmarks/bench_physics.py

``--straggling`` prints instead, for α and triton behind Cu windows, ndp's surface edge (energy
after the window at normal emission) and its width (straggling σ) with each straggling model,
beside pycatima's (CATIMA 1.7, its default ATIMA straggling), as in the closing note of issue 11.
``--cone`` prints, for tritons behind 10 µm Cu, the collimator's quadrature nodes and the edge
(half height of a uniform profile's spectrum) with them, with twice as many, and folded as a
Gaussian, beside the mode of the surface line.

Targets on 2 cores:
- energy ↔ depth map of a 3-layer stack at 4096 channels × 20 angles: < 50 ms;
- 10⁶ stopping look-ups: < 50 ms.
Each case is timed best-of-N after a warm-up, so that one-off compilation (building the stopping
curves, cached per material) is reported separately.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from ndp import Material
from ndp.physics.kinematics import depth_from_energy, detected_energy, energy_slope


def best_of(fn, n=20):
    fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), float(np.median(times))


def straggling_table(thicknesses_um=(0.5, 2.0, 10.0)) -> list[dict]:
    """Rows of (particle, Cu µm, model, ndp and pycatima edge keV and σ keV)."""
    import pycatima

    from ndp.physics.kinematics import detected_energy
    from ndp.physics.resolution import straggling_variance
    from ndp.physics.stopping import get_particle
    from ndp.physics.straggling import MODELS

    cu, li = Material("Cu"), Material("Li")
    rows = []
    for name in ("alpha", "triton"):
        p = get_particle(name)
        for t in thicknesses_um:
            proj = pycatima.Projectile(p.mass_u, p.z)
            proj.T(p.energy_keV / 1e3 / p.mass_u)  # MeV/u
            mat = pycatima.Material()
            mat.add_element(63.546, 29, 1)
            mat.density(8.96)
            mat.thickness_cm(t * 1e-4)
            ref = pycatima.calculate(proj, mat).get_dict()
            # CATIMA gives Eout and sigma_E per mass unit (MeV/u).
            e_ref, s_ref = ref["Eout"] * p.mass_u * 1e3, ref["sigma_E"] * p.mass_u * 1e3
            cs = (cu(t) | li(10.0, profiled=True)).to_array(name)
            e = float(detected_energy(cs, 0.0))
            for model in MODELS:
                var = float(straggling_variance(cs, [0.0], model=model)[0])
                rows.append(dict(particle=name, cu_um=t, model=model, edge_keV=e,
                                 sigma_keV=float(np.sqrt(var)) if e > 0 else float("nan"),
                                 catima_edge_keV=e_ref, catima_sigma_keV=s_ref))  # fmt: skip
    return rows


def print_straggling_table() -> int:
    print(f"{'particle':8s} {'Cu um':>6s} {'model':17s} {'edge keV':>9s} {'catima':>8s} "
          f"{'sigma keV':>9s} {'catima':>7s} {'ratio':>6s}")  # fmt: skip
    for r in straggling_table():
        ratio = (
            r["sigma_keV"] / r["catima_sigma_keV"] if r["catima_sigma_keV"] > 0 else float("nan")
        )
        print(f"{r['particle']:8s} {r['cu_um']:6g} {r['model']:17s} {r['edge_keV']:9.1f} "
              f"{r['catima_edge_keV']:8.1f} {r['sigma_keV']:9.2f} {r['catima_sigma_keV']:7.2f} "
              f"{ratio:6.3f}")  # fmt: skip
    return 0


def print_cone_table() -> int:
    """Triton behind 10 µm Cu: the cone's node count, and the edge with doubled nodes."""
    from dataclasses import replace

    from ndp.model.forward import _cone_nodes, _response, response_matrix
    from ndp.physics.detector import Detector
    from ndp.spectra.calibration import Calibration

    cal = Calibration.from_linear(0.0, 0.5)
    energy = cal(np.arange(6000))
    stack = Material("Cu")(10.0) | Material("Li")(60.0, profiled=True)
    edges = np.linspace(0.0, 60.0, 601)
    centres = 0.5 * (edges[1:] + edges[:-1])

    def edge(spectrum):
        half = spectrum.max() / 2
        i = int(np.flatnonzero(spectrum >= half)[-1])
        f = (spectrum[i] - half) / (spectrum[i] - spectrum[i + 1])
        return energy[i] + f * (energy[i + 1] - energy[i])

    print(f"{'half-angle':>10s} {'nodes':>5s} {'edge keV':>9s} {'2x nodes':>9s} {'gaussian':>9s} "
          f"{'surface mode':>12s} {'(gaussian)':>10s} {'build s':>8s}")  # fmt: skip
    for angle in (5.0, 12.0, 15.0, 20.0):
        det = Detector(resolution_keV=20.0, acceptance_half_angle_deg=angle)
        n = _cone_nodes(stack.to_array("triton"), centres, det, (20.0 / 2.3548) ** 2)[0].size
        _response.cache_clear()
        t = time.perf_counter()
        r = response_matrix(stack, "triton", det, cal, 6000, edges)
        dt = time.perf_counter() - t
        r2 = response_matrix(stack, "triton", replace(det, cone_nodes=2 * n), cal, 6000, edges)
        g = response_matrix(stack, "triton", replace(det, cone="gaussian"), cal, 6000, edges)
        print(f"{angle:10g} {n:5d} {edge(r.sum(1)):9.2f} {edge(r2.sum(1)):9.2f} "
              f"{edge(g.sum(1)):9.2f} {energy[np.argmax(r[:, 0])]:12.1f} "
              f"{energy[np.argmax(g[:, 0])]:10.1f} {dt:8.2f}")  # fmt: skip
    return 0


def main() -> int:
    if "--straggling" in sys.argv[1:]:
        return print_straggling_table()
    if "--cone" in sys.argv[1:]:
        return print_cone_table()
    rng = np.random.default_rng(0)
    cu, zno, li = Material("Cu"), Material("ZnO"), Material("Li")
    stack = zno(0.1) | cu(0.5) | li(30.0, profiled=True)

    t = time.perf_counter()
    cs = stack.to_array("alpha")
    compile_ms = (time.perf_counter() - t) * 1e3

    energies = np.linspace(100.0, 1800.0, 4096)[:, None]
    cos = np.linspace(np.cos(np.radians(10)), 1.0, 20)[None, :]
    depth = np.linspace(0, 20, 4096)[:, None]
    curve = li.curve("alpha")
    e6 = rng.uniform(1.0, 2727.0, 1_000_000)

    cases = [
        (
            "depth(E) map, 3 layers, 4096 ch x 20 angles",
            lambda: depth_from_energy(cs, energies, cos),
            50,
        ),
        ("E_det(x) map, 3 layers, 4096 x 20", lambda: detected_energy(cs, depth, cos), 50),
        ("dE/dx map, 3 layers, 4096 x 20", lambda: energy_slope(cs, depth, cos), 50),
        ("1e6 stopping look-ups (total S)", lambda: curve.stopping(e6), 50),
        ("1e6 look-ups, electronic + nuclear", lambda: li.stopping("alpha", e6), 100),
    ]
    print(f"compile stack (3 materials, first time): {compile_ms:.1f} ms")
    print(f"{'case':50s} {'best ms':>8s} {'median':>8s} {'target':>7s}")
    ok = True
    for name, fn, target in cases:
        best, med = best_of(fn)
        passed = best * 1e3 < target
        ok &= passed
        print(
            f"{name:50s} {best * 1e3:8.2f} {med * 1e3:8.2f} {target:6d}  {'ok' if passed else 'SLOW'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
