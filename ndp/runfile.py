"""The run file (TOML): load, validate, and build the objects it describes.

Every problem is a :class:`~ndp.errors.ConfigError` naming the file, the line and the key, and
saying what was expected. Paths in the file are relative to the file. See the README's run-file
reference for every key.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ndp.errors import ConfigError, NdpError
from ndp.model.instrument import Parameter
from ndp.physics import constants as C
from ndp.physics.detector import Detector
from ndp.physics.materials import Layer, Material, Stack
from ndp.physics.srim import read_srim

__all__ = ["Analysis", "Instruments", "RunConfig", "load_run", "parse_run"]


# key -> (kind, required); kinds are checked by _check below.
_SCHEMA: dict[str, dict[str, tuple[str, bool]]] = {
    "run": {
        "name": ("str", False),
        "spectra": ("paths", False),
        "listmode": ("paths", False),
        "frame_s": ("positive", False),
        "background": ("paths", False),
        "cycler": ("path", False),
        "time_zero": ("datetime", False),
        "cycler_offset_s": ("number", False),
        "plating": ("plating", False),
    },
    "detector": {
        "calibration": ("calibration", False),
        "resolution_keV": ("positive", False),
        "solid_angle_sr": ("positive", False),
        "acceptance_half_angle_deg": ("angle", False),
        "threshold_keV": ("nonnegative", False),
        "calibration_standard": ("standard", False),
        "straggling": ("straggling", False),
        "cone": ("cone", False),
        "dead_layer_material": ("dead_layer_material", False),
        "dead_layer_um": ("nonnegative", False),
        "pulse_height_defect_alpha_keV": ("nonnegative", False),
        "pulse_height_defect_triton_keV": ("nonnegative", False),
        "tail_fraction": ("tail_fraction", False),
        "tail_slope_keV": ("positive", False),
    },
    "beam": {"flux": ("positive", False)},
    "sample": {
        "area_cm2": ("positive", False),
        "li6_abundance": ("fraction", False),
        "layers": ("layers", True),
    },
    "layer": {
        "name": ("str", False),
        "material": ("material", False),  # required unless srim names the target
        "density": ("positive", False),
        "thickness_um": ("positive", True),
        "profiled": ("bool", False),
        "srim": ("paths", False),
        "stopping": ("stopping", False),
    },
    "analysis": {
        "particles": ("particles", False),
        "method": ("method", False),
        "depth_step_um": ("positive", False),
        "li_region_um": ("interval", False),
        "matrix": ("matrix", False),
        "max_li_density_rel": ("positive", False),
        "regularization": ("regularization", False),
        "fit_range_keV": ("interval", False),
        "host_li": ("host_li", False),
    },
    "instrument": {
        "window_scale": ("free_or_positive", False),
        "window_tolerance": ("positive", False),
        "width_scale": ("free_or_positive", False),
        "width_tolerance": ("positive", False),
        "surface_contact": ("bool", False),
    },
}

_SECTIONS = ("run", "detector", "beam", "sample", "analysis", "instrument")


@dataclass(frozen=True)
class Analysis:
    """The ``[analysis]`` section."""

    particles: str = "auto"
    method: str = "inversion"
    depth_step_um: float = 0.1
    li_region_um: tuple[float, float] | None = None
    matrix: str = "fixed"
    max_li_density_rel: float | None = None
    regularization: str | float = "evidence"
    fit_range_keV: tuple[float, float] | None = None
    #: Li density of the host the deposit displaces: "auto", "declared", "measured" or atoms/cm³.
    host_li: str | float = "auto"


@dataclass(frozen=True)
class Instruments:
    """The ``[instrument]`` section: priors of the fitted instrument corrections."""

    window: Parameter = field(default_factory=lambda: Parameter(1.0, 0.1, True))
    width: Parameter = field(default_factory=lambda: Parameter(1.0, 0.3, True))
    surface_contact: bool = True


def _parameter(value, tolerance: float) -> Parameter:
    """``"free"``: fitted around 1 ± tolerance; a number: fixed at it."""
    return Parameter(1.0, float(tolerance), True) if value == "free" else Parameter(float(value), float(tolerance), False)


@dataclass(frozen=True)
class RunConfig:
    """A validated run file.

    Attributes
    ----------
    path : Path or None
        The run file (None when parsed from a string).
    base : Path
        The folder paths are resolved against.
    stack : Stack
    detector : Detector
    calibration : tuple of float or str or None
        keV = c0 + c1·channel (+ c2·channel²), or a reference spectrum (path) to fit, a
        ``calibration_standard`` ("b10" or "li6").
    analysis : Analysis
    raw : dict
        The file as parsed, for provenance.
    text : str
        The file's text, to name the line of a key in later errors (:meth:`error`).
    srim_files : tuple of str
        The SRIM tables the layers use (inputs: hashed with the spectra).
    """

    path: Path | None
    base: Path
    name: str
    stack: Stack
    detector: Detector
    analysis: Analysis
    instrument: Instruments = field(default_factory=lambda: Instruments())
    calibration: tuple[float, ...] | str | None = None
    calibration_standard: str = "b10"
    spectra: tuple[str, ...] = ()
    listmode: tuple[str, ...] = ()
    frame_s: float | None = None
    background: tuple[str, ...] = ()
    cycler: str | None = None
    time_zero: dt.datetime | None = None
    cycler_offset_s: float = 0.0
    plating: str = "negative"
    flux: float | None = None
    area_cm2: float = 1.0
    li6_abundance: float = C.LI6_NATURAL_ABUNDANCE
    raw: dict = field(default_factory=dict, repr=False)
    text: str = field(default="", repr=False)
    srim_files: tuple[str, ...] = ()

    def error(self, key: str, message: str, *, at: str | None = None) -> ConfigError:
        """A :class:`ConfigError` about ``key``, naming the line where ``at`` (default: the
        key itself) is set in the run file, for problems found after parsing (a glob that
        matches nothing, a missing file)."""
        return ConfigError(self.path, key, message, line=_locate(self.text, at or key))

    def resolve(self, relative: str) -> Path:
        """A path from the run file, resolved against the run file's folder."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.base / p


#: Most depth cells the profiled region may be cut into: the response matrices grow with it
#: (4096 channels × 10⁴ cells × 8 bytes is 330 MB per particle), refused before allocating.
MAX_DEPTH_CELLS = 10_000


def _check_grid(ck, stack, step_um: float, li_region) -> None:
    """A depth grid the machine can hold, and an inventory window inside the profiled region."""
    thick = stack.region_thickness_um
    if thick / step_um > MAX_DEPTH_CELLS:
        ck.fail("analysis.depth_step_um",
                f"{step_um:g} µm cuts the {thick:g} µm profiled region into {thick / step_um:.3g} cells; "
                f"expected at most {MAX_DEPTH_CELLS} (a step >= {thick / MAX_DEPTH_CELLS:.2g} µm)")  # fmt: skip
    if li_region is not None and not (li_region[0] >= 0 and li_region[1] <= thick * (1 + 1e-9)):
        ck.fail("analysis.li_region_um",
                f"expected a window inside the profiled region, 0 to {thick:g} µm, got {list(li_region)}")  # fmt: skip


def load_run(path: str | Path) -> RunConfig:
    """Read and validate a run file.

    Raises
    ------
    ConfigError
        Naming the file, line and key of the first problem.
    """
    path = Path(path)
    try:
        # utf-8-sig: Windows editors start a UTF-8 file with a byte-order mark.
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(path, None, "run file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, f"cannot read the run file ({exc})") from None
    return parse_run(text, path=path)


class _Checker:
    def __init__(self, text: str, path: Path | None):
        self.text = text
        self.path = path

    def fail(self, key: str, message: str):
        raise ConfigError(self.path, key, message, line=_locate(self.text, key))

    def check(self, key: str, kind: str, value: Any) -> Any:
        def need(ok: bool, what: str):
            if not ok:
                self.fail(key, f"expected {what}, got {value!r}")

        is_num = isinstance(value, int | float) and not isinstance(value, bool)
        if kind == "str":
            need(isinstance(value, str), "a string")
        elif kind == "bool":
            need(isinstance(value, bool), "true or false")
        elif kind == "number":
            need(is_num and math.isfinite(value), "a number")
        elif kind == "positive":
            need(is_num and math.isfinite(value) and value > 0, "a number > 0")
        elif kind == "nonnegative":
            need(is_num and math.isfinite(value) and value >= 0, "a number >= 0")
        elif kind == "fraction":
            need(is_num and 0 < value <= 1, "a fraction in (0, 1]")
        elif kind == "angle":
            need(is_num and 0 <= value < 90, "an angle in degrees, 0 <= angle < 90")
        elif kind == "path":
            need(isinstance(value, str) and value.strip() != "", "a file path")
        elif kind == "paths":
            if isinstance(value, str):
                value = [value]
            need(
                isinstance(value, list) and value and all(isinstance(v, str) and v for v in value),
                "a path, a glob or a list of them",
            )
            value = tuple(value)
        elif kind == "datetime":
            if isinstance(value, str):
                try:
                    value = dt.datetime.fromisoformat(value)
                except ValueError:
                    self.fail(
                        key,
                        f"expected an ISO 8601 date-time like 2020-03-01T09:00:00, got {value!r}",
                    )
            need(isinstance(value, dt.datetime), "a date-time like 2020-03-01T09:00:00")
        elif kind == "calibration":
            if isinstance(value, str):
                return value
            need(
                isinstance(value, list)
                and 2 <= len(value) <= 3
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value),
                "[offset_keV, slope_keV_per_channel] or [c0, c1, c2], or a calibration file",
            )
            need(value[1] > 0, "a positive slope (keV per channel)")
            value = tuple(float(v) for v in value)
        elif kind == "particles":
            need(
                value in ("auto", "alpha", "triton", "both"), "'auto', 'alpha', 'triton' or 'both'"
            )
        elif kind == "plating":
            need(
                value in ("negative", "positive"),
                "'negative' or 'positive' (the current sign that plates Li)",
            )
        elif kind == "standard":
            need(value in ("b10", "li6"), "'b10' or 'li6'")
        elif kind == "straggling":
            need(value in ("bohr", "lindhard-scharff", "chu", "yang"),
                 "'bohr', 'lindhard-scharff', 'chu' or 'yang'")  # fmt: skip
        elif kind == "cone":
            need(value in ("exact", "gaussian"), "'exact' or 'gaussian'")
        elif kind == "dead_layer_material":
            need(value in ("Si", "Au"), "'Si' or 'Au'")
        elif kind == "tail_fraction":
            need(is_num and 0 <= value < 1, "a fraction 0 <= f < 1")
        elif kind == "matrix":
            need(value in ("fixed", "self-consistent"), "'fixed' or 'self-consistent'")
        elif kind == "method":
            need(value in ("direct", "inversion"), "'direct' or 'inversion'")
        elif kind == "free_or_positive":
            need(value == "free" or (is_num and math.isfinite(value) and value > 0),
                 "'free' (fitted) or a number > 0 (fixed)")  # fmt: skip
        elif kind == "regularization":
            need(value == "evidence" or (is_num and math.isfinite(value) and value > 0),
                 "'evidence' or a number > 0 (λ relative to the data's curvature)")  # fmt: skip
        elif kind == "stopping":
            need(value in ("auto", "corrected", "bragg"),
                 "'auto' (NIST's compound table, else corrected), 'corrected' or 'bragg'")  # fmt: skip
        elif kind == "host_li":
            need(value in ("auto", "declared", "measured") or (is_num and math.isfinite(value) and value >= 0),
                 "'auto', 'declared', 'measured' or a Li density >= 0 in atoms/cm3")  # fmt: skip
        elif kind == "interval":
            need(
                isinstance(value, list)
                and len(value) == 2
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
                and 0 <= value[0] < value[1],
                "[start_um, end_um] with 0 <= start < end",
            )
            value = (float(value[0]), float(value[1]))
        return value

    def section(self, name: str, table: Any, schema_key: str | None = None) -> dict:
        schema = _SCHEMA[schema_key or name]
        if not isinstance(table, dict):
            self.fail(name, "expected a table")
        out = {}
        for key, value in table.items():
            full = f"{name}.{key}"
            if key not in schema:
                close = difflib.get_close_matches(key, schema, n=1)
                hint = (
                    f"; did you mean '{close[0]}'?"
                    if close
                    else f"; known keys: {', '.join(schema)}"
                )
                self.fail(full, f"unknown key{hint}")
            kind = schema[key][0]
            if kind in ("layers", "material"):
                out[key] = value
            else:
                out[key] = self.check(full, kind, value)
        for key, (_, required) in schema.items():
            if required and key not in table:
                self.fail(f"{name}.{key}", "missing required key")
        return out

    def material(self, key: str, value: Any, density: float | None, srim,
                 stopping: str = "auto") -> Material:  # fmt: skip
        try:
            if value is None:  # the SRIM tables' own target

                return Material.from_srim(*(read_srim(f) for f in srim), density=density)
            if isinstance(value, str):
                mat = Material(value, density, stopping=stopping)
            elif isinstance(value, dict):
                unknown = set(value) - {"mix", "by", "name"}
                if unknown:
                    self.fail(
                        f"{key}.{sorted(unknown)[0]}",
                        "unknown key; a mixture has 'mix', 'by' and 'name'",
                    )
                comps = value.get("mix")
                ok = (
                    isinstance(comps, list)
                    and comps
                    and all(
                        isinstance(c, list) and len(c) == 2 and isinstance(c[0], str) for c in comps
                    )
                )
                if not ok:
                    self.fail(f"{key}.mix", 'expected a list of ["material", fraction] pairs')
                mat = Material.mix(
                    [tuple(c) for c in comps],
                    by=value.get("by", "weight"),
                    density=density,
                    name=value.get("name"),
                    stopping=stopping,
                )
            else:
                self.fail(
                    key, f"expected a material name, a formula or {{ mix = [...] }}, got {value!r}"
                )
            if srim:
                tables = {}
                for s in srim:
                    t = read_srim(s)
                    tables["alpha" if t.ion_z == 2 else "triton"] = t
                mat = mat.with_srim(**tables)
        except ConfigError:
            raise
        except NdpError as exc:
            self.fail(key, re.sub(r"^material: ", "", str(exc)))
        return mat


def parse_run(text: str, *, path: str | Path | None = None) -> RunConfig:
    """Validate a run file's text; see :func:`load_run`."""
    path = None if path is None else Path(path)
    base = path.resolve().parent if path is not None else Path.cwd()
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ConfigError(
            path, None, f"not valid TOML: {msg}", line=int(m.group(1)) if m else None
        ) from None
    ck = _Checker(text, path)
    for name in doc:
        if name not in _SECTIONS:
            close = difflib.get_close_matches(name, list(_SECTIONS), n=1)
            ck.fail(name, "unknown section" + (f"; did you mean [{close[0]}]?" if close else ""))
    run = ck.section("run", doc.get("run", {}))
    det = ck.section("detector", doc.get("detector", {}))
    beam = ck.section("beam", doc.get("beam", {}))
    if "sample" not in doc:
        ck.fail("sample", "missing section [sample] with [[sample.layers]]")
    sample = ck.section("sample", doc["sample"])
    analysis = ck.section("analysis", doc.get("analysis", {}))
    inst = ck.section("instrument", doc.get("instrument", {}))

    layers_raw = sample["layers"]
    if not isinstance(layers_raw, list) or not layers_raw:
        ck.fail("sample.layers", "expected one or more [[sample.layers]] tables")
    layers, srim_files = [], []
    for i, raw in enumerate(layers_raw):
        key = f"sample.layers.{i}"
        lay = ck.section(key, raw, "layer")
        srim = [str((base / s) if not Path(s).is_absolute() else s) for s in lay.get("srim", ())]
        srim_files += srim
        if "material" not in lay and not srim:
            ck.fail(f"{key}.material", "missing required key (or give srim = [...] for the target)")
        mat = ck.material(f"{key}.material", lay.get("material"), lay.get("density"), srim,
                          lay.get("stopping", "auto"))  # fmt: skip
        layers.append(
            Layer(
                mat, lay["thickness_um"], profiled=lay.get("profiled", False), name=lay.get("name")
            )
        )
    profiled = [i for i, layer in enumerate(layers) if layer.profiled]
    if len(profiled) != 1:
        where = f"sample.layers.{profiled[1]}.profiled" if len(profiled) > 1 else "sample.layers"
        ck.fail(where, f"exactly one layer must have profiled = true, found {len(profiled)}")
    stack = Stack(tuple(layers))

    if "spectra" in run and "listmode" in run:
        ck.fail("run.listmode", "give either run.spectra or run.listmode, not both")
    if "listmode" in run and "frame_s" not in run:
        ck.fail("run.frame_s", "required with run.listmode (frame duration in s)")

    calibration = det.pop("calibration", None)
    calibration_standard = det.pop("calibration_standard", "b10")
    try:
        detector = Detector(**det)
    except NdpError as exc:
        ck.fail("detector", str(exc))
    li_region = analysis.get("li_region_um")
    particles = analysis.get("particles", "auto")
    _check_grid(ck, stack, analysis.get("depth_step_um", 0.1), li_region)
    return RunConfig(
        path=path,
        base=base,
        name=run.get("name", path.stem if path else "run"),
        stack=stack,
        detector=detector,
        analysis=Analysis(
            particles="auto" if particles == "both" else particles,
            method=analysis.get("method", "inversion"),
            depth_step_um=analysis.get("depth_step_um", 0.1),
            li_region_um=li_region,
            matrix=analysis.get("matrix", "fixed"),
            max_li_density_rel=analysis.get("max_li_density_rel"),
            regularization=analysis.get("regularization", "evidence"),
            fit_range_keV=analysis.get("fit_range_keV"),
            host_li=analysis.get("host_li", "auto"),
        ),
        instrument=Instruments(
            window=_parameter(inst.get("window_scale", "free"), inst.get("window_tolerance", 0.1)),
            width=_parameter(inst.get("width_scale", "free"), inst.get("width_tolerance", 0.3)),
            surface_contact=inst.get("surface_contact", True),
        ),
        calibration=calibration,
        calibration_standard=calibration_standard,
        spectra=run.get("spectra", ()),
        listmode=run.get("listmode", ()),
        frame_s=run.get("frame_s"),
        background=run.get("background", ()),
        cycler=run.get("cycler"),
        time_zero=run.get("time_zero"),
        cycler_offset_s=run.get("cycler_offset_s", 0.0),
        plating=run.get("plating", "negative"),
        flux=beam.get("flux"),
        area_cm2=sample.get("area_cm2", 1.0),
        li6_abundance=sample.get("li6_abundance", C.LI6_NATURAL_ABUNDANCE),
        raw=doc,
        text=text,
        srim_files=tuple(srim_files),
    )


def _locate(text: str, dotted: str) -> int | None:
    """Line (1-based) where a dotted key such as ``sample.layers.1.density`` is set.

    TOML parsers do not report positions, so this walks the table headers: ``[a]`` and the
    n-th ``[[a.b]]`` open the table a key belongs to.
    """
    parts = dotted.split(".")
    # Split the dotted key into the table path (with array indices) and the final key.
    table: list[str] = []
    index: int | None = None
    key: str | None = None
    i = 0
    while i < len(parts):
        if i + 1 < len(parts) and parts[i + 1].isdigit():
            table.append(parts[i])
            index = int(parts[i + 1])
            i += 2
        elif i == len(parts) - 1 and table:
            key = parts[i]
            i += 1
        else:
            table.append(parts[i])
            i += 1
    if key is None and len(table) > 1 and index is None:
        key = table.pop()
    want = ".".join(table)
    current = None
    seen = -1
    header_line = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        m = re.match(r"^\[\[\s*([^\]]+?)\s*\]\]", s) or re.match(r"^\[\s*([^\]]+?)\s*\]", s)
        if m:
            current = m.group(1)
            if current == want:
                if s.startswith("[["):
                    seen += 1
                if index is None or seen == index:
                    header_line = lineno
            continue
        in_table = current == want and (index is None or seen == index)
        if in_table and key and re.match(rf'^"?{re.escape(key)}"?\s*=', s):
            return lineno
    return header_line
