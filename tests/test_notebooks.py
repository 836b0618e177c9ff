"""The notebooks run top to bottom and show their figures (outputs are stripped in git).

A figure that a cell returns must reach the reader as a picture: executed with nbclient, every
cell whose output names a figure (a Matplotlib object, an explorer) carries an ``image/png`` or
``image/svg+xml`` output, never only the text ``<Figure size ...>``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import shared_dir

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
IMAGES = ("image/png", "image/svg+xml")
#: Text outputs that say a figure was returned (or drawn) in the cell.
FIGURE_TEXT = re.compile(r"<Figure size|<matplotlib\.|<Explorer |InlineFigure")


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    from ndp.demo import build
    from ndp.pipeline import run

    folder = tmp_path_factory.mktemp("nb-demo")
    for info in build(folder, cycles=2).values():
        run(info["run_file"])
    return folder


def _texts(cell) -> list[str]:
    out = []
    for o in cell.outputs:
        if o.output_type == "stream":
            out.append(o.text)
        elif "data" in o:
            out.append(str(o.data.get("text/plain", "")))
    return out


def _has_image(cell) -> bool:
    return any(m in o.get("data", {}) for o in cell.outputs for m in IMAGES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_shows_its_figures(path, demo_dir, monkeypatch, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), (
        "strip outputs before committing"
    )
    monkeypatch.setenv("NDP_DEMO_DIR", str(demo_dir))
    monkeypatch.setenv("NDP_SHARED", str(shared_dir()))
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
    figure_cells = [c for c in code if any(FIGURE_TEXT.search(t) for t in _texts(c))]
    blind = [c.source.splitlines()[-1] for c in figure_cells if not _has_image(c)]
    assert not blind, f"figure cells without an image: {blind}"
    assert sum(_has_image(c) for c in code) >= 1


def test_figures_display_inline_without_pyplot():
    """What IPython asks a returned figure for: a PNG of the figure's size, or an SVG."""
    import struct

    from ndp import plot

    cycles = pd.DataFrame({"cycle": [1, 2], "li_efficiency": [0.5, 0.6], "coulombic_efficiency": [0.9, 0.9]})
    fig = plot.efficiency_plot(cycles)
    data, meta = fig._repr_mimebundle_()
    png = data["image/png"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width_px, height_px = struct.unpack(">II", png[16:24])  # the IHDR chunk
    w_in, h_in = fig.get_size_inches()
    assert (width_px, height_px) == (round(w_in * plot.INLINE_DPI), round(h_in * plot.INLINE_DPI))
    assert meta["image/png"]["width"] == round(w_in * 100)
    assert "image/svg+xml" not in data
    fig.inline_formats = ("svg",)
    data, _ = fig._repr_mimebundle_()
    assert "<svg" in data["image/svg+xml"] and "image/png" not in data
    data, _ = fig._repr_mimebundle_(exclude={"image/svg+xml"})
    assert set(data) == {"text/plain"}


def test_inline_formats_are_checked():
    from ndp import plot

    with pytest.raises(ValueError, match="inline formats"):
        plot.set_inline_formats("jpeg")
    try:
        plot.set_inline_formats("png", "svg")
        data, _ = plot.InlineFigure(figsize=(1, 1))._repr_mimebundle_()
        assert {"image/png", "image/svg+xml"} <= set(data)
    finally:
        plot.set_inline_formats("png")


def test_ipython_shows_an_ndp_figure_as_an_image():
    """IPython's own display machinery, as a kernel runs it, without pyplot."""
    pytest.importorskip("IPython")
    from IPython.core.formatters import DisplayFormatter

    from ndp import plot

    fig = plot.InlineFigure(figsize=(2, 1))
    fig.subplots().plot(np.arange(3))
    data, _ = DisplayFormatter().format(fig)
    assert data["image/png"][:4] == b"\x89PNG"
