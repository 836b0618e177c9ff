"""File writers of the independent simulator: ORTEC Maestro ASCII ``.Spe``, BioLogic EC-Lab text
export ``.mpt`` and the ``ndp`` run file (TOML). Formatting only; no physics here.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["format_e3", "write_mpt", "write_run_toml", "write_spe"]


def format_e3(value: float, digits: int = 6) -> str:
    """Windows-style scientific notation with a three-digit exponent, e.g. ``-5.000000E+000``."""
    mantissa, exponent = f"{float(value):.{digits}E}".split("E")
    return f"{mantissa}E{int(exponent):+04d}"


def _time_field(seconds: float) -> str:
    seconds = float(seconds)
    return str(round(seconds)) if abs(seconds - round(seconds)) < 1e-9 else f"{seconds:.3f}"


def write_spe(
    path,
    counts,
    *,
    live_s: float,
    real_s: float,
    start: _dt.datetime,
    calibration_keV: Sequence[float],
    spec_id: str,
    remark: str = "",
    fwhm_channels: float = 0.0,
    detector_description: str = "NDP PIPS detector",
) -> Path:
    """Write one spectrum as an ORTEC Maestro ASCII ``.Spe`` file (CRLF line endings).

    Parameters
    ----------
    path : path-like
    counts : array_like of int, shape (n_channels,)
    live_s, real_s : float
        Live and real time in s (``$MEAS_TIM: live real``).
    start : datetime
        Acquisition start (``$DATE_MEA``, ``MM/DD/YYYY HH:MM:SS``).
    calibration_keV : (float, float)
        ``c0, c1`` with energy of channel k = c0 + c1·k (``$ENER_FIT`` and ``$MCA_CAL``).
    spec_id, remark : str
        ``$SPEC_ID`` text and the free remark line of ``$SPEC_REM``.
    fwhm_channels : float
        Written to ``$SHAPE_CAL`` (FWHM in channels).
    """
    counts = np.asarray(counts)
    if np.any(counts < 0) or not np.all(counts == np.round(counts)):
        raise ValueError("counts must be non-negative integers")
    c0, c1 = (float(c) for c in calibration_keV)
    lines = [
        "$SPEC_ID:", spec_id,
        "$SPEC_REM:", "DET# 1", f"DETDESC# {detector_description}", "AP# Maestro Version 7.01",
        remark,
        "$DATE_MEA:", start.strftime("%m/%d/%Y %H:%M:%S"),
        "$MEAS_TIM:", f"{_time_field(live_s)} {_time_field(real_s)}",
        "$DATA:", f"0 {counts.size - 1}",
        *(f"{int(c):8d}" for c in counts),
        "$ROI:", "0",
        "$PRESETS:", "Real Time", _time_field(real_s), "0",
        "$ENER_FIT:", f"{c0:.6f} {c1:.6f}",
        "$MCA_CAL:", "2", f"{format_e3(c0)} {format_e3(c1)} keV",
        "$SHAPE_CAL:", "3", f"{format_e3(fwhm_channels)} {format_e3(0)} {format_e3(0)}",
    ]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="ascii", newline="\r\n") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


MPT_COLUMNS = (
    ("mode", "mode", "d"),
    ("ox/red", "ox_red", "d"),
    ("error", None, "d"),
    ("control changes", "control_changes", "d"),
    ("Ns changes", "Ns_changes", "d"),
    ("counter inc.", None, "d"),
    ("Ns", "Ns", "d"),
    ("time/s", "time_s", "e"),
    ("control/V/mA", "control_mA", "e"),
    ("Ewe/V", "Ewe_V", "e"),
    ("<I>/mA", "I_mA", "e"),
    ("dq/mA.h", "dq_mAh", "e"),
    ("(Q-Qo)/mA.h", "Q_Qo_mAh", "e"),
    ("Q charge/discharge/mA.h", "Q_half_mAh", "e"),
    ("half cycle", "half_cycle", "e"),
    ("cycle number", "cycle_number", "e"),
)


def _hms(seconds: float) -> str:
    h, rem = divmod(float(seconds), 3600.0)
    m, s = divmod(rem, 60.0)
    return f"{int(h)}:{int(m):02d}:{s:.4f}"


def write_mpt(
    path,
    records: Mapping[str, np.ndarray],
    *,
    start: _dt.datetime,
    current_mA: float,
    plate_h: float,
    rest_h: float,
    n_cycles: int,
    area_cm2: float = 1.0,
    step_s: float = 30.0,
    cutoff_V: float = 1.0,
) -> Path:
    """Write a BioLogic EC-Lab ASCII export (GCPL) with its header block (latin-1, CRLF).

    Parameters
    ----------
    path : path-like
    records : mapping
        Columns as returned by :func:`tests.independent.simulator.cycler_records`.
    start : datetime
        ``Acquisition started on``.
    current_mA, plate_h, rest_h, n_cycles, area_cm2, step_s, cutoff_V
        Protocol values written into the technique table of the header.
    """
    ua = current_mA * 1000.0

    def row(label, *values):
        return f"{label:<20}" + "".join(f"{v:<20}" for v in values)

    technique = [
        row("Ns", 0, 1, 2),
        row("Set I/C", "I", "I", "I"),
        row("Is", "0.000", f"{-ua:.3f}", f"{ua:.3f}"),
        row("unit Is", "mA", "\u00b5A", "\u00b5A"),
        row("vs.", "<None>", "<None>", "<None>"),
        row("N", "1.00", "1.00", "1.00"),
        row("I sign", "> 0", "> 0", "> 0"),
        row("t1 (h:m:s)", _hms(rest_h * 3600), _hms(plate_h * 3600), "10:00:0.0000"),
        row("I Range", "100 \u00b5A", "100 \u00b5A", "100 \u00b5A"),
        row("Bandwidth", 5, 5, 5),
        row("dQ", "0.000", "0.000", "0.000"),
        row("unit dQ", "mA.h", "mA.h", "mA.h"),
        row("E range min (V)", "-5.000", "-5.000", "-5.000"),
        row("E range max (V)", "5.000", "5.000", "5.000"),
        row("dEs/dt", "0.000", "0.000", "0.000"),
        row("dts (s)", f"{step_s:.4f}", f"{step_s:.4f}", f"{step_s:.4f}"),
        row("EM (V)", "pass", "-1.000", f"{cutoff_V:.3f}"),
        row("tM (h:m:s)", "0:00:0.0000", "0:00:0.0000", "0:00:0.0000"),
        row("Im", "pass", "pass", "pass"),
        row("unit Im", "mA", "mA", "mA"),
        row("dI/dt", "0.000", "0.000", "0.000"),
        row("dunit dI/dt", "mA/s", "mA/s", "mA/s"),
        row("goto Ns'", 0, 0, 1),
        row("nc cycles", 0, 0, n_cycles - 1),
    ]
    head = [
        "EC-Lab ASCII FILE",
        "Nb header lines : {n}",
        "",
        "Galvanostatic Cycling with Potential Limitation",
        "",
        "Run on channel : 1 (SN 00000)",
        "User : ",
        "CE vs. WE compliance from -10 V to 10 V",
        "Electrode connection : standard",
        "Potential control : Ewe",
        "Ewe ctrl range : min = -5.00 V, max = 5.00 V",
        "Safety Limits :",
        "\tEwe min = -1 V",
        "\tEwe max = 5 V",
        f"Acquisition started on : {start.strftime('%m/%d/%Y %H:%M:%S')}.000",
        "Loaded Setting File : NONE",
        "Saved on :",
        "\tFile : cell.mpr",
        "\tDirectory : C:\\Data\\NDP\\",
        "Device : VMP3 (SN 0000)",
        "Address : USB0",
        "EC-Lab for windows v11.43 (software)",
        "Electrode material : Cu",
        "Initial state : pristine",
        "Electrolyte : synthetic",
        "Comments : operando NDP, Li | electrolyte | Cu (independent simulator)",
        f"Electrode surface area : {area_cm2:.3f} cm\u00b2",
        "Cycle Definition : Charge/Discharge alternance",
        "Turn to OCV between techniques",
        "",
        "Technique : 1",
        "Galvanostatic Cycling with Potential Limitation",
        *technique,
        "",
        "\t".join(c[0] for c in MPT_COLUMNS) + "\t",
    ]
    head[1] = head[1].format(n=len(head))
    n_rows = len(records["time_s"])
    cols = []
    for _, key, kind in MPT_COLUMNS:
        values = np.zeros(n_rows) if key is None else np.asarray(records[key])
        if kind == "d":
            cols.append([str(int(v)) for v in values])
        else:
            cols.append([format_e3(v, 15) for v in values])
    body = ["\t".join(r) + "\t" for r in zip(*cols, strict=True)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="latin-1", newline="\r\n") as fh:
        fh.write("\n".join(head + body) + "\n")
    return path


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"cannot write non-finite {v} to TOML")
        return repr(v)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Sequence):
        return "[ " + ", ".join(_toml_value(v) for v in value) + " ]"
    raise TypeError(f"cannot write {type(value)} to TOML")


def write_run_toml(
    path,
    *,
    name: str,
    spectra: str,
    cycler: str | None,
    time_zero: str,
    calibration: Sequence[float],
    resolution_keV: float,
    solid_angle_sr: float,
    half_angle_deg: float,
    flux: float,
    area_cm2: float,
    li6_abundance: float,
    layers: Sequence[Mapping],
    analysis: Mapping,
) -> Path:
    """Write an ``ndp`` run file (the contract's TOML layout; layers detector side first)."""
    out = [
        "# Written by tests/independent (an independent simulator, no ndp code); see truth.json",
        "[run]",
        f"name = {_toml_value(name)}",
        f"spectra = {_toml_value(spectra)}",
    ]
    if cycler:
        out.append(f"cycler = {_toml_value(cycler)}")
    out += [
        f"time_zero = {_toml_value(time_zero)}",
        "",
        "[detector]",
        f"calibration = {_toml_value([float(c) for c in calibration])}",
        f"resolution_keV = {_toml_value(float(resolution_keV))}",
        f"solid_angle_sr = {_toml_value(float(solid_angle_sr))}",
        f"acceptance_half_angle_deg = {_toml_value(float(half_angle_deg))}",
        "",
        "[beam]",
        f"flux = {_toml_value(float(flux))}",
        "",
        "[sample]",
        f"area_cm2 = {_toml_value(float(area_cm2))}",
        f"li6_abundance = {_toml_value(float(li6_abundance))}",
    ]
    for layer in layers:
        out += ["", "[[sample.layers]]"]
        out += [f"{k} = {_toml_value(v)}" for k, v in layer.items()]
    out += ["", "[analysis]"]
    out += [f"{k} = {_toml_value(v)}" for k, v in analysis.items()]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path
