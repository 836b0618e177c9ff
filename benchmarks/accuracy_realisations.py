"""Li efficiency over noise realisations of the validation scenario, made by the independent simulator.

One realisation (the shared validation run) cannot tell a bias from a fluctuation: this script
makes ``--seeds`` fresh realisations of the same cell (Cu 10 µm | Li deposit | hybrid solid
electrolyte, four cycles at Li efficiency 0.55, 600 s frames) with ``tests/independent`` — the
simulator that shares no code with ndp — runs ``ndp.run`` on each and prints, per cycle, the
deviation from the truth, ndp's own 1σ and their ratio. Honest errors give a mean deviation
near 0 and an rms ratio near 1; the fraction of cycles beyond 2 pp then follows from σ alone.

Usage::

    python benchmarks/accuracy_realisations.py [--layer li|hse] [--seeds 6] [--first 1]

``--layer li`` declares everything behind the Cu as Li metal (the validation ``run.toml``),
``hse`` the electrolyte with the self-consistent matrix (``run_hse.toml``). About 10 s a seed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from independent import simulator as sim

from ndp.errors import NdpWarning
from ndp.pipeline import run


def realisation(layer: str, seed: int, folder: Path) -> list[tuple[float, float]]:
    """(deviation, ndp's 1σ) of the Li efficiency for each cycle of one realisation."""
    made = sim.simulate_operando(folder / f"{layer}-{seed}", profiled_layer=layer, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NdpWarning)
        result = run(made["run_toml"], output=folder / f"{layer}-{seed}-out", figures=False)
    rows = result.cycles.itertuples()
    return [
        (row.li_efficiency - truth["li_efficiency"], row.li_efficiency_err)
        for row, truth in zip(rows, made["truth"]["cycles"], strict=True)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", choices=("li", "hse"), default="hse")
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--first", type=int, default=1)
    args = parser.parse_args()
    found = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.first, args.first + args.seeds):
            for cycle, (dev, err) in enumerate(realisation(args.layer, seed, Path(tmp)), 1):
                found.append((dev, err))
                print(f"seed {seed} cycle {cycle}: {100 * dev:+.2f} pp, 1σ {100 * err:.2f} pp, "
                      f"z {dev / err:+.2f}", flush=True)
    dev, err = np.array(found).T
    print(f"\n{len(dev)} cycles ({args.layer}): mean {100 * dev.mean():+.2f} pp, "
          f"rms {100 * np.sqrt(np.mean(dev**2)):.2f} pp, mean 1σ {100 * err.mean():.2f} pp, "
          f"rms z {np.sqrt(np.mean((dev / err) ** 2)):.2f}, "
          f"beyond 2 pp: {np.sum(np.abs(dev) > 0.02)}/{len(dev)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
