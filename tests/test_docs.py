"""The documentation builds from the docstrings, warnings as errors (``docs/``, Sphinx)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_docs_build_without_warnings(tmp_path):
    # -W: a broken cross-reference or a malformed numpydoc section fails here, not on a website.
    # The autosummary stubs go to a copy, so the source tree is never written.
    src = tmp_path / "docs"
    src.mkdir()
    for path in DOCS.glob("*.rst"):
        (src / path.name).write_text(path.read_text())
    (src / "conf.py").write_text((DOCS / "conf.py").read_text())
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(src), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    api = (tmp_path / "html" / "api.html").read_text()
    for name in ("Material", "Stack", "Detector", "read_spectra", "invert", "run", "explore"):
        assert f"ndp.{name}" in api
