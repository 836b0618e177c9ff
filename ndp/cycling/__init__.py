"""What the Li did in each cycle: the cycler's log, half cycles, efficiencies and deposit shape.

Owns the cycler readers (:mod:`~ndp.cycling.cycler`: BioLogic, Neware, Arbin, Maccor, LAND,
CSV), half cycles and Coulombic efficiency (:mod:`~ndp.cycling.cycles`), the Li inventory fit
with frame averaging and the per-cycle Li efficiency (:mod:`~ndp.cycling.efficiency`), and the
deposit indicators: thickness, density, centroid, penetration, gap
(:mod:`~ndp.cycling.indicators`).

May import: :mod:`ndp.model`, :mod:`ndp.spectra`, :mod:`ndp.physics` and ndp's base.
"""

from ndp.lazy import exports

_NAMES = {
    "read_cycler": "cycler",
    "CYCLER_FORMATS": "cycler",
    "half_cycles": "cycles",
    "efficiency_table": "efficiency",
    "fit_inventory": "efficiency",
    "align": "efficiency",
}
__all__ = sorted(_NAMES)
__getattr__, __dir__ = exports(__name__, _NAMES)
