"""Spectrum readers: round trips through every text format, detection by content, stacking."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from spectra_helpers import spectra

from ndp.errors import FileFormatError, NdpError
from ndp.spectra.io import (
    chn,
    describe,
    detect,
    expand,
    lynx,
    mca,
    n42,
    read,
    read_spectra,
    spe,
    text,
)


def _same_frame(a, b, frame, *, times=True, calibration=True):
    np.testing.assert_array_equal(a.counts.values[0], b.counts.values[frame])
    if times:
        assert a.live_time_s.values[0] == b.live_time_s.values[frame]
        assert a.real_time_s.values[0] == b.real_time_s.values[frame]
        assert a.start.values[0] == b.start.values[frame]
    if calibration:
        np.testing.assert_allclose(
            a.attrs["calibration"][:2], b.attrs["calibration"][:2], rtol=1e-9
        )


@pytest.mark.parametrize(
    ("module", "ext", "times", "calibration"),
    [(spe, "Spe", True, True), (mca, "mca", True, True), (lynx, "txt", True, False),
     (text, "csv", True, True), (chn, "Chn", True, True)],
    ids=["spe", "mca", "lynx", "csv", "chn"],
)  # fmt: skip
def test_write_then_read_is_identical(tmp_path, module, ext, times, calibration):
    ds = spectra(live=(598.26, 597.5, 599.0))  # .Chn keeps 20 ms ticks: 598.26 is one
    for frame in range(ds.sizes["frame"]):
        path = tmp_path / f"f{frame}.{ext}"
        module.write(path, ds, frame)
        back = read(path)
        assert back.attrs["format"] == module.read(path).attrs["format"]
        _same_frame(back, ds, frame, times=times, calibration=calibration)


def test_n42_holds_every_frame(tmp_path):
    ds = spectra()
    n42.write(tmp_path / "all.n42", ds)
    back = read(tmp_path / "all.n42")
    np.testing.assert_array_equal(back.counts.values, ds.counts.values)
    np.testing.assert_array_equal(back.live_time_s.values, ds.live_time_s.values)
    np.testing.assert_array_equal(back.start.values, ds.start.values)
    assert back.attrs["calibration"] == [-10.0, 0.75]


def test_plain_one_column_text(tmp_path):
    ds = spectra(n_frames=1)
    text.write(tmp_path / "a.dat", ds, columns=1)
    back = read(tmp_path / "a.dat", live_time_s=100.0)
    np.testing.assert_array_equal(back.counts.values, ds.counts.values)
    assert back.live_time_s.values[0] == 100.0


def test_lynx_monitor_round_trip(tmp_path):
    ds = spectra(monitor=[1e4, 2e4, 3e4])
    lynx.write(tmp_path / "m.txt", ds, 2)
    assert read(tmp_path / "m.txt").monitor.values[0] == 3e4


def test_detection_goes_by_content_not_extension(tmp_path):
    ds = spectra(n_frames=1)
    for module, name in (
        (spe, "ortec-spe"),
        (mca, "amptek-mca"),
        (chn, "ortec-chn"),
        (lynx, "lynx-text"),
    ):
        path = tmp_path / "misnamed.dat"
        module.write(path, ds)
        assert detect(path) == name


def test_read_spectra_orders_by_start_and_checks_channels(tmp_path):
    ds = spectra()
    paths = []
    for frame in (2, 0, 1):
        paths.append(spe.write(tmp_path / f"z{frame}_{2 - frame}.Spe", ds, frame))
    out = read_spectra(expand(str(tmp_path / "*.Spe")))
    np.testing.assert_array_equal(out.counts.values, ds.counts.values)
    assert list(out.start.values) == list(ds.start.values)
    assert out.attrs["calibration"][:2] == [-10.0, 0.75]
    assert np.allclose(out.energy.values, -10.0 + 0.75 * np.arange(512))


def test_expand_reports_a_glob_matching_nothing(tmp_path):
    with pytest.raises(NdpError, match=r"spectra/\*\.Spe: no file matches"):
        expand("spectra/*.Spe", base=tmp_path)


def test_describe(tmp_path):
    ds = spectra()
    n42.write(tmp_path / "a.n42", ds)
    info = describe(tmp_path / "a.n42")
    assert info["frames"] == 3 and info["channels"] == 512
    assert info["total_counts"] == int(ds.counts.sum())


def test_unknown_format_lists_the_supported_ones(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(FileFormatError, match="unknown file format; ndp reads ortec-spe"):
        read(p)


def test_every_reader_gives_frames_that_become_the_same_dataset(tmp_path):
    """One hand-off per stage: read_frames (a checked Frames record) and read (its Dataset)."""
    from ndp.spectra.dataset import Frames, check_spectra
    from ndp.spectra.io import spe

    spe.write(tmp_path / "a.Spe", spectra(n_channels=512), 0)
    frames = spe.read_frames(tmp_path / "a.Spe")
    assert isinstance(frames, Frames) and frames.counts.shape == (1, 512)
    ds = spe.read(tmp_path / "a.Spe")
    assert check_spectra(ds) is ds
    xr.testing.assert_identical(frames.to_dataset(), ds)


def test_a_dataset_that_is_not_spectra_is_named(tmp_path):
    from ndp.spectra.dataset import check_spectra

    with pytest.raises(NdpError, match="'start' coordinate"):
        check_spectra(xr.Dataset({"counts": (("frame", "channel"), np.ones((2, 4)))}))
    with pytest.raises(NdpError, match=r"expected an xarray\.Dataset"):
        check_spectra(np.ones((2, 4)))


def test_spooled_spectra_are_read_spectra_with_the_counts_on_disk(tmp_path, monkeypatch):
    """In any file order (names like frame-9, frame-10 sort apart from time), block by block."""
    from ndp.spectra import io as spectra_io
    from ndp.spectra.io import spe, spool_spectra

    monkeypatch.setattr(spectra_io, "SPOOL_BLOCK_FILES", 2)
    ds = spectra(n_channels=512)
    files = []
    for k in range(ds.sizes["frame"]):
        files.append(tmp_path / f"f{k}.Spe")
        spe.write(files[-1], ds, k)
    want = read_spectra(files)
    for i, order in enumerate(([0, 1, 2], [2, 1, 0], [1, 2, 0])):
        got = spool_spectra([files[j] for j in order], tmp_path / f"spool{i}.nc")
        assert not isinstance(got.counts.variable._data, np.ndarray)
        xr.testing.assert_identical(got.drop_vars("counts"), want.drop_vars("counts"))
        np.testing.assert_array_equal(got.counts.values, want.counts.values)
