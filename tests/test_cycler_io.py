"""Cycler readers: every real export in ../shared parses; our own fixtures always run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import shared_dir

from ndp.cycles import half_cycles
from ndp.errors import FileFormatError
from ndp.io.cycler import detect_cycler, read_cycler

REAL = {
    "yadg_gcpl.issue_149.mpt": "biologic-mpt",
    "yadg_gcpl.issue_211.mpt": "biologic-mpt",
    "navani_jdb11_gcpl.mpr": "biologic-mpr",
    "neware_test_2.ndax": "neware-nda",
    "cellpy_neware_uio.csv": "neware-csv",
    "cellpy_nw_regular_export_ife_example.csv": "neware-3level-csv",
    "beep_arbin_2017-05-09_test-TC-contact_CH33.csv": "arbin-csv",
    "navani_bs542_Channel_11.xlsx": "arbin-xlsx",
    "cellpy_maccor_001.txt": "maccor-txt",
}


@pytest.fixture(scope="module")
def cycler_dir():
    d = shared_dir() / "data" / "cycler"
    if not d.is_dir():
        pytest.skip("../shared/data/cycler is not available")
    return d


@pytest.mark.parametrize("name", sorted(REAL))
def test_every_real_file_parses(cycler_dir, name):
    if name.endswith(".mpr"):
        pytest.importorskip("galvani")
    if name.endswith(".ndax"):
        pytest.importorskip("NewareNDA")
    path = cycler_dir / name
    assert detect_cycler(path) == REAL[name]
    log = read_cycler(path)
    assert {"time_s", "current_mA"} <= set(log.columns)
    assert len(log) > 100
    assert np.all(np.diff(log.time_s) >= 0)
    assert log.attrs["start"] is not None
    halves = half_cycles(log)
    assert len(halves) >= 1
    # ∫I dt against the cycler's own counters, where the log resolves the half cycle.
    long = halves[(halves.last_row - halves.first_row + 1 >= 50) & halves.cycler_charge_mAh.notna()]
    if len(long):
        rel = (long.charge_mAh / long.cycler_charge_mAh - 1).abs()
        assert np.percentile(rel, 90) < 1e-3, rel.describe()


def test_units_are_converted(cycler_dir):
    """Neware's CSV is in A and Ah; BioLogic's in mA and mA.h: both end in mA and mAh."""
    nw = read_cycler(cycler_dir / "cellpy_neware_uio.csv")
    assert 0.5 < nw.current_mA.abs().max() < 2  # ~1 mA written as 0.000992 A
    assert nw.charge_capacity_mAh.max() > 1
    mpt = read_cycler(cycler_dir / "yadg_gcpl.issue_149.mpt")
    assert mpt.current_mA.abs().max() == pytest.approx(0.03, rel=0.01)  # 30 µA


MPT = (
    "EC-Lab ASCII FILE\r\nNb header lines : 6                          \r\n\r\n"
    "Acquisition started on : 03/01/2020 09:00:00.000\r\nElectrode surface area : 1,000 cm\xb2\r\n"
    "mode\ttime/s\tcontrol/V/mA\tEwe/V\t<I>/mA\tQ charge/mA.h\tQ discharge/mA.h\tcycle number\t\r\n"
)


def _mpt_rows(times, currents):
    q_c = q_d = 0.0
    rows = []
    prev = times[0]
    for t, i in zip(times, currents, strict=True):
        dq = i * (t - prev) / 3600
        prev = t
        q_c, q_d = (q_c + dq, 0.0) if i > 0 else (0.0, q_d - dq) if i < 0 else (q_c, q_d)
        rows.append(
            f"1\t{t:.4f}\t{i:.4f}\t3,0\t{i:.6f}\t{q_c:.8f}\t{q_d:.8f}\t1\t".replace(".", ",")
        )
    return "\r\n".join(rows) + "\r\n"


def test_mpt_with_comma_decimals_crlf_latin1_trailing_tabs(tmp_path):
    t = np.arange(0, 7200, 60.0)
    i = np.where(t < 3600, -0.05, 0.05)
    p = tmp_path / "cell.mpt"
    p.write_bytes((MPT + _mpt_rows(t, i)).encode("latin-1"))
    log = read_cycler(p)
    assert log.attrs["start"] == pd.Timestamp("2020-03-01 09:00:00")
    assert log.current_mA.iloc[0] == -0.05 and log.time_s.iloc[-1] == 7140.0
    halves = half_cycles(log)
    assert list(halves.kind) == ["plate", "strip"]


def test_generic_csv_with_mapping_and_units(tmp_path):
    p = tmp_path / "log.csv"
    t = np.arange(0, 10) * 0.5  # hours
    pd.DataFrame({"t_h": t, "I (A)": np.where(t < 2.5, -1e-4, 1e-4), "U": 3.0}).to_csv(
        p, index=False
    )
    log = read_cycler(p, columns={"time_s": "t_h", "current_mA": "I (A)", "voltage_V": "U"})
    assert log.current_mA.iloc[0] == pytest.approx(-0.1)
    # "t_h" carries no unit for ndp to read, so it is taken as seconds: say so with "(h)".
    pd.DataFrame({"Time(h)": t, "Current(A)": np.where(t < 2.5, -1e-4, 1e-4)}).to_csv(
        p, index=False
    )
    log = read_cycler(p)
    assert log.time_s.iloc[1] == pytest.approx(1800.0)


def test_xlsx(tmp_path):
    pytest.importorskip("openpyxl")
    p = tmp_path / "land.xlsx"
    df = pd.DataFrame(
        {
            "TestTime(s)": np.arange(0, 100, 10.0),
            "Current(mA)": [-1.0] * 5 + [1.0] * 5,
            "Voltage(V)": 3.0,
        }
    )
    with pd.ExcelWriter(p) as w:
        pd.DataFrame({"info": ["LAND"]}).to_excel(w, sheet_name="Info", index=False)
        df.to_excel(w, sheet_name="Record", index=False)
    log = read_cycler(p)
    assert len(log) == 10 and log.current_mA.iloc[-1] == 1.0


def test_bad_logs(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"\x00\x01\x02")
    with pytest.raises(FileFormatError, match="unknown cycler format; ndp reads biologic-mpt"):
        read_cycler(p)
    p = tmp_path / "no_current.csv"
    pd.DataFrame({"Time(s)": [0, 1], "Voltage(V)": [3, 3]}).to_csv(p, index=False)
    with pytest.raises(FileFormatError, match="no current column"):
        read_cycler(p)
    p = tmp_path / "backwards.csv"
    pd.DataFrame({"Time(s)": [0, 10, 20, 5, 15], "Current(mA)": [1, 1, 1, 1, 1]}).to_csv(
        p, index=False
    )
    with pytest.raises(FileFormatError, match="time goes backwards at row 4"):
        read_cycler(p)
    # Concatenated runs whose rows carry absolute times are stitched.
    p = tmp_path / "stitched.csv"
    pd.DataFrame({"Time(s)": [0, 10, 20, 0, 10], "Current(mA)": [1, 1, 1, -1, -1],
                  "Date": pd.date_range("2020-01-01", periods=5, freq="10s")}).to_csv(p, index=False)  # fmt: skip
    log = read_cycler(p)
    np.testing.assert_allclose(log.time_s, [0, 10, 20, 30, 40])
