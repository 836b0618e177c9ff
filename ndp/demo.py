"""The bundled demo: a synthetic beamtime that resembles the published experiment.

Cu|hybrid solid electrolyte|Li cells (PEO–LiTFSI–SN with 10 wt% LAGP), bare Cu against Cu coated
with 100 nm ZnO; 5 cycles at 0.05 mA/cm², 4 h plating, stripping to the cut-off; 10-minute
frames through a 10 µm Cu window, so only tritons reach the detector. The truth is ndp's own
:class:`~ndp.synthetic.OperandoCell` (Li efficiency 45 % on bare Cu, 80 % on ZnO@Cu, as the
Delft group reported), the spectra come from ndp's simulator, and both runs are processed by
:func:`ndp.pipeline.run` exactly as a user's data would be. Deterministic (fixed seeds).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ndp.cycling.cycler import write_mpt
from ndp.model.scale import Scale
from ndp.model.simulate import simulate
from ndp.physics.detector import Detector
from ndp.physics.materials import Material, Stack
from ndp.spectra.calibration import Calibration
from ndp.spectra.io import spe
from ndp.synthetic import OperandoCell

__all__ = ["CELLS", "build", "hybrid_electrolyte"]

#: The two cells: Li efficiency, and how dense active and inactive Li grow (Li-metal fraction).
CELLS = {
    "bare-Cu": {"li_efficiency": 0.45, "active_density_rel": 0.45, "inactive_density_rel": 0.25,
                "stripping_yield": 0.90, "coating": None, "seed": 11},
    "ZnO-Cu": {"li_efficiency": 0.80, "active_density_rel": 0.85, "inactive_density_rel": 0.6,
               "stripping_yield": 0.97, "coating": 0.1, "seed": 12},
}  # fmt: skip

RUN_TOML = """\
# ndp demo: {title}
[run]
name = "{title}"
spectra = "spectra/*.Spe"
cycler = "cycler/cell.mpt"
time_zero = "{start}"

[detector]
calibration = [ {c0}, {c1} ]
resolution_keV = {fwhm}
solid_angle_sr = {omega}
acceptance_half_angle_deg = {half_angle}
threshold_keV = 50.0

[beam]
flux = {flux:.3e}

[sample]
area_cm2 = 1.0
li6_abundance = 0.0759

[[sample.layers]]
name = "Cu current collector (window)"
material = "Cu"
thickness_um = 10.0
{coating}
[[sample.layers]]
name = "hybrid solid electrolyte"
material = {{ mix = [["PEO", 0.6], ["LiTFSI", 0.2], ["SN", 0.1], ["LAGP", 0.1]], by = "weight", name = "HSE" }}
thickness_um = 60.0
profiled = true

[analysis]
particles = "auto"
method = "inversion"
depth_step_um = 0.25
li_region_um = [0.0, 25.0]
"""

COATING = """
[[sample.layers]]
name = "ZnO coating"
material = "ZnO"
thickness_um = {t}
"""


def hybrid_electrolyte() -> Material:
    """PEO–LiTFSI–SN with 10 wt% LAGP, the demo's electrolyte."""
    return Material.mix(
        [("PEO", 0.6), ("LiTFSI", 0.2), ("SN", 0.1), ("LAGP", 0.1)], by="weight", name="HSE"
    )


def build(folder, *, cycles: int = 5, frame_s: float = 600.0) -> dict[str, dict]:
    """Write the demo's two runs (run file, spectra, cycler log) into ``folder``.

    Returns
    -------
    dict
        Cell name → {"run_file": Path, "truth": per-cycle truth DataFrame}.
    """
    folder = Path(folder)
    hse = hybrid_electrolyte()
    cal = Calibration.from_linear(-10.0, 0.75)
    det = Detector(
        resolution_keV=20.0, acceptance_half_angle_deg=5.0, solid_angle_sr=1e-2, threshold_keV=50.0
    )
    flux = 1e9
    scale = Scale.from_beam(flux, 1.0, det.solid_angle_sr)
    out = {}
    for name, spec in CELLS.items():
        cell = OperandoCell(cycles=cycles, li_efficiency=spec["li_efficiency"],
                            active_density_rel=spec["active_density_rel"],
                            inactive_density_rel=spec["inactive_density_rel"],
                            stripping_yield=spec["stripping_yield"], host_li_cm3=hse.li_atoms_cm3)  # fmt: skip
        layers = [Material("Cu")(10.0)]
        if spec["coating"]:
            layers.append(Material("ZnO")(spec["coating"]))
        layers.append(hse(60.0, profiled=True))
        stack = Stack(tuple(layers))
        depth = np.linspace(0.0, 60.0, 3001)
        truth = cell.frame_profiles(frame_s, depth)
        spectra = simulate(stack, det, cal, truth, scale=scale, live_time_s=frame_s,
                           start=np.datetime64(cell.start), seed=spec["seed"])  # fmt: skip
        spectra.attrs["label"] = f"ndp demo {name}"
        cell_dir = folder / name
        (cell_dir / "spectra").mkdir(parents=True, exist_ok=True)
        (cell_dir / "cycler").mkdir(parents=True, exist_ok=True)
        for i in range(spectra.sizes["frame"]):
            spe.write(cell_dir / "spectra" / f"frame_{i:04d}.Spe", spectra, i)
        write_mpt(cell_dir / "cycler" / "cell.mpt", cell.cycler_log())
        title = (
            f"Cu|HSE|Li, {'bare Cu' if not spec['coating'] else '100 nm ZnO on Cu'}, 0.05 mA/cm2"
        )
        text = RUN_TOML.format(
            title=title, start=pd.Timestamp(cell.start).isoformat(), c0=cal.coefficients[0], c1=cal.coefficients[1],
            fwhm=det.resolution_keV, omega=det.solid_angle_sr, half_angle=det.acceptance_half_angle_deg, flux=flux,
            coating=COATING.format(t=spec["coating"]) if spec["coating"] else "",
        )  # fmt: skip
        run_file = cell_dir / "run.toml"
        run_file.write_text(text, encoding="utf-8")
        cell.truth.to_csv(cell_dir / "truth.csv", index=False, float_format="%.6g")
        out[name] = {"run_file": run_file, "truth": cell.truth}
    return out
