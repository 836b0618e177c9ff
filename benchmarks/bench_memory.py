"""Peak memory of a long series; run: python benchmarks/bench_memory.py [--frames N] [--path stream]

Target (issue 13): 86,400 frames × 4096 channels inverted with peak memory < 1.5 GB, and peak
memory that does not grow with the number of frames: run ``--frames 2000`` and
``--frames 86400`` and compare. ``--path memory`` runs the in-memory :func:`ndp.model.invert.invert`
on the same frames, for comparison (it holds every frame: keep N small).

The series is the validation run's stack, detector and beam
(/work/shared/validation/cu_hse_operando/run.toml, or the same numbers here when it is absent):
a fixed profile through ndp's forward model, Poisson-sampled frame by frame from a per-frame
seed, so any frame can be generated again on its own and the series is never held whole.
The depth grid is coarser than the run's (``--depth-step-um``, default 1 µm) so a day of
frames takes minutes, not hours; memory per frame does not depend on it.

Peak RSS is ``ru_maxrss`` of this process and, with ``--jobs`` > 1, of its largest worker.

Measured (2 shared cores, 1 µm grid, 68 bins): stream 2,000 frames 370 MB in 9 s; 86,400
frames 369 MB in 376 s (631 MB file); memory path 2,000 frames 533 MB, 8,000 frames 1,496 MB.
On the run's 0.1 µm grid (674 bins) the stream holds 388 MB at 65 ms a frame.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from ndp import Material
from ndp.errors import NdpWarning
from ndp.model.forward import expected_counts
from ndp.model.scale import Scale
from ndp.parallel import executor
from ndp.physics.constants import LI_METAL_ATOMS_CM3 as L
from ndp.physics.detector import Detector
from ndp.spectra.calibration import Calibration
from ndp.spectra.dataset import make_spectra

VALIDATION = Path("/work/shared/validation/cu_hse_operando/run.toml")
N_CHANNELS = 4096
FRAME_S = 1.0
T0 = np.datetime64("2024-04-02T08:00:00", "ns")


def setup():
    """Stack, detector, calibration, scale and inventory window of the validation run."""
    if VALIDATION.is_file():
        from ndp.runfile import load_run

        cfg = load_run(VALIDATION)
        scale = Scale.from_beam(cfg.flux, cfg.area_cm2, cfg.detector.solid_angle_sr, cfg.li6_abundance)
        return cfg.stack, cfg.detector, Calibration(cfg.calibration), scale, cfg.analysis.li_region_um
    stack = Material("Cu", density=8.96)(10.0) | Material("Li", density=0.534)(70.0, profiled=True)
    det = Detector(resolution_keV=25.0, acceptance_half_angle_deg=12.0, solid_angle_sr=0.15)
    return stack, det, Calibration((-5.0, 0.75)), Scale.from_beam(1e7, 1.0, 0.15, 0.0759), (0.0, 10.0)


def expected_frame(stack, det, cal, scale) -> np.ndarray:
    """Expected counts of one frame, shape (N_CHANNELS,): 3 µm of Li metal on the surface,
    1e21 cm⁻³ below it (a plated deposit on a Li-poor host)."""
    edges = np.linspace(0.0, stack.region_thickness_um, 1401)
    mid = 0.5 * (edges[1:] + edges[:-1])
    dens = np.where(mid < 3.0, L, 1e21)
    return expected_counts(stack, det, cal, N_CHANNELS, edges, dens, float(scale.exposure_cm2(FRAME_S)))


def frame_source(expected: np.ndarray, seed: int = 0):
    """``frames(start, stop)``: Poisson frames of ``expected``, each from its own seed."""

    def frames(start: int, stop: int):
        counts = np.stack([np.random.default_rng([seed, i]).poisson(expected) for i in range(start, stop)])
        n = stop - start
        starts = T0 + (np.arange(start, stop) * FRAME_S * 1e9).astype("timedelta64[ns]")
        return make_spectra(counts, start=starts, live_time_s=np.full(n, FRAME_S), real_time_s=np.full(n, FRAME_S),
                            source="bench_memory", fmt="simulated", calibration=None)  # fmt: skip

    return frames


def peak_rss_MB() -> tuple[float, float]:
    """Peak resident memory (MB) of this process and of its largest finished child."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return own, kids


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--path", choices=("stream", "memory"), default="stream")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (0: every core)")
    ap.add_argument("--depth-step-um", type=float, default=1.0)
    ap.add_argument("--regularization", default="evidence", help='"evidence" or a relative λ')
    ap.add_argument("--output", type=Path, help="profiles.nc to write (default: a temporary file)")
    args = ap.parse_args()
    warnings.simplefilter("ignore", NdpWarning)
    stack, det, cal, scale, window = setup()
    expected = expected_frame(stack, det, cal, scale)
    frames = frame_source(expected)
    reg = args.regularization if args.regularization == "evidence" else float(args.regularization)
    kw = {"scale": scale, "depth_step_um": args.depth_step_um, "li_region_um": window, "regularization": reg}
    before, _ = peak_rss_MB()
    t = time.perf_counter()
    last = [0.0]

    def progress(done: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 30.0 or done == args.frames:
            last[0] = now
            print(f"  {done}/{args.frames} frames, {now - t:.0f} s, peak RSS {peak_rss_MB()[0]:.0f} MB",
                  file=sys.stderr, flush=True)  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp, executor(args.jobs) as pool:
        out = args.output or Path(tmp) / "profiles.nc"
        if args.path == "stream":
            from ndp.model.stream import invert_to_netcdf

            invert_to_netcdf(frames, out, stack, det, cal, n_frames=args.frames, executor=pool, progress=progress, **kw)
        else:
            from ndp.model.invert import invert

            spectra = frames(0, args.frames)
            spectra.attrs["calibration"] = list(cal.coefficients)
            profiles = invert(spectra, stack, det, cal, executor=pool, progress=progress, **kw)
            profiles.to_netcdf(out, engine="h5netcdf")
            del spectra, profiles
        elapsed = time.perf_counter() - t
        size_MB = out.stat().st_size / 1e6
        import xarray as xr

        with xr.open_dataset(out, engine="h5netcdf") as ds:
            shape = {k: int(v) for k, v in ds.sizes.items()}
            capacity = float(ds.li_capacity[-1])
    own, kids = peak_rss_MB()
    print(json.dumps({
        "path": args.path, "frames": args.frames, "channels": N_CHANNELS, "jobs": args.jobs,
        "depth_step_um": args.depth_step_um, "seconds": round(elapsed, 1),
        "ms_per_frame": round(1e3 * elapsed / args.frames, 2), "peak_rss_MB": round(own, 1),
        # Without workers the children's figure is a forked helper's copy of this process: none.
        "peak_rss_worker_MB": round(kids, 1) if args.jobs != 1 else None, "rss_after_setup_MB": round(before, 1),
        "file_MB": round(size_MB, 1), "sizes": shape, "last_li_capacity_mAh_cm2": capacity,
    }))  # fmt: skip
    return 0 if max(own, kids if args.jobs != 1 else 0.0) < 1500.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
