"""Speed of the physics core (issue "Physics core"); run: python benchmarks/bench_physics.py

Targets on 2 cores:
- energy ↔ depth map of a 3-layer stack at 4096 channels × 20 angles: < 50 ms;
- 10⁶ stopping look-ups: < 50 ms.
Each case is timed best-of-N after a warm-up, so that one-off compilation (building the stopping
curves, cached per material) is reported separately.
"""

from __future__ import annotations

import time

import numpy as np

from ndp import Material
from ndp.kinematics import depth_from_energy, detected_energy, energy_slope


def best_of(fn, n=20):
    fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), float(np.median(times))


def main() -> int:
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
