"""Fuzzing the command line with damaged inputs (issue 12).

Valid spectra (every text format and ORTEC binary), list-mode files, cycler logs and run files
are damaged the ways files get damaged (cut short, a value replaced by NaN/inf/huge/negative/
text, rows duplicated or shuffled, a byte-order mark, another encoding, flipped bytes), and
every command that reads them must end with exit 0, or exit 2 and one line on stderr: never a
traceback, a hang or a changed input. The CLI runs in-process (typer's CliRunner) on small files,
so the whole module takes some seconds.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spectra_helpers import spectra
from typer.testing import CliRunner

from ndp.cli.main import app
from ndp.cycling.cycler import write_mpt
from ndp.spectra.io import chn, lynx, mca, n42, spe, text
from ndp.spectra.io.listmode import write_npz

runner = CliRunner()
DATA = Path(__file__).resolve().parent / "data"
FUZZ = settings(max_examples=15, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip

# --------------------------------------------------------------------------------------------
# Damage


TOKENS = [
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e30",
    "1e308",
    "-5",
    "-1e30",
    "abc",
    "",
    "0",
    "1,5",
    "9" * 30,
]


@st.composite
def damaged(draw, raw: bytes) -> bytes:
    """One or two of the ways a file gets damaged."""
    data = raw
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(["truncate", "token", "duplicate", "shuffle", "delete", "bom",
                                     "encoding", "flip", "blank"]))  # fmt: skip
        lines = data.split(b"\n")
        if kind == "truncate":
            data = data[: draw(st.integers(0, max(len(data) - 1, 0)))]
        elif kind == "token":
            spans = [m.span() for m in re.finditer(rb"-?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?", data)]
            if spans:
                a, b = draw(st.sampled_from(spans))
                data = data[:a] + draw(st.sampled_from(TOKENS)).encode() + data[b:]
        elif kind == "duplicate" and len(lines) > 2:
            k = draw(st.integers(0, len(lines) - 2))
            data = b"\n".join(
                lines[: k + 1] + lines[k : k + 1] * draw(st.integers(1, 3)) + lines[k + 1 :]
            )
        elif kind == "shuffle" and len(lines) > 3:
            k = draw(st.integers(0, len(lines) - 3))
            n = draw(st.integers(2, min(8, len(lines) - k)))
            part = draw(st.permutations(lines[k : k + n]))
            data = b"\n".join(lines[:k] + list(part) + lines[k + n :])
        elif kind == "delete" and len(lines) > 1:
            k = draw(st.integers(0, len(lines) - 1))
            data = b"\n".join(lines[:k] + lines[k + 1 :])
        elif kind == "bom":
            data = b"\xef\xbb\xbf" + data
        elif kind == "encoding":
            data = data.decode("latin-1").encode(draw(st.sampled_from(["utf-16", "utf-32", "cp1252"])),
                                                 errors="replace")  # fmt: skip
        elif kind == "flip" and data:
            k = draw(st.integers(0, len(data) - 1))
            data = data[:k] + bytes([data[k] ^ draw(st.integers(1, 255))]) + data[k + 1 :]
        elif kind == "blank":
            data = data.replace(b"\n", b"\n\n", 1)
    return data


def check(args, inputs, cwd):
    """Exit 0, or exit 2 with one line naming the problem; inputs unchanged; nothing written."""
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in inputs}
    listing = sorted(os.listdir(cwd))
    r = runner.invoke(app, [str(a) for a in args])
    assert r.exit_code in (0, 2), (args, r.exit_code, r.output, r.exception)
    if r.exception is not None:
        assert isinstance(r.exception, SystemExit), repr(r.exception)
    if r.exit_code == 2:
        assert r.stderr.startswith("ndp: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.output
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in inputs} == before
    assert sorted(os.listdir(cwd)) == listing
    return r


# --------------------------------------------------------------------------------------------
# Valid seeds


@functools.cache
def _seeds() -> dict[str, bytes]:
    """Valid files of every kind, as bytes (kept out of the fixtures so that hypothesis reports
    only the damaged file of a failing example)."""
    d = Path(tempfile.mkdtemp(prefix="ndp-fuzz-"))
    try:
        ds = spectra(n_frames=2, n_channels=64)
        files = {}
        for module, ext in ((spe, "Spe"), (mca, "mca"), (lynx, "txt"), (text, "csv"), (chn, "Chn")):
            module.write(d / f"s.{ext}", ds, 0)
            files[ext] = (d / f"s.{ext}").read_bytes()
        n42.write(d / "s.n42", ds)
        files["n42"] = (d / "s.n42").read_bytes()
        rng = np.random.default_rng(1)
        events = pd.DataFrame({"BOARD": 0, "CHANNEL": 0, "TIMETAG": np.sort(rng.integers(0, 10**13, 40)),
                               "ENERGY": rng.integers(0, 64, 40), "ENERGYSHORT": 0, "FLAGS": "0x0"})  # fmt: skip
        files["compass.csv"] = events.to_csv(sep=";", index=False).encode()
        write_npz(d / "e.npz", np.sort(rng.uniform(0, 100, 40)), rng.integers(0, 64, 40))
        files["npz"] = (d / "e.npz").read_bytes()
        t = np.arange(0, 4 * 1800.0, 120.0)
        log = pd.DataFrame(
            {"time_s": t, "current_mA": np.where((t // 1800) % 2 == 0, -0.5, 0.5), "voltage_V": 3.0}
        )
        log.attrs["start"] = pd.Timestamp("2020-03-01 09:00")
        write_mpt(d / "log.mpt", log)
        files["mpt"] = (d / "log.mpt").read_bytes()
        log["Q charge/discharge (mAh)"] = np.cumsum(log.current_mA * 120 / 3600)
        files["cycler.csv"] = log.to_csv(index=False).encode()
        files["toml"] = (DATA / "run_cu_li.toml").read_bytes()
        return files
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _write(work, name, data):
    p = work / "in" / name
    p.parent.mkdir(exist_ok=True)
    p.write_bytes(data)
    return p


# --------------------------------------------------------------------------------------------
# Commands


@pytest.mark.parametrize("kind", ["Spe", "mca", "txt", "csv", "Chn", "n42", "compass.csv", "npz"])
@FUZZ
@given(data=st.data())
def test_info_on_damaged_spectra(work, kind, data):
    raw = data.draw(damaged(_seeds()[kind]))
    p = _write(work, f"s.{kind}", raw)
    check(["info", p], [p], work)


@FUZZ
@given(data=st.data())
def test_calibrate_on_a_damaged_spectrum(work, data):
    p = _write(work, "s.Spe", data.draw(damaged(_seeds()["Spe"])))
    check(["calibrate", p, "--peaks", "10:100,40:200"], [p], work)


@pytest.mark.parametrize("kind", ["mpt", "cycler.csv"])
@FUZZ
@given(data=st.data())
def test_cycles_on_damaged_logs(work, kind, data):
    p = _write(work, f"log.{kind.split('.')[-1]}", data.draw(damaged(_seeds()[kind])))
    r = check(["cycles", p, "-f", "csv"], [p], work)
    if r.exit_code == 0:
        table = pd.read_csv(pd.io.common.StringIO(r.stdout))
        ce = table.coulombic_efficiency.dropna()
        assert np.all(np.isfinite(ce)) and np.all(ce >= 0)


@FUZZ
@given(data=st.data())
def test_depth_on_a_damaged_run_file(work, data):
    p = _write(work, "run.toml", data.draw(damaged(_seeds()["toml"])))
    check(["depth", p, "--step", "2", "-f", "csv"], [p], work)


@settings(max_examples=6, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(data=st.data())
def test_run_on_a_damaged_spectrum(work, data):
    """``ndp run`` up to its output checks: an existing -o without --force stops it before the
    inversion, so every damaged frame is read and judged, quickly."""
    shutil.copy(DATA / "run_cu_li.toml", work / "run.toml")
    (work / "spectra").mkdir(exist_ok=True)
    ds = spectra(n_frames=2, n_channels=64)
    spe.write(work / "spectra" / "a.Spe", ds, 0)
    b = work / "spectra" / "b.Spe"
    b.write_bytes(data.draw(damaged(_seeds()["Spe"])).replace(b"09:00:00", b"09:10:00"))
    (work / "out").mkdir(exist_ok=True)
    (work / "out" / "profiles.nc").write_bytes(b"")
    r = check(["run", work / "run.toml", "-o", work / "out", "--no-figures"],
              [work / "run.toml", work / "spectra" / "a.Spe", b], work)  # fmt: skip
    assert r.exit_code == 2
