"""The fast readers give what the plain ones gave (speed itself is measured in benchmarks/).

* ``.mpt``: the pandas-direct reader (only the used columns, decimal commas parsed in place)
  against the reference reader (whole text, commas replaced) on every real export and on
  hand-made files with EC-Lab's traps; files it declines go to the reference reader.
* HDF5 list mode: chunks read into reused buffers frame exactly as whole-slice reads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import shared_dir

from ndp.cycling import cycler
from ndp.cycling.cycler import read_cycler

HERE = Path(__file__).parent


def _mpt_files() -> list[Path]:
    found = sorted((HERE / "data").rglob("*.mpt"))
    d = shared_dir() / "data" / "cycler"
    if d.is_dir():
        found += sorted(d.glob("*.mpt"))
    return found


def _same(path: Path, *, fast_path: bool = True) -> pd.DataFrame:
    """Both readers on one file: identical values, dtypes, columns and attrs."""
    fast = cycler._read_mpt_fast(path)
    if fast_path:
        assert fast is not None, f"{path.name}: the fast reader declined it"
    ref = cycler._read_mpt(path, fast=False)
    got = cycler._read_mpt(path)
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    assert got.attrs == ref.attrs
    return got


@pytest.mark.parametrize("path", _mpt_files(), ids=lambda p: p.name)
def test_mpt_fast_reader_equals_reference_on_real_files(path):
    _same(path)


HEAD = (
    "EC-Lab ASCII FILE{eol}Nb header lines : {n}                          {eol}{eol}"
    "Acquisition started on : 03/01/2020 09:00:00.000{eol}"
    "Electrode surface area : 1,000 cm\xb2{eol}{extra}"
    "mode\ttime/s\tcontrol/V/mA\tEwe/V\t<I>/mA\tdq/mA.h\t(Q-Qo)/mA.h\tQ charge/mA.h\t"
    "Q discharge/mA.h\tQ charge/discharge/mA.h\tcycle number\t{eol}"
)


def _mpt(tmp_path, *, comma=True, eol="\r\n", trail=True, extra_head=0, rows=None, cols=None):
    t = np.arange(0, 7200, 60.0)
    i = np.where(t < 3600, -0.05, 0.05)
    dq = i * 60 / 3600
    body = []
    for k, (tk, ik, qk) in enumerate(zip(t, i, dq, strict=True)):
        row = f"1\t{tk:.4f}\t{ik:.4f}\t3.0\t{ik:.6E}\t{qk:.8E}\t{dq[: k + 1].sum():.8E}\t0\t0\t0\t1"
        row = row.replace(".", ",") if comma else row
        body.append(row + ("\t" if trail else ""))
    if rows is not None:
        body = rows(body)
    extra = "".join(f"x{k}{eol}" for k in range(extra_head))
    text = HEAD.format(eol=eol, n=6 + extra_head, extra=extra)
    if cols is not None:
        text = cols(text)
    p = tmp_path / "cell.mpt"
    p.write_bytes((text + eol.join(body) + eol).encode("latin-1"))
    return p


@pytest.mark.parametrize("comma", [True, False])
@pytest.mark.parametrize("eol", ["\r\n", "\n"])
@pytest.mark.parametrize("trail", [True, False])
@pytest.mark.parametrize("extra_head", [0, 40])
def test_mpt_traps(tmp_path, comma, eol, trail, extra_head):
    """Decimal commas, CRLF or LF, trailing tabs or none, any number of header lines."""
    log = _same(_mpt(tmp_path, comma=comma, eol=eol, trail=trail, extra_head=extra_head))
    assert log.attrs["start"] == pd.Timestamp("2020-03-01 09:00:00")
    assert log.current_mA.iloc[0] == -0.05 and log.time_s.iloc[-1] == 7140.0
    assert log.attrs["format"] == "biologic-mpt" and log.attrs["current"] == "interval mean"


def test_mpt_current_from_dq_alone(tmp_path):
    """No I column: the current comes from EC-Lab's dq counter, as before."""
    p = _mpt(tmp_path, cols=lambda s: s.replace("<I>/mA", "J/mA"))
    log = _same(p)
    np.testing.assert_allclose(
        log.current_mA.iloc[1:], np.where(log.time_s < 3600, -0.05, 0.05)[1:]
    )


def test_mpt_nan_time_row_is_dropped(tmp_path):
    def nan_row(body):
        body[10] = "1\tNaN" + body[10][body[10].index("\t", 2) :]
        return body

    log = _same(_mpt(tmp_path, rows=nan_row))
    assert log.attrs["dropped_rows"] == 1


@pytest.mark.parametrize(
    ("damage", "declined"),
    [
        (lambda b: [*b[:5], "\t\t\t", *b[5:]], True),  # a row of tabs: blank to the reference
        (lambda b: [*b[:5], b[5].replace("3,0", "3.0", 1), *b[6:]], True),  # a dot among commas
        (lambda b: [*b[:5], "1\t\x0c", *b[5:]], True),  # a form feed: a line break to splitlines
        (lambda b: ["1\t0\t0\t0\t0\t0\t0\t0\t0\t0\t1", *b], True),  # no decimal separator
        (lambda b: [*b[:5], b[5] + "\t\t\t", *b[6:]], False),  # more trailing tabs than one
        (lambda b: [*b[:5], "", *b[5:]], False),  # a blank line
    ],
)
def test_mpt_odd_files(tmp_path, damage, declined):
    """What the fast reader cannot read as the reference does goes to the reference reader."""
    p = _mpt(tmp_path, rows=damage)
    assert (cycler._read_mpt_fast(p) is None) == declined
    _same(p, fast_path=not declined)


def test_mpt_header_errors_unchanged(tmp_path):
    from ndp.errors import FileFormatError

    p = tmp_path / "x.mpt"
    p.write_bytes(b"EC-Lab ASCII FILE\r\nNb header lines : 90\r\nmode\ttime/s\r\n")
    with pytest.raises(FileFormatError, match="declares 90 header lines but has 3 lines"):
        read_cycler(p)
    p.write_bytes(b"EC-Lab ASCII FILE\r\nNo header count\r\n")
    with pytest.raises(FileFormatError, match="expected 'Nb header lines : N'"):
        read_cycler(p)


@pytest.mark.parametrize(
    ("t_dtype", "c_dtype"), [("<f8", "<u2"), ("<f4", "<i4"), ("<f8", "<u8"), ("<i8", "<u2")]
)
def test_hdf5_reused_buffers_frame_as_whole_arrays(tmp_path, t_dtype, c_dtype):
    """Chunks read into reused buffers (and the copying path for other dtypes) give the
    counts of framing all events at once; the last, shorter chunk included."""
    h5py = pytest.importorskip("h5py")
    from ndp.spectra.framing import frame_events
    from ndp.spectra.io.listmode import EventChunk, iter_events

    rng = np.random.default_rng(3)
    n = 10_007
    t = np.sort(rng.uniform(0, 1000, n)).astype(t_dtype)
    c = rng.integers(0, 256, n).astype(c_dtype)
    with h5py.File(tmp_path / "ev.h5", "w") as h5:
        h5["events/time"] = t
        h5["events/channel"] = c
    chunks = list(iter_events(tmp_path / "ev.h5", chunk=1000))  # owned arrays by default
    assert [ch.first for ch in chunks] == list(range(0, n, 1000))
    np.testing.assert_array_equal(np.concatenate([ch.time_s for ch in chunks]), t)
    got = frame_events(
        iter_events(tmp_path / "ev.h5", chunk=1000, reuse=True), frame_s=50.0, n_channels=256
    )
    whole = EventChunk(t.astype(np.float64), c.astype(np.int64), None, 0)
    want = frame_events([whole], frame_s=50.0, n_channels=256)
    np.testing.assert_array_equal(got.counts, want.counts)
    np.testing.assert_array_equal(got.real_time_s, want.real_time_s)


def test_hdf5_time_going_backwards_is_still_named(tmp_path):
    h5py = pytest.importorskip("h5py")
    from ndp.errors import FileFormatError
    from ndp.spectra.framing import frame_events
    from ndp.spectra.io.listmode import iter_events

    t = np.arange(3000, dtype=float)
    t[2500] = 10.0
    with h5py.File(tmp_path / "ev.h5", "w") as h5:
        h5["time"] = t
        h5["channel"] = np.ones(3000, dtype=np.uint16)
    with pytest.raises(
        FileFormatError, match=r"event 2500: time goes backwards \(10 s after 2499 s\)"
    ):
        frame_events(iter_events(tmp_path / "ev.h5", chunk=1000), frame_s=50.0)
