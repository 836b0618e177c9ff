"""Speed of "Depth profiles"; run: python benchmarks/bench_profiles.py [--frames N]

Targets on 2 cores:
- response matrices for 4096 channels × 1000 depth bins × 2 particles built in < 1 s;
- inversion of one frame < 0.2 s;
- a 1000-frame series < 60 s;
- the series on every core: >= 0.85x the number of cores faster than on one.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import xarray as xr

from ndp import Material
from ndp.model.forward import _response, response_matrix
from ndp.model.invert import fit_instrument, invert
from ndp.model.scale import Scale
from ndp.model.simulate import simulate
from ndp.parallel import available_cores, executor
from ndp.physics.constants import LI_METAL_ATOMS_CM3 as L
from ndp.physics.detector import Detector
from ndp.spectra.calibration import Calibration


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=1000)
    args = ap.parse_args()
    ok = True
    cal = Calibration.from_linear(0.0, 0.75)

    # Response matrices: thin window, both particles, 1000 bins over 30 µm of Li.
    thin = Material("Cu")(0.5) | Material("Li")(30.0, profiled=True)
    det = Detector(resolution_keV=15.0, acceptance_half_angle_deg=3.0)
    edges = np.linspace(0.0, 30.0, 1001)
    thin.to_array("alpha"), thin.to_array("triton")  # stopping curves: compiled once per material
    _response.cache_clear()
    t = time.perf_counter()
    for p in ("alpha", "triton"):
        response_matrix(thin, p, det, cal, 4096, edges)
    dt = time.perf_counter() - t
    ok &= dt < 1.0
    print(
        f"response matrices 4096 ch x 1000 bins x 2 particles: {dt:.2f} s (target < 1 s) {'ok' if dt < 1 else 'SLOW'}"
    )

    # One frame, α + triton, 0.05 µm bins over 8 µm.
    scale = Scale.from_beam(1e9, 1.0, 1e-2)
    sp = simulate(
        thin, det, cal, lambda x: np.where(x < 3.0, L, 0.0), scale=scale, live_time_s=3600, seed=1
    )
    invert(sp, thin, det, scale=scale, depth_step_um=0.05, max_depth_um=8.0)  # builds the matrices
    best = min(
        _timed(lambda: invert(sp, thin, det, scale=scale, depth_step_um=0.05, max_depth_um=8.0))
        for _ in range(3)
    )
    ok &= best < 0.2
    print(
        f"one frame, alpha + triton, 160 bins: {best * 1e3:.0f} ms (target < 200 ms) {'ok' if best < 0.2 else 'SLOW'}"
    )

    # A series: triton-only operando cell (10 µm Cu | hybrid electrolyte), a deposit growing.
    stack = Material("Cu")(10.0) | Material("PEO")(40.0, profiled=True)
    det2 = Detector(resolution_keV=20.0, acceptance_half_angle_deg=5.0)
    scale2 = Scale.from_beam(1e8, 1.0, 1e-2)
    n = args.frames
    thick = 0.5 + 7.5 * (0.5 - 0.5 * np.cos(np.linspace(0, 6 * np.pi, n)))
    depth = np.linspace(0, 40, 2001)
    truth = xr.DataArray(np.where(depth[None, :] < thick[:, None], L, 0.02 * L), dims=("frame", "depth"),
                         coords={"depth": depth})  # fmt: skip
    sp2 = simulate(stack, det2, cal, truth, scale=scale2, live_time_s=600, seed=5)
    t = time.perf_counter()
    inst = fit_instrument(sp2, stack, det2, scale=scale2, depth_step_um=0.2)
    t_inst = time.perf_counter() - t
    print(f"instrument fit on the summed {n} frames: {t_inst:.1f} s ({inst.evaluations} evaluations; "
          f"window x{inst.instrument.window_scale:.4f}, width x{inst.instrument.width_scale:.3f})")
    series = {}
    for jobs in (1, available_cores()) if available_cores() > 1 else (1,):
        with executor(jobs) as pool:
            t = time.perf_counter()
            out = invert(sp2, stack, det2, scale=scale2, depth_step_um=0.2, li_region_um=(0, 20),
                         instrument=inst.instrument, executor=pool)  # fmt: skip
            series[jobs] = time.perf_counter() - t
        dt = series[jobs] + t_inst
        ok &= dt < 60 * n / 1000
        print(f"{n}-frame series on {jobs} core(s) with the instrument fit, triton-only, {out.sizes['depth']} bins: "
              f"{dt:.1f} s ({dt / n * 1e3:.1f} ms/frame; target < 60 s per 1000) {'ok' if dt < 60 * n / 1000 else 'SLOW'}")  # fmt: skip
    if len(series) > 1:
        jobs = max(series)
        speedup = series[1] / series[jobs]
        print(f"series speed-up on {jobs} cores: {speedup:.2f}x (target >= {0.85 * jobs:.2f}x, i.e. 1.7x on 2 cores)")
    return 0 if ok else 1


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    raise SystemExit(main())
