"""Half cycles and Coulombic efficiency."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ndp.cycling.cycles import cycles, half_cycles
from ndp.errors import NdpError


def _log(segments, dt=30.0):
    """segments: (duration_s, current_mA) pieces, logged every dt with a point at each end."""
    t0, ts, cs = 0.0, [], []
    for dur, cur in segments:
        t = np.append(np.arange(t0, t0 + dur, dt), t0 + dur)
        ts.append(t)
        cs.append(np.full(t.size, cur))
        t0 += dur
    return pd.DataFrame({"time_s": np.concatenate(ts), "current_mA": np.concatenate(cs)})


def test_plating_and_stripping_with_rests():
    log = _log([(600, 0), (3600, -0.05), (600, 0), (1800, 0.05), (600, 0), (3600, -0.05), (300, 0.0),
                (1200, -0.05), (600, 0), (2400, 0.05)])  # fmt: skip
    halves = half_cycles(log)
    assert list(halves.kind) == [
        "plate",
        "strip",
        "plate",
        "strip",
    ]  # the rest inside plating merged
    table = cycles(halves)
    np.testing.assert_allclose(table.charge_plated_mAh, [0.05, 0.05 * 4800 / 3600], rtol=1e-3)
    np.testing.assert_allclose(table.coulombic_efficiency, [0.5, 2400 / 4800], rtol=1e-3)


def test_sign_convention_and_dead_band():
    log = _log([(3600, 0.05), (1800, -0.05), (600, 0.0004)])
    halves = half_cycles(log, plating="positive")
    assert list(halves.kind) == ["plate", "strip"]  # 0.4 µA is within the dead band
    with pytest.raises(NdpError, match="'negative' or 'positive'"):
        half_cycles(log, plating="up")


def test_ce_pairs_a_cycle_with_its_own_stripping():
    """EC-Lab's efficiency pairs a charge with the next discharge; ndp pairs plating n with stripping n."""
    log = _log([(3600, -0.1), (3000, 0.1), (3600, -0.1), (3300, 0.1)])
    table = cycles(half_cycles(log))
    np.testing.assert_allclose(table.coulombic_efficiency, [3000 / 3600, 3300 / 3600], rtol=1e-3)


def test_leading_stripping_and_trailing_plating():
    table = cycles(half_cycles(_log([(600, 0.1), (3600, -0.1), (1800, 0.1), (900, -0.1)])))
    assert np.isnan(table.charge_plated_mAh.iloc[0]) and np.isnan(
        table.charge_stripped_mAh.iloc[-1]
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(120, 7200), st.sampled_from([-0.2, -0.05, 0.0, 0.05, 0.2])),
        min_size=2,
        max_size=10,
    )
)
def test_half_cycle_charges_add_up_to_the_charge_passed(segments):
    log = _log(segments)
    if not np.any(log.current_mA != 0) or np.all(log.current_mA == 0):
        return
    try:
        halves = half_cycles(log, dead_band_mA=0.01)
    except NdpError:
        return
    passed = sum(dur * abs(cur) for dur, cur in segments) / 3600
    assert halves.charge_mAh.sum() == pytest.approx(passed, rel=1e-6, abs=1e-9)
