"""ndp: operando neutron depth profiling of lithium batteries.

Spectra → energy → depth → Li density profiles → per-cycle Li efficiency → figures, and the
package reads the same way, each part importing only those before it:

- :mod:`ndp.physics`: materials, layers and stacks, stopping, straggling, kinematics,
  resolution, the detector;
- :mod:`ndp.spectra`: readers (:mod:`ndp.spectra.io`), list-mode framing, calibration,
  reductions;
- :mod:`ndp.model`: forward model, response, objective, solver, instrument fit, inversion;
- :mod:`ndp.cycling`: cycler logs, half cycles, Li and Coulombic efficiency, deposit indicators;
- the product: :mod:`ndp.runfile`, :mod:`ndp.pipeline` (:func:`run`), :mod:`ndp.plot`,
  :mod:`ndp.explore`, :mod:`ndp.describe`, the ``ndp`` command (:mod:`ndp.cli`).

The names below load on first use, so that ``import ndp`` (and ``ndp --help``) stays fast and
never imports matplotlib, scipy or ipywidgets until something needs them:

>>> import ndp
>>> cu = ndp.Material("Cu")
>>> stack = cu(10.0) | ndp.Material("Li")(30.0, profiled=True)
"""

from importlib import import_module

from ndp.errors import NdpError

#: Public name → the module that defines it.
_LAZY = {
    "Material": "physics.materials",
    "named_materials": "physics.materials",
    "PARTICLES": "physics.stopping",
    "Particle": "physics.stopping",
    "get_particle": "physics.stopping",
    "Layer": "physics.materials",
    "Stack": "physics.materials",
    "Detector": "physics.detector",
    "Calibration": "spectra.calibration",
    "read_spectra": "spectra.io",
    "invert": "model.invert",
    "fit_instrument": "model.invert",
    "run": "pipeline",
    "RunResult": "pipeline",
    "load_result": "pipeline",
    "explore": "explore",
    "describe": "describe",
}
#: The subpackages, in the order data flows through them (each may import those before it).
SUBPACKAGES = ("physics", "spectra", "model", "cycling")

__all__ = ["NdpError", "__version__", *sorted(_LAZY)]


def __getattr__(name):
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("ndp")
        except PackageNotFoundError:  # running from a source tree that was not installed
            value = "0.0.0+unknown"
    elif name in SUBPACKAGES:
        value = import_module(f".{name}", __name__)
    elif name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # Bind it here: later lookups skip this function. (For ``explore`` this also replaces the
    # submodule that importing it bound to the same name.)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(SUBPACKAGES))
