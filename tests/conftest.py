"""Shared fixtures: the reference data in ../shared (skipped cleanly when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


def shared_dir() -> Path:
    return Path(os.environ.get("NDP_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    ref = shared_dir() / "reference"
    if not ref.is_dir():
        pytest.skip("../shared/reference is not available (a user's clone has no shared/)")
    return ref


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def run_dir(tmp_path, data_dir):
    """A run file and three frames of spectra that read (enough to reach the output checks)."""
    import shutil

    from spectra_helpers import spectra

    from ndp.spectra.io import spe

    shutil.copy(data_dir / "run_cu_li.toml", tmp_path / "run.toml")
    (tmp_path / "spectra").mkdir()
    ds = spectra(n_channels=4096)
    for k in range(ds.sizes["frame"]):
        spe.write(tmp_path / "spectra" / f"f{k}.Spe", ds, k)
    return tmp_path
