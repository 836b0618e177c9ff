"""A series inverted block by block into profiles.nc is the series inverted in memory.

:func:`ndp.model.stream.invert_to_netcdf` fits the same fixed blocks with the same warm starts and
λ, so every number is :func:`ndp.model.invert.invert`'s (``counts`` and ``fit`` to float32 rounding);
and it holds a few blocks at a time, so its memory does not grow with the number of frames.
"""

from __future__ import annotations

import tracemalloc
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
import xarray as xr
from profile_helpers import CAL, CU, PEO, SCALE, L, detector

from ndp.errors import NdpError
from ndp.model.forward import expected_counts
from ndp.model.invert import invert
from ndp.model.series import BLOCK_FRAMES
from ndp.model.simulate import simulate
from ndp.model.stream import FLOAT32_VARIABLES, invert_to_netcdf
from ndp.spectra.dataset import make_spectra
from ndp.synthetic import OperandoCell

# Equality is the point here, not the fit: a coarse grid against a fine truth may leave χ² > 3.
pytestmark = pytest.mark.filterwarnings("ignore::ndp.errors.NdpWarning")

STACK = CU(10.0) | PEO(20.0, profiled=True)
DET = detector(20.0, 5.0)
N_CH = 2048
KW = {"scale": SCALE, "depth_step_um": 0.5, "li_region_um": (0.0, 10.0)}


@pytest.fixture(scope="module")
def spectra():
    cell = OperandoCell(cycles=1, current_mA_cm2=0.5, plate_h=1.5, rest_h=0.5, li_efficiency=[0.7])
    truth = cell.frame_profiles(120.0, np.linspace(0.0, 20.0, 401))
    ds = simulate(STACK, DET, CAL, truth, scale=SCALE, n_channels=N_CH, live_time_s=120.0,
                  start=np.datetime64(cell.start), seed=3)  # fmt: skip
    assert ds.sizes["frame"] > 2 * BLOCK_FRAMES  # several blocks, or nothing is tested
    return ds


def _same(memory: xr.Dataset, path) -> xr.Dataset:
    """The file holds what invert returned: every variable, attribute and number."""
    with xr.open_dataset(path, engine="h5netcdf") as f:
        streamed = f.load()
    assert set(streamed.variables) == set(memory.variables)
    assert set(streamed.attrs) == set(memory.attrs)
    for name, var in memory.variables.items():
        got = streamed[name]
        assert got.dims == var.dims, name
        assert {k: str(v) for k, v in got.attrs.items()} == {k: str(v) for k, v in var.attrs.items()}, name
        if name in FLOAT32_VARIABLES:
            assert got.encoding["dtype"] == np.float32
            np.testing.assert_allclose(got.values, var.values, rtol=2**-24, atol=0, err_msg=name)
        else:
            np.testing.assert_array_equal(got.values, var.values, err_msg=name)
    for key, value in memory.attrs.items():
        assert str(np.asarray(streamed.attrs[key]).tolist()) == str(np.asarray(value).tolist()), key
    return streamed


def test_streamed_file_is_the_in_memory_result(spectra, tmp_path):
    """λ by the evidence (sampled frames, warm start of the first) and blocks on a pool."""
    memory = invert(spectra, STACK, DET, CAL, **KW)
    with ProcessPoolExecutor(max_workers=2) as pool:
        path = invert_to_netcdf(spectra, tmp_path / "profiles.nc", STACK, DET, CAL, executor=pool, **KW)
    _same(memory, path)
    assert not list(tmp_path.glob(".*part"))  # written beside, then renamed


def test_a_function_of_frames_with_background_and_flux(spectra, tmp_path):
    """A source that is no Dataset (frames on demand), a per-frame background and flux drift."""
    n = spectra.sizes["frame"]
    rng = np.random.default_rng(1)
    bkg = rng.uniform(0.0, 0.05, (n, N_CH))
    fw = 1.0 + 0.05 * np.sin(np.arange(n) / 7.0)
    kw = {**KW, "regularization": 1e-3, "flux_weights": fw}
    memory = invert(spectra, STACK, DET, CAL, background=bkg, **kw)
    asked = []

    def frames(start, stop):
        asked.append(stop - start)
        return spectra.isel(frame=slice(start, stop))

    path = invert_to_netcdf(frames, tmp_path / "p.nc", STACK, DET, CAL, n_frames=n,
                            background=lambda a, b: bkg[a:b], **kw)  # fmt: skip
    _same(memory, path)
    assert max(asked) <= BLOCK_FRAMES


def test_direct_method_streams_too(spectra, tmp_path):
    memory = invert(spectra, STACK, DET, CAL, method="direct", **KW)
    _same(memory, invert_to_netcdf(spectra, tmp_path / "d.nc", STACK, DET, CAL, method="direct", **KW))


def test_the_file_opens_lazily_chunked_along_time(spectra, tmp_path):
    import cf_xarray  # noqa: F401  (registers ds.cf)

    n = spectra.sizes["frame"]
    path = invert_to_netcdf(spectra, tmp_path / "profiles.nc", STACK, DET, CAL, regularization=1e-3, **KW)
    with xr.open_dataset(path) as ds:
        assert ds.sizes["time"] == n and ds.sizes["channel"] == N_CH
        assert ds.li_density.dims == ("time", "depth") and ds.counts.dims == ("time", "channel")
        assert ds.counts.encoding["chunksizes"] == (BLOCK_FRAMES, N_CH)
        assert ds.li_density.encoding["chunksizes"][0] == BLOCK_FRAMES
        assert ds.cf.bounds == {"time": ["time_bounds"], "depth": ["depth_bounds"]}
        assert ds.cf.standard_names["time"] == ["start"]
        np.testing.assert_array_equal(ds.start.values, spectra.start.values)
        assert np.all(np.diff(ds.time.values) > 0)


def test_bad_sources_are_refused(spectra, tmp_path):
    with pytest.raises(NdpError, match="n_frames"):
        invert_to_netcdf(lambda a, b: spectra.isel(frame=slice(a, b)), tmp_path / "x.nc", STACK, DET, CAL, **KW)
    with pytest.raises(NdpError, match="method"):
        invert_to_netcdf(spectra, tmp_path / "x.nc", STACK, DET, CAL, method="magic", **KW)
    with pytest.raises(NdpError, match="background"):
        invert_to_netcdf(spectra, tmp_path / "x.nc", STACK, DET, CAL, background=np.zeros((3, 5)),
                         regularization=1e-3, **KW)  # fmt: skip
    assert not list(tmp_path.iterdir())  # nothing left behind


def _poisson_frames(n_channels: int):
    """Frames on demand of one fixed profile (3 µm of Li metal on PEO), a seed per frame."""
    edges = np.linspace(0.0, 20.0, 201)
    mid = 0.5 * (edges[1:] + edges[:-1])
    mu = expected_counts(STACK, DET, CAL, n_channels, edges, np.where(mid < 3.0, L, 0.02 * L),
                         float(SCALE.exposure_cm2(60.0)))  # fmt: skip
    t0 = np.datetime64("2024-01-01T00:00:00", "ns")

    def frames(start, stop):
        counts = np.stack([np.random.default_rng([7, i]).poisson(mu) for i in range(start, stop)])
        starts = t0 + np.arange(start, stop) * np.timedelta64(60, "s")
        n = stop - start
        return make_spectra(counts, start=starts, live_time_s=np.full(n, 60.0), real_time_s=np.full(n, 60.0),
                            source="test", fmt="simulated")  # fmt: skip

    return frames


def test_memory_does_not_grow_with_frames(tmp_path):
    """Python-side peak (numpy reports its buffers to tracemalloc: deterministic, whatever the
    machine's load) for 6× the frames stays flat, and well below what the in-memory inversion
    holds for them."""
    frames = _poisson_frames(N_CH)
    kw = {**KW, "depth_step_um": 1.0, "regularization": 1e-3}
    # Once first: stopping tables and the like are built on first use and kept, per process.
    invert_to_netcdf(frames, tmp_path / "warm.nc", STACK, DET, CAL, n_frames=BLOCK_FRAMES, **kw)
    peaks = {}
    for n in (2 * BLOCK_FRAMES, 12 * BLOCK_FRAMES):
        tracemalloc.start()
        try:
            invert_to_netcdf(frames, tmp_path / f"{n}.nc", STACK, DET, CAL, n_frames=n, **kw)
            peaks[n] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    small, large = peaks[2 * BLOCK_FRAMES], peaks[12 * BLOCK_FRAMES]
    # invert holds counts, background and fit of every frame in float64: 3 × 6.3 MB here.
    held = 3 * 12 * BLOCK_FRAMES * N_CH * 8
    assert large < 1.2 * small, peaks
    assert large < held / 2, (peaks, held)
    with xr.open_dataset(tmp_path / f"{12 * BLOCK_FRAMES}.nc") as ds:
        assert ds.sizes["time"] == 12 * BLOCK_FRAMES
        assert bool(np.all(ds.counts.values == np.floor(ds.counts.values)))


def test_a_long_run_keeps_its_counts_on_disk_and_gives_the_same_profiles(run_dir, tmp_path, monkeypatch):
    """Past SPOOL_FILES files, ndp.run spools the counts to a file beside the output and reads
    them back a block at a time: the same profiles as from memory, and the file goes with the
    result."""
    import gc

    import ndp.pipeline as pipeline
    from ndp.spectra import io as spectra_io

    kept = pipeline.run(run_dir / "run.toml", output=tmp_path / "memory", figures=False, jobs=1)
    monkeypatch.setattr(pipeline, "SPOOL_FILES", 1)
    monkeypatch.setattr(spectra_io, "SPOOL_BLOCK_FILES", 2)
    spooled = pipeline.run(run_dir / "run.toml", output=tmp_path / "disk", figures=False, jobs=1)
    assert not isinstance(spooled.spectra.counts.variable._data, np.ndarray)  # still on disk
    np.testing.assert_array_equal(spooled.spectra.counts.values, kept.spectra.counts.values)
    for name in ("li_density", "li_capacity", "chi2_per_channel"):
        np.testing.assert_array_equal(spooled.profiles[name].values, kept.profiles[name].values)
    assert [p.name for p in tmp_path.glob(".disk.spectra.*")]
    spooled.profiles.close()
    del spooled
    gc.collect()
    assert not list(tmp_path.glob(".disk.spectra.*"))
