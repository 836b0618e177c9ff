"""Speed and memory of "Spectra in"; run: python benchmarks/bench_spectra.py [--events N]

Targets on 2 cores:
- list-mode histogramming throughput ≥ 0.5 × numpy.bincount on the same events, same run;
- reading 1000 ORTEC .Spe files of 4096 channels: < 2 s;
- peak memory while framing a 2×10⁸-event file: < 1 GB (measured in a child process).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from ndp.spectra.dataset import make_spectra
from ndp.spectra.framing import frame_events
from ndp.spectra.io import read_spectra, spe
from ndp.spectra.io.listmode import EventChunk

CHILD = """
import sys, time
from ndp.spectra.framing import frame_events
from ndp.spectra.io.listmode import iter_events
t = time.perf_counter()
ds = frame_events(iter_events(sys.argv[1], reuse=True), frame_s=600.0, n_channels=4096)
dt = time.perf_counter() - t
# VmHWM is this process's own peak; ru_maxrss would include the parent's, inherited at fork.
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(int(ds.counts.sum()), ds.sizes["frame"], dt, hwm)
"""


def write_big_npz(path: Path, n: int, chunk: int = 1 << 24) -> None:
    """A list-mode NPZ written chunk by chunk (the benchmark itself must not need n events in RAM)."""
    rng = np.random.default_rng(0)
    span = 36_000.0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, dtype in (("time", "<f8"), ("channel", "<u2")):
            with zf.open(f"{name}.npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array_header_1_0(
                    fh, {"descr": dtype, "fortran_order": False, "shape": (n,)}
                )
                for i in range(0, n, chunk):
                    m = min(chunk, n - i)
                    if name == "time":
                        block = np.linspace(i, i + m, m, endpoint=False) * (span / n)
                    else:
                        block = rng.integers(0, 4096, m)
                    fh.write(block.astype(dtype).tobytes())


def bench_throughput(n=20_000_000, chunk=1 << 22):
    rng = np.random.default_rng(1)
    t = np.sort(rng.uniform(0, 36_000, n))
    c = rng.integers(0, 4096, n)
    # One detector, as a single-detector file yields it (detector=None).
    chunks = [EventChunk(t[i : i + chunk], c[i : i + chunk], None, i) for i in range(0, n, chunk)]
    best_b = best_f = np.inf
    for _ in range(3):
        s = time.perf_counter()
        np.bincount(c, minlength=4096)
        best_b = min(best_b, time.perf_counter() - s)
        s = time.perf_counter()
        frame_events(chunks, frame_s=600.0, n_channels=4096)
        best_f = min(best_f, time.perf_counter() - s)
    return n / best_f / 1e6, n / best_b / 1e6, best_b / best_f


def bench_spe(n_files=1000):
    with tempfile.TemporaryDirectory() as d:
        rng = np.random.default_rng(2)
        for i in range(n_files):
            ds = make_spectra(rng.poisson(30, 4096), start=[np.datetime64("2020-01-01") + np.timedelta64(600 * i, "s")],
                              live_time_s=599.0, real_time_s=600.0, source="x", fmt="t")  # fmt: skip
            spe.write(Path(d) / f"f{i:04d}.Spe", ds)
        files = sorted(Path(d).glob("*.Spe"))
        s = time.perf_counter()
        out = read_spectra(files)
        dt = time.perf_counter() - s
        assert out.sizes["frame"] == n_files
    return dt


def bench_memory(n_events: int):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "events.npz"
        s = time.perf_counter()
        write_big_npz(path, n_events)
        write_s = time.perf_counter() - s
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
        )
        total, _frames, dt, maxrss_kb = out.stdout.split()
        assert int(total) == n_events
        return (
            write_s,
            float(dt),
            int(maxrss_kb) / 1024,
            path.stat().st_size if path.exists() else 0,
        )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--events", type=float, default=2e8, help="events in the memory test (default 2e8)"
    )
    args = ap.parse_args()
    ok = True
    mev_f, mev_b, ratio = bench_throughput()
    print(
        f"framing throughput {mev_f:.0f} Mevents/s, numpy.bincount {mev_b:.0f} Mevents/s: ratio {ratio:.2f} (target >= 0.5) {'ok' if ratio >= 0.5 else 'SLOW'}"
    )
    ok &= ratio >= 0.5
    dt = bench_spe()
    print(
        f"read 1000 .Spe files x 4096 channels: {dt:.2f} s (target < 2 s) {'ok' if dt < 2 else 'SLOW'}"
    )
    ok &= dt < 2
    n = int(args.events)
    write_s, frame_s, peak_mb, _ = bench_memory(n)
    print(
        f"frame {n:.1e} events from NPZ: {frame_s:.1f} s ({n / frame_s / 1e6:.0f} Mevents/s), peak memory {peak_mb:.0f} MB (target < 1024 MB) {'ok' if peak_mb < 1024 else 'TOO MUCH'}; writing the file took {write_s:.1f} s"
    )
    ok &= peak_mb < 1024
    print(
        f"(this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB peak)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
