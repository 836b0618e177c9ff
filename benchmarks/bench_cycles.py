"""Speed of the cycler path; run: python benchmarks/bench_cycles.py

Target on 2 cores: a 10⁶-row log parsed and split into cycles in under 3 s.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ndp.cycling.cycler import read_cycler
from ndp.cycling.cycles import cycles, half_cycles


def main() -> int:
    n = 1_000_000
    t = np.arange(n) * 1.0
    i = np.where((t // 14_400) % 2 == 0, -0.05, 0.05)  # 4 h half cycles, 1 s logging
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "log.csv"
        pd.DataFrame({"Test_Time(s)": t, "Current(A)": i / 1e3, "Voltage(V)": 0.1 + 0.01 * np.sign(i),
                      "Cycle_Index": t // 28_800 + 1}).to_csv(p, index=False)  # fmt: skip
        s = time.perf_counter()
        log = read_cycler(p)
        t_read = time.perf_counter() - s
        s = time.perf_counter()
        table = cycles(half_cycles(log))
        t_split = time.perf_counter() - s
    total = t_read + t_split
    print(f"10^6-row CSV: read {t_read:.2f} s, split into {len(table)} cycles {t_split:.2f} s, total {total:.2f} s "
          f"(target < 3 s) {'ok' if total < 3 else 'SLOW'}")  # fmt: skip
    return 0 if total < 3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
