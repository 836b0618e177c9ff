"""A series inverted on many cores is the series inverted on one.

The frames are fitted in fixed blocks, each warm-started on its own, so the partition — and so
every number — does not depend on where or how many blocks run at once.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest
from profile_helpers import CAL, CU, PEO, SCALE, detector

from ndp.errors import NdpError
from ndp.model.invert import invert
from ndp.model.series import BLOCK_FRAMES
from ndp.model.simulate import simulate
from ndp.parallel import available_cores, executor
from ndp.synthetic import OperandoCell

# Equality is the point here, not the fit: a coarse grid against a fine truth may leave χ² > 3.
pytestmark = pytest.mark.filterwarnings("ignore::ndp.errors.NdpWarning")



@pytest.fixture(scope="module")
def series():
    cell = OperandoCell(cycles=1, current_mA_cm2=0.5, plate_h=2.0, rest_h=0.5, li_efficiency=[0.7])
    frame_s = 120.0
    stack = CU(10.0) | PEO(20.0, profiled=True)
    det = detector(20.0, 5.0)
    truth = cell.frame_profiles(frame_s, np.linspace(0.0, 20.0, 401))
    spectra = simulate(stack, det, CAL, truth, scale=SCALE, n_channels=2048, live_time_s=frame_s,
                       start=np.datetime64(cell.start), seed=3)  # fmt: skip
    assert spectra.sizes["frame"] > BLOCK_FRAMES  # more than one block, or nothing is tested
    kwargs = {"scale": SCALE, "depth_step_um": 0.5, "li_region_um": (0.0, 10.0), "regularization": 1e-3}
    return spectra, stack, det, kwargs


def _same(a, b, rtol=0.0):
    for var in ("li_density", "li_density_err", "li_areal", "li_areal_err", "fit", "converged"):
        np.testing.assert_allclose(a[var].values, b[var].values, rtol=rtol, atol=0, err_msg=var)


def test_a_pool_of_processes_gives_the_same_profiles(series):
    spectra, stack, det, kwargs = series
    alone = invert(spectra, stack, det, CAL, **kwargs)
    with ProcessPoolExecutor(max_workers=2) as pool:
        pooled = invert(spectra, stack, det, CAL, executor=pool, **kwargs)
    _same(alone, pooled)
    assert bool(alone.converged.all())


def test_blocks_finishing_out_of_order_land_in_their_frames(series):
    spectra, stack, det, kwargs = series
    done = []
    with ThreadPoolExecutor(max_workers=3) as pool:
        threaded = invert(spectra, stack, det, CAL, executor=pool, progress=done.append, **kwargs)
    # Threads share one BLAS thread limit (process-wide), which may switch under a running
    # block: the last bits may differ, nothing more.
    _same(invert(spectra, stack, det, CAL, **kwargs), threaded, rtol=1e-9)
    assert done[-1] == spectra.sizes["frame"] and done == sorted(done)


def test_executor_choices():
    with executor(1) as ex:
        assert ex is None
    with executor(2) as ex:
        assert isinstance(ex, ProcessPoolExecutor)
    assert available_cores() >= 1
    with pytest.raises(NdpError, match="--jobs"), executor(-1):
        pass


def test_a_dask_cluster_gives_the_same_profiles(series):
    """``ndp run --scheduler ADDRESS``: the blocks run on a dask.distributed cluster."""
    distributed = pytest.importorskip("distributed")
    spectra, stack, det, kwargs = series
    alone = invert(spectra, stack, det, CAL, **kwargs)
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
    with cluster, executor(scheduler=cluster.scheduler_address) as ex:
        on_dask = invert(spectra, stack, det, CAL, executor=ex, **kwargs)
    _same(alone, on_dask)


def test_no_scheduler_at_an_address_is_one_line():
    pytest.importorskip("distributed")
    with pytest.raises(NdpError, match="no dask scheduler answers"), executor(scheduler="tcp://127.0.0.1:9", timeout_s=1):
        pass
