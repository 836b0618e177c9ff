"""Cycler readers: every real export in ../shared parses; our own fixtures always run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import shared_dir

from ndp.cycling.cycler import detect_cycler, read_cycler
from ndp.cycling.cycles import cycles, half_cycles
from ndp.errors import FileFormatError

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


# --------------------------------------------------------------------------------------------
# Issue 12: charges that agree with the cycler's own counters.


@pytest.mark.parametrize(
    "name",
    ["yadg_gcpl.issue_149.mpt", "yadg_gcpl.issue_211.mpt", "navani_jdb11_gcpl.mpr",
     "cellpy_maccor_001.txt", "cellpy_neware_uio.csv"],
)  # fmt: skip
def test_integrated_charge_agrees_with_the_counters(cycler_dir, name):
    """∫I dt within 0.2 % of the file's own counters for every half cycle the log resolves.

    issue_149 is a BioLogic GCPL whose <I> is the mean over the interval ending at each row: the
    first row of each step averages the switching, so trapezoids across it were 1.8 % low on
    every plating half cycle (its own dq says so).
    """
    if name.endswith(".mpr"):
        pytest.importorskip("galvani")
    log = read_cycler(cycler_dir / name)
    halves = half_cycles(log)
    rows = halves.last_row - halves.first_row + 1
    resolved = halves[(rows >= (2 if log.attrs["format"].startswith("biologic") else 50))
                      & halves.cycler_charge_mAh.notna()]  # fmt: skip
    assert len(resolved) >= 1
    rel = (resolved.integrated_mAh / resolved.cycler_charge_mAh - 1).abs()
    assert rel.max() < 2e-3, rel.describe()
    assert (resolved.charge_source == "current").all()


def _maccor(rows) -> str:
    """A Maccor text export: |I| with the state, test time to 1 ms, DPt Time to the second."""
    head = ("Today's Date 01/02/2020  Date of Test:\t01/01/2020\t Filename:\tC:\\cell.001\n"
            "Rec#\tCyc#\tStep\tTest (Sec)\tStep (Sec)\tAmp-hr\tWatt-hr\tAmps\tVolts\tState\tES\tDPt Time\n")  # fmt: skip
    t0 = pd.Timestamp("2020-01-01 09:00:00")
    body = "".join(
        f"{k + 1}\t1\t{step}\t{t:.4f}\t{t:.4f}\t{ah:.10f}\t0\t{abs(i):.10f}\t3.5\t{state}\t0\t"
        f"{(t0 + pd.Timedelta(seconds=int(t))).strftime('%m/%d/%Y %H:%M:%S')}\n"
        for k, (step, t, ah, i, state) in enumerate(rows)
    )
    return head + body


def test_maccor_uses_the_test_time_not_the_wall_clock(tmp_path):
    """'Test (Sec)' is the time axis; the 1-s 'DPt Time' made one public file 9.9 % low."""
    dt = 0.37  # rows between whole seconds: the wall clock rounds them onto each other
    t = np.arange(0, 600, dt)
    rows = [(1, x, 2.0 * x / 3600, -2.0, "D") for x in t]  # 2 A for 10 min, counted in Amp-hr
    rows += [(2, 600 + x, 2.0 * x / 3600, 2.0, "C") for x in t[1:]]
    p = tmp_path / "cell.001"
    p.write_text(_maccor(rows))
    log = read_cycler(p)
    assert log.attrs["format"] == "maccor-txt"
    halves = half_cycles(log)
    assert list(halves.kind) == ["plate", "strip"]
    counted = [
        rows[len(t) - 1][2] * 1e3,
        rows[-1][2] * 1e3,
    ]  # the Amp-hr counter at each step's end, mAh
    np.testing.assert_allclose(halves.integrated_mAh, counted, rtol=2e-3)


def _gcpl(segments, dt=10.0):
    """A BioLogic-like log: (duration_s, current_mA, logged) pieces; rows carry the mean current
    over the interval ending at them (as EC-Lab's <I>), and the counters EC-Lab keeps from it.
    An unlogged piece (a rest logged late) leaves a gap before the next row."""
    t, cur, rows_t, rows_i = 0.0, [], [], []
    for dur, i, logged in segments:
        if logged:
            for x in np.arange(t + dt, t + dur + 1e-9, dt):
                rows_t.append(x)
                rows_i.append(i)
        t += dur
        cur.append(i)
    t_arr, i_arr = np.array(rows_t), np.array(rows_i)
    dq = i_arr * np.diff(t_arr, prepend=0.0) / 3600  # EC-Lab's dq: the row's <I> times its interval
    q_charge = np.zeros_like(dq)
    q_discharge = np.zeros_like(dq)
    c = d = 0.0
    for k, (q, i) in enumerate(zip(dq, i_arr, strict=True)):
        if i > 0:
            c, d = c + q, 0.0 if k and i_arr[k - 1] <= 0 else d
        elif i < 0:
            d, c = d - q, 0.0 if k and i_arr[k - 1] >= 0 else c
        q_charge[k], q_discharge[k] = c, d
    return pd.DataFrame({"time_s": t_arr, "current_mA": i_arr, "charge_capacity_mAh": q_charge,
                         "discharge_capacity_mAh": q_discharge}), dq  # fmt: skip


def test_a_rest_logged_late_inside_a_half_cycle(tmp_path):
    """The rest row gets no charge: the last plating row's current is not carried across the gap.

    One public GCPL file gave CE 0.8159 where its own counters give 0.8045.
    """
    log, dq = _gcpl([(3600, -0.5, True), (1800, 0.0, False), (10, 0.0, True), (1800, -0.5, True),
                     (600, 0.0, True), (3600, 0.4, True)])  # fmt: skip
    log.attrs["current"] = "interval mean"
    halves = half_cycles(log)
    assert list(halves.kind) == ["plate", "strip"]  # the rest inside plating joined it
    plated = -dq[dq < 0].sum()
    stripped = dq[dq > 0].sum()
    np.testing.assert_allclose(halves.charge_mAh, [plated, stripped], rtol=2e-3)
    np.testing.assert_allclose(halves.charge_mAh, halves.cycler_charge_mAh, rtol=2e-3)
    assert halves.attrs["notices"] == []


def test_a_decimated_log_takes_the_counters_and_says_so():
    """Every 50th row of a log kept: ∫I dt is meaningless, the counters are not."""
    log, _ = _gcpl(
        [(3600, -0.5, True), (600, 0.0, True), (3600, 0.45, True), (600, 0.0, True)], dt=1.0
    )
    full = half_cycles(log)
    sparse = log.iloc[::50].reset_index(drop=True)
    sparse.loc[5:8, "current_mA"] *= 40  # pulses caught by the sampling: ∫I dt now far off
    halves = half_cycles(sparse)
    assert (halves.charge_source == "counters").any()
    assert any("their charges are the cycler's counters'" in n for n in halves.attrs["notices"])
    np.testing.assert_allclose(halves.charge_mAh, full.charge_mAh, rtol=0.03)


def test_counters_that_reset_every_row_give_no_charge():
    """Neither ∫I dt nor a counter reset between nearly every logged row is the charge: NaN."""
    t = np.arange(0, 7200.0, 600.0)
    i = np.where(t < 3600, -0.5, 0.5) * np.where(np.arange(t.size) % 2, 40, 1)  # pulses
    cap = np.tile([0.001, 0.0005], t.size // 2)  # a per-step counter seen once per step
    log = pd.DataFrame({"time_s": t, "current_mA": i, "capacity_mAh": cap})
    halves = half_cycles(log)
    assert halves.charge_source.eq("unresolved").all() and halves.charge_mAh.isna().all()
    assert any("too sparse to give their charge" in n for n in halves.attrs["notices"])
    table = cycles(halves)
    assert table.coulombic_efficiency.isna().all()  # never a number flagged as wrong


def test_one_unreadable_time_drops_one_row_not_the_file(tmp_path):
    """One NaN time in an .mpt rejected the whole file ('no row has a readable time')."""
    t = np.arange(0, 7200, 60.0)
    i = np.where(t < 3600, -0.05, 0.05)
    rows = _mpt_rows(t, i).split("\r\n")
    rows[10] = "1\tNaN" + rows[10][rows[10].index("\t", 2) :]
    p = tmp_path / "cell.mpt"
    p.write_bytes((MPT + "\r\n".join(rows)).encode("latin-1"))
    log = read_cycler(p)
    assert len(log) == t.size - 1 and log.attrs["dropped_rows"] == 1
    assert list(half_cycles(log).kind) == ["plate", "strip"]
