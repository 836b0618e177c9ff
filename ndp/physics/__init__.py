"""The physics of NDP, true of any sample: what a particle born at some depth has left when it
reaches the detector.

Owns the constants and unit strings (:mod:`~ndp.physics.constants`, :mod:`~ndp.physics.units`),
the sample as built (:mod:`~ndp.physics.materials`: ``Material``, ``Layer``, ``Stack``),
stopping powers and ranges (:mod:`~ndp.physics.stopping`, SRIM tables in
:mod:`~ndp.physics.srim`), straggling models (:mod:`~ndp.physics.straggling`), energy ↔ depth
through a stack (:mod:`~ndp.physics.kinematics`), depth resolution
(:mod:`~ndp.physics.resolution`) and the detector (:mod:`~ndp.physics.detector`: resolution,
collimator cone, dead layer, pulse-height defect, tail).

May import: numpy, scipy, periodictable and ndp's base (``ndp.errors``, ``ndp.fileio``,
``ndp.optional``). Nothing here knows about spectrum files, inversions or cyclers.
"""

from ndp.lazy import exports

_NAMES = {
    "Material": "materials",
    "Layer": "materials",
    "Stack": "materials",
    "named_materials": "materials",
    "Particle": "stopping",
    "PARTICLES": "stopping",
    "get_particle": "stopping",
    "Detector": "detector",
    "CompiledStack": "kinematics",
    "detected_energy": "kinematics",
    "depth_from_energy": "kinematics",
    "depth_resolution": "resolution",
    "read_srim": "srim",
}
__all__ = sorted(_NAMES)
__getattr__, __dir__ = exports(__name__, _NAMES)
