"""The units ndp writes into its outputs, each spelled once, in UDUNITS-2 as CF-1.10 asks.

How units travel in ndp:

* numbers are plain floats and arrays, and their unit is part of their name (``thickness_um``,
  ``live_time_s``, ``plated_mAh_cm2``): a function's signature says what it takes and returns;
* xarray variables also carry a ``units`` attribute, always one of the strings below, for their
  readers (xarray, cf_xarray, ncdump, UDUNITS); code writes these strings and never reads them
  back to decide anything;
* whether a profile is on an absolute scale is the explicit ``scale`` attribute
  (:func:`ndp.model.scale.is_absolute`), not a unit;
* conversion factors and physical constants live in :mod:`ndp.physics.constants`.

>>> from ndp import units
>>> units.cf(units.PER_CM3, "Li atom density", ancillary_variables="li_density_err")
{'units': 'cm-3', 'long_name': 'Li atom density', 'ancillary_variables': 'li_density_err'}
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ARBITRARY",
    "CONVENTIONS",
    "COUNT",
    "COUNT_PER_SECOND",
    "KEV",
    "MAH_PER_CM2",
    "ONE",
    "PER_CM2",
    "PER_CM3",
    "SECOND",
    "UM",
    "cf",
    "squared",
]

#: The CF version ndp's NetCDF outputs follow (global ``Conventions`` attribute).
CONVENTIONS = "CF-1.10"

#: Energy, keV.
KEV = "keV"
#: Depth and thickness, µm.
UM = "um"
#: Time and durations, s.
SECOND = "s"
#: Atom density (atoms per cm³): atoms are a number, so UDUNITS writes it cm-3.
PER_CM3 = "cm-3"
#: Areal density (atoms per cm²).
PER_CM2 = "cm-2"
#: Li inventory as charge per electrode area, mAh/cm².
MAH_PER_CM2 = "mA h cm-2"
#: Detector counts.
COUNT = "count"
#: Count rate.
COUNT_PER_SECOND = "count s-1"
#: Dimensionless: fractions, ratios, reduced χ².
ONE = "1"
#: A relative scale (no beam flux or reference): densities and inventories in arbitrary units.
#: UDUNITS has no arbitrary unit; CF practice is "1" with a comment saying so.
ARBITRARY = ONE


def squared(units: str) -> str:
    """The units of a variance of a quantity in ``units``.

    >>> squared(COUNT)
    '(count)^2'
    """
    return f"({units})^2"


def cf(units: str | None, long_name: str, **extra: Any) -> dict[str, Any]:
    """CF attributes of one variable: ``units`` (omitted when None), ``long_name``, then ``extra``
    (``standard_name``, ``ancillary_variables``, ``comment``, ...)."""
    attrs = {} if units is None else {"units": units}
    attrs["long_name"] = long_name
    attrs.update(extra)
    return attrs
