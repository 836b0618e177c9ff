"""List-mode framing: exact equality with numpy.histogram, streaming, detectors, formats."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ndp.describe import describe
from ndp.errors import FileFormatError, NdpError
from ndp.spectra.framing import frame_events
from ndp.spectra.io.listmode import EventChunk, iter_events, listmode_start, write_npz


def _events(n, seed, t_max=1000.0, n_ch=256, n_det=1):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, t_max, n))
    return t, rng.integers(0, n_ch, n), rng.integers(0, n_det, n)


def _chunks(t, c, d, size):
    for i in range(0, t.size, size):
        yield EventChunk(t[i : i + size], c[i : i + size], d[i : i + size], i)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 3000), seed=st.integers(0, 10_000), frame=st.floats(7.0, 400.0),
    chunk=st.integers(1, 5000),
)  # fmt: skip
def test_frames_equal_numpy_histogram_exactly(n, seed, frame, chunk):
    t, c, d = _events(n, seed)
    ds = frame_events(_chunks(t, c, d, chunk), frame_s=frame, n_channels=256)
    idx = np.floor(t / frame).astype(int)
    assert ds.sizes["frame"] == idx.max() + 1
    for k in range(ds.sizes["frame"]):
        expected, _ = np.histogram(c[idx == k], bins=np.arange(257))
        np.testing.assert_array_equal(ds.counts.values[k], expected)
    assert int(ds.counts.sum()) == n  # no event lost or counted twice


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    cuts=st.lists(st.floats(1.0, 999.0), min_size=1, max_size=8, unique=True),
)
def test_frames_at_given_boundaries(seed, cuts):
    t, c, d = _events(2000, seed)
    edges = np.array(sorted([0.0, *cuts, 1000.0]))
    ds = frame_events(_chunks(t, c, d, 333), boundaries_s=edges, n_channels=256)
    for k in range(edges.size - 1):
        sel = (t >= edges[k]) & (t < edges[k + 1])
        np.testing.assert_array_equal(ds.counts.values[k], np.bincount(c[sel], minlength=256))
    np.testing.assert_allclose(ds.real_time_s.values, np.diff(edges))


def test_detectors_kept_apart_or_summed():
    t, c, d = _events(5000, 1, n_det=2)
    sep = frame_events(_chunks(t, c, d, 1000), frame_s=250, n_channels=256, detectors="separate")
    tot = frame_events(_chunks(t, c, d, 1000), frame_s=250, n_channels=256)
    assert sep.sizes["frame"] == 2 * tot.sizes["frame"]
    assert set(sep.detector.values) == {"0", "1"}
    summed = sep.counts.values.reshape(2, -1, 256).sum(axis=0)
    np.testing.assert_array_equal(summed, tot.counts.values)
    for det in (0, 1):
        frames = sep.counts.values[sep.detector.values == str(det)]
        assert frames.sum() == np.sum(d == det)


def test_npz_streams_in_chunks_and_keeps_the_start(tmp_path):
    t, c, _ = _events(10_000, 2)
    write_npz(tmp_path / "ev.npz", t, c.astype(np.uint16), start_time="2020-03-01T09:00:00")
    chunks = list(iter_events(tmp_path / "ev.npz", chunk=999))
    assert len(chunks) == 11 and all(ch.time_s.size <= 999 for ch in chunks)
    start = listmode_start(tmp_path / "ev.npz")
    ds = frame_events(
        iter_events(tmp_path / "ev.npz", chunk=999), frame_s=100.0, n_channels=256, start=start
    )
    assert ds.start.values[1] == np.datetime64("2020-03-01T09:01:40")
    assert int(ds.counts.sum()) == 10_000


def test_compass_csv(tmp_path):
    t, c, d = _events(500, 4, n_det=2)
    lines = ["BOARD;CHANNEL;TIMETAG;ENERGY;ENERGYSHORT;FLAGS"]
    lines += [
        f"0;{di};{round(ti * 1e12)};{ci};0;0x4000" for ti, ci, di in zip(t, c, d, strict=True)
    ]
    path = tmp_path / "compass.csv"
    path.write_text("\n".join(lines) + "\n")
    ds = frame_events(
        iter_events(path, chunk=64), frame_s=100.0, n_channels=256, detectors="separate"
    )
    assert set(ds.detector.values) == {"0", "1"}
    assert int(ds.counts.sum()) == 500
    info = describe(path)
    assert info["format"] == "compass-csv" and info["events"] == 500


def test_hdf5_and_parquet(tmp_path):
    t, c, _ = _events(3000, 5)
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "ev.h5", "w") as h5:
        h5["events/time"] = t
        h5["events/channel"] = c
        h5.attrs["start_time"] = "2020-03-01T09:00:00"
    ds = frame_events(iter_events(tmp_path / "ev.h5", chunk=700), frame_s=50.0, n_channels=256)
    assert int(ds.counts.sum()) == 3000
    assert listmode_start(tmp_path / "ev.h5") == np.datetime64("2020-03-01T09:00:00")
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"time": t, "channel": c}), tmp_path / "ev.parquet")
    dp = frame_events(iter_events(tmp_path / "ev.parquet", chunk=700), frame_s=50.0, n_channels=256)
    np.testing.assert_array_equal(dp.counts.values, ds.counts.values)


def test_time_going_backwards():
    t = np.array([1.0, 2.0, 3.0, 2.5, 4.0])
    c = np.zeros(5, dtype=int)
    with pytest.raises(FileFormatError, match=r"event 3: time goes backwards"):
        frame_events(_chunks(t, c, c, 2), frame_s=1.0, n_channels=4, source="ev.npz")


def test_bad_arguments():
    t, c, d = _events(10, 0)
    with pytest.raises(NdpError, match="exactly one of frame_s or boundaries_s"):
        frame_events(_chunks(t, c, d, 5), n_channels=256)
    with pytest.raises(NdpError, match="increasing"):
        frame_events(_chunks(t, c, d, 5), boundaries_s=[0, 5, 3])
    with pytest.raises(FileFormatError, match="expected 0 <= channel < n_channels 8"):
        frame_events(_chunks(t, c, d, 5), frame_s=10.0, n_channels=8)
