"""ndp: operando neutron depth profiling of lithium batteries.

Spectra → energy → depth → Li density profiles → per-cycle Li efficiency → figures.
"""

from importlib.metadata import PackageNotFoundError, version

from .errors import NdpError
from .materials import Material, named_materials
from .stopping import PARTICLES, Particle, get_particle

try:
    __version__ = version("ndp")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "PARTICLES",
    "Material",
    "NdpError",
    "Particle",
    "__version__",
    "explore",
    "get_particle",
    "named_materials",
]


def __getattr__(name):
    # ndp.explore loads on first use: `import ndp` stays fast and never imports matplotlib or
    # ipywidgets.
    if name == "explore":
        from .explore import explore

        globals()["explore"] = explore  # the import bound the module to this name
        return explore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
