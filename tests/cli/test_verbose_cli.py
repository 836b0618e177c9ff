"""``ndp -v``/``-vv``: what ndp does, step by step, and how the solver fares, on standard error."""

from __future__ import annotations

import logging

import pytest
from typer.testing import CliRunner

from ndp.cli.main import app

runner = CliRunner()
pytestmark = pytest.mark.filterwarnings("ignore::ndp.errors.NdpWarning")


def _run(run_dir, *flags):
    out = run_dir / "out"
    r = runner.invoke(app, [*flags, "run", str(run_dir / "run.toml"), "-o", str(out), "--force",
                            "--no-figures", "-j", "1"])  # fmt: skip
    logging.getLogger("ndp").handlers.clear()  # the next invocation starts quiet again
    logging.getLogger("ndp").setLevel(logging.NOTSET)
    return r


def test_quiet_by_default_then_steps_then_solver(run_dir):
    quiet = _run(run_dir)
    assert quiet.exit_code in (0, 3), quiet.output
    assert "ndp INFO" not in quiet.stderr
    steps = _run(run_dir, "-v")
    assert "ndp INFO ndp.pipeline: " in steps.stderr and "frames x 4096 channels" in steps.stderr
    assert "calibration:" in steps.stderr and "inverting 3 frames" in steps.stderr
    assert "ndp DEBUG" not in steps.stderr
    solver = _run(run_dir, "-vv")
    assert "ndp DEBUG ndp.model.series: frames 0-2: " in solver.stderr
    # The results do not depend on how much is said.
    assert quiet.stdout.splitlines()[-3:] == solver.stdout.splitlines()[-3:]
