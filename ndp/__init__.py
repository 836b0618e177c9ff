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
    "get_particle",
    "named_materials",
]
