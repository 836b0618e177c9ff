"""The model that turns spectra into Li depth profiles, and profiles into spectra.

Owns the forward model (:mod:`~ndp.model.forward`: expected counts, response matrices) and the
response of a stack (``response``), the Poisson objective and its physical bounds
(``objective``, ``bounds``), the solver (``solver``), the choice of regularisation
(``regularization``), the fitted instrument (``instrument``), the whole-series fit with its
uncertainties (``series``), the absolute scale (``scale``), the self-consistent matrix
(``matrix``), the inversion of a run (``invert``, streamed to disk by ``stream``) and
simulated spectra (``simulate``).

May import: :mod:`ndp.spectra`, :mod:`ndp.physics` and ndp's base; never the cycler side or
the product (run files, pipeline, CLI, figures).
"""

from ndp.lazy import exports

_NAMES = {
    "expected_counts": "forward",
    "response_matrix": "forward",
    "Response": "response",
    "build_response": "response",
    "PoissonObjective": "objective",
    "solve": "solver",
    "Instrument": "instrument",
    "InstrumentFit": "instrument",
    "fit_series": "series",
    "SeriesFit": "series",
    "Scale": "scale",
    "self_consistent": "matrix",
    "invert_to_netcdf": "stream",
}
__all__ = sorted(_NAMES)
__getattr__, __dir__ = exports(__name__, _NAMES)
