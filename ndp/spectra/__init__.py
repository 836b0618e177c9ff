"""Spectra in: files and list-mode events to calibrated, corrected spectra.

Owns the readers (:mod:`ndp.spectra.io`, one module per format), the spectra Dataset every
reader returns and its one validator (:mod:`~ndp.spectra.dataset`), framing of list-mode events
(:mod:`~ndp.spectra.framing`), channel → energy calibration (:mod:`~ndp.spectra.calibration`)
and the reductions: dead time, monitor, blank, sums (:mod:`~ndp.spectra.reduce`).

May import: :mod:`ndp.physics` and ndp's base. Nothing here knows about depth profiles or
cyclers: ``reduce`` never imports the model.
"""

from ndp.lazy import exports

_NAMES = {
    "read_spectra": "io",
    "read": "io",
    "detect": "io",
    "make_spectra": "dataset",
    "frame_events": "framing",
    "Calibration": "calibration",
    "fit_b10": "calibration",
    "fit_li6": "calibration",
    "fit_peaks": "calibration",
    "blank_counts": "reduce",
    "dead_time_correct": "reduce",
    "flux_weights": "reduce",
    "sum_frames": "reduce",
}
__all__ = sorted(_NAMES)
__getattr__, __dir__ = exports(__name__, _NAMES)
