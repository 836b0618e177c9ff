"""ANSI N42.42 (2012) XML: every ``Spectrum`` of every ``RadMeasurement`` is a frame, with
``StartDateTime``, ``RealTimeDuration``, ``LiveTimeDuration`` (ISO 8601 durations),
``ChannelData`` (plain or ``CountedZeroes``) and ``EnergyCalibration/CoefficientValues``."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import xarray as xr

from ndp.errors import FileFormatError
from ndp.fileio import atomic_write
from ndp.spectra.dataset import MAX_CHANNELS, Frames, check_frames
from ndp.spectra.io._text import to_datetime, to_float

__all__ = ["read", "read_frames", "sniff", "write"]

NS = "http://physics.nist.gov/N42/2011/N42"


def sniff(head: bytes) -> bool:
    return b"RadInstrumentData" in head[:4096]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(el, name):
    for child in el:
        if _local(child.tag) == name:
            return child
    return None


def _duration(text: str, path, what: str) -> float:
    m = re.fullmatch(
        r"\s*P(?:(\d+(?:\.\d*)?)D)?T?(?:(\d+(?:\.\d*)?)H)?(?:(\d+(?:\.\d*)?)M)?(?:(\d+(?:\.\d*)?)S)?\s*",
        text or "",
    )
    if not m or not any(m.groups()):
        raise FileFormatError(
            path, f"{what}: expected an ISO 8601 duration like PT600S, got {text!r}"
        )
    d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + s


def _channels(el, path) -> np.ndarray:
    tokens = (el.text or "").split()
    try:
        values = np.array([float(t) for t in tokens])
    except ValueError:
        bad = next(t for t in tokens if not re.fullmatch(r"[-+\d.eE]+", t))
        raise FileFormatError(path, f"ChannelData: expected numbers, got {bad!r}") from None
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise FileFormatError(path, "ChannelData: expected counts >= 0 (finite numbers)")
    if el.get("compressionCode", "None") == "CountedZeroes":
        out = []
        i = 0
        while i < len(values):
            if values[i] == 0:
                run = values[i + 1] if i + 1 < len(values) else -1.0
                # Checked before expanding: a corrupt run length would allocate without bound.
                if run != int(run) or not 0 <= len(out) + run <= MAX_CHANNELS:
                    raise FileFormatError(
                        path, f"ChannelData: CountedZeroes run of {run:g} zeros; expected a whole "
                        f"number keeping the spectrum within {MAX_CHANNELS} channels",
                    )  # fmt: skip
                out.extend([0.0] * int(run))
                i += 2
            else:
                out.append(values[i])
                i += 1
        values = np.array(out)
    return values


def read_frames(path: str | os.PathLike) -> Frames:
    """Read an N42 file: one frame per ``Spectrum``."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise FileFormatError(
            path,
            f"not well-formed XML ({exc.msg if hasattr(exc, 'msg') else exc})",
            exc.position[0],
        ) from None
    except OSError as exc:
        raise FileFormatError(path, f"cannot read the file ({exc.strerror})") from None
    except (LookupError, ValueError) as exc:  # an unknown encoding declared, say
        raise FileFormatError(path, f"not readable XML ({exc})") from None
    if _local(root.tag) != "RadInstrumentData":
        raise FileFormatError(
            path, f"root element is {_local(root.tag)}, expected RadInstrumentData"
        )
    cals = {}
    for el in root.iter():
        if _local(el.tag) == "EnergyCalibration":
            coeffs = _find(el, "CoefficientValues")
            if coeffs is not None and coeffs.text:
                cals[el.get("id")] = [
                    to_float(v, path, None, "EnergyCalibration coefficient")
                    for v in coeffs.text.split()
                ]
    counts, starts, lives, reals, dets = [], [], [], [], []
    calibration = None
    for meas in (el for el in root.iter() if _local(el.tag) == "RadMeasurement"):
        st = _find(meas, "StartDateTime")
        start = (
            np.datetime64(to_datetime(st.text, path, None), "ns")
            if st is not None
            else np.datetime64("NaT")
        )
        rt = _find(meas, "RealTimeDuration")
        if rt is None:
            raise FileFormatError(path, f"RadMeasurement {meas.get('id')}: no RealTimeDuration")
        real = _duration(rt.text, path, "RealTimeDuration")
        for spec in (el for el in meas if _local(el.tag) == "Spectrum"):
            lt = _find(spec, "LiveTimeDuration")
            cd = _find(spec, "ChannelData")
            if cd is None:
                raise FileFormatError(path, f"Spectrum {spec.get('id')}: no ChannelData")
            live = _duration(lt.text, path, "LiveTimeDuration") if lt is not None else real
            counts.append(_channels(cd, path))
            starts.append(start)
            lives.append(live)
            reals.append(real)
            dets.append(spec.get("radDetectorInformationReference", ""))
            ref = spec.get("energyCalibrationReference")
            if calibration is None and ref in cals:
                calibration = cals[ref]
    if not counts:
        raise FileFormatError(path, "no RadMeasurement/Spectrum with ChannelData")
    sizes = {c.size for c in counts}
    if len(sizes) > 1:
        raise FileFormatError(
            path, f"spectra have different channel counts {sorted(sizes)}; expected one"
        )
    return check_frames(
        np.vstack(counts), start=starts, live_time_s=lives, real_time_s=reals, source=str(path),
        fmt="n42", calibration=calibration, detector=dets,
    )  # fmt: skip


def write(path: str | os.PathLike, ds: xr.Dataset) -> Path:
    """Write every frame of a spectra Dataset as one N42 file (atomically)."""
    ET.register_namespace("", NS)
    root = ET.Element(f"{{{NS}}}RadInstrumentData")
    info = ET.SubElement(root, f"{{{NS}}}RadDetectorInformation", id="RadDetectorInformation-1")
    ET.SubElement(info, f"{{{NS}}}RadDetectorCategoryCode").text = "Other"
    ET.SubElement(info, f"{{{NS}}}RadDetectorKindCode").text = "Other"
    cal = ds.attrs.get("calibration")
    if cal is not None:
        ec = ET.SubElement(root, f"{{{NS}}}EnergyCalibration", id="EnergyCalibration-1")
        ET.SubElement(ec, f"{{{NS}}}CoefficientValues").text = " ".join(repr(float(c)) for c in cal)
    for i in range(ds.sizes["frame"]):
        f = ds.isel(frame=i)
        m = ET.SubElement(root, f"{{{NS}}}RadMeasurement", id=f"RadMeasurement-{i + 1}")
        ET.SubElement(m, f"{{{NS}}}MeasurementClassCode").text = "Foreground"
        if not np.isnat(f.start.values):
            ET.SubElement(m, f"{{{NS}}}StartDateTime").text = str(
                f.start.values.astype("datetime64[ms]")
            )
        ET.SubElement(m, f"{{{NS}}}RealTimeDuration").text = f"PT{float(f.real_time_s)!r}S"
        attrs = {
            "id": f"Spectrum-{i + 1}",
            "radDetectorInformationReference": "RadDetectorInformation-1",
        }
        if cal is not None:
            attrs["energyCalibrationReference"] = "EnergyCalibration-1"
        s = ET.SubElement(m, f"{{{NS}}}Spectrum", **attrs)
        ET.SubElement(s, f"{{{NS}}}LiveTimeDuration").text = f"PT{float(f.live_time_s)!r}S"
        ET.SubElement(s, f"{{{NS}}}ChannelData", compressionCode="None").text = " ".join(
            str(int(c)) for c in f.counts.values
        )
    ET.indent(root)
    return atomic_write(path, ET.tostring(root, encoding="utf-8", xml_declaration=True))


def read(path: str | os.PathLike) -> xr.Dataset:
    """The file as a spectra Dataset (:mod:`ndp.spectra.dataset`); see :func:`read_frames`."""
    return read_frames(path).to_dataset()
