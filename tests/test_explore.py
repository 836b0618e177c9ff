"""ndp.explore: one run, a frame at a time, from a RunResult or from the folder `ndp run` wrote.

What the explorer draws is checked against the run's data read independently (the profiles file
opened with xarray, the cycler log as written), for the frame the slider was moved to.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import ndp
from ndp.errors import NdpError
from ndp.pipeline import load_result, run


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """The demo's bare-Cu cell, one cycle in 30-minute frames (15 frames, a few seconds)."""
    from ndp.demo import build

    folder = tmp_path_factory.mktemp("explore")
    info = build(folder, cycles=1, frame_s=1800.0)
    return run(info["bare-Cu"]["run_file"], figures=False)


def _check_drawn(ex, profiles: xr.Dataset, log: pd.DataFrame, k: int) -> None:
    """The explorer's artists show frame ``k`` of ``profiles`` and ``log``."""
    art = ex.artists
    np.testing.assert_allclose(art["profile"].get_ydata(), profiles.li_density_rel.values[k])
    np.testing.assert_array_equal(art["spectrum"].get_ydata(), profiles.counts.values[k])
    fit = profiles.fit.values[k]
    np.testing.assert_allclose(art["fit"].get_ydata()[fit > 0], fit[fit > 0])
    t_h = float(profiles.time.values[k]) / 3600.0
    for line in art["time"]:
        assert list(line.get_xdata()) == pytest.approx([t_h, t_h])
    x, y = art["voltage"].get_data()
    assert x[0] == pytest.approx(t_h)
    assert y[0] == pytest.approx(np.interp(t_h * 3600.0, log.time_s, log.voltage_V))
    assert f"frame {k} of {profiles.sizes['time']}" in art["values"].get_text()


def test_slider_moves_every_panel(short_run):
    pytest.importorskip("ipywidgets")
    ex = ndp.explore(short_run)
    assert ex.slider is not None
    first = ex.frame
    image_before = bytes(ex._image.value)
    k = 2 if first != 2 else 3
    ex.slider.value = k
    assert ex.frame == k
    _check_drawn(ex, short_run.profiles, short_run.log, k)
    assert bytes(ex._image.value) != image_before  # the widget's picture was redrawn
    assert ex.values()["gap_um"] == pytest.approx(float(short_run.indicators.gap_um[k]), nan_ok=True)
    # Setting the frame in code moves the slider too.
    ex.frame = 5
    assert ex.slider.value == 5
    _check_drawn(ex, short_run.profiles, short_run.log, 5)
    data, _ = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["image/png"].startswith(b"\x89PNG")


def test_explore_an_output_folder(short_run):
    ex = ndp.explore(short_run.output, widgets=False)
    with xr.open_dataset(short_run.output / "profiles.nc", engine="h5netcdf") as ds:
        profiles = ds.load()
    # The log as the demo wrote it, on the NDP clock (the demo's cycling starts at time_zero).
    log = ex.log
    assert log is not None
    np.testing.assert_allclose(log.voltage_V, short_run.log.voltage_V)
    np.testing.assert_allclose(log.time_s, short_run.log.time_s)
    # The frame whose span holds 2.1 h: the frames are 30 min long from 0.
    ex.at(time_h=2.1)
    assert ex.frame == 4
    _check_drawn(ex, profiles, log, 4)
    assert "gap_um" in ex.indicators


def test_load_result_reads_back_what_run_wrote(short_run):
    back = load_result(short_run.output)
    assert back.spectra is None
    assert back.config.name == short_run.config.name
    pd.testing.assert_frame_equal(back.cycles[["cycle", "li_efficiency"]],
                                  pd.read_csv(short_run.output / "cycles.csv")[["cycle", "li_efficiency"]])  # fmt: skip
    np.testing.assert_allclose(back.profiles.li_density.values, short_run.profiles.li_density.values,
                               rtol=1e-6)  # fmt: skip
    np.testing.assert_allclose(back.halves.start_s, short_run.halves.start_s)


def test_load_result_without_the_run_file(short_run, tmp_path):
    """A folder moved away from its inputs still opens: profiles yes, cycler log no."""
    import shutil

    moved = tmp_path / "moved"
    shutil.copytree(short_run.output, moved)
    with xr.open_dataset(moved / "profiles.nc", engine="h5netcdf") as ds:
        ds = ds.load()
    ds.attrs["run_file"] = str(tmp_path / "gone.toml")
    (moved / "profiles.nc").unlink()
    ds.to_netcdf(moved / "profiles.nc", engine="h5netcdf")
    back = load_result(moved)
    assert back.config is None and back.log is None
    ex = ndp.explore(moved, widgets=False)
    assert "voltage" not in ex.artists
    ex.at(1)
    np.testing.assert_allclose(ex.artists["profile"].get_ydata(), ds.li_density_rel.values[1])


def test_static_fallback_without_ipywidgets(short_run, monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets now fails
    ex = ndp.explore(short_run)
    assert ex.slider is None and ex.widget is None
    data, _ = ex._repr_mimebundle_()
    assert data["image/png"].startswith(b"\x89PNG")
    assert "ndp[notebooks]" in data["text/plain"]
    ex.at(3)
    _check_drawn(ex, short_run.profiles, short_run.log, 3)
    with pytest.raises(NdpError, match="ipywidgets"):
        ndp.explore(short_run, widgets=True)


def test_explore_refuses_what_is_not_a_run(tmp_path, short_run):
    with pytest.raises(NdpError, match=r"no profiles\.nc"):
        ndp.explore(tmp_path)
    with pytest.raises(NdpError, match="RunResult"):
        ndp.explore(42)
    with pytest.raises(NdpError, match="out of range"):
        ndp.explore(short_run, frame=99, widgets=False)


def test_import_ndp_stays_light():
    """`import ndp` loads neither matplotlib nor ipywidgets; ndp.explore is the function."""
    import subprocess

    code = ("import sys, ndp; assert 'matplotlib' not in sys.modules and 'ipywidgets' not in sys.modules;"
            "import ndp.explore; assert callable(ndp.explore)")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True)
