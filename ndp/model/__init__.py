"""The model that turns a spectrum into a profile.

Owns the response matrix of a stack (``response``), the Poisson objective and its bounds
(``objective``, ``bounds``), the solver (``solver``), the choice of regularisation
(``regularization``), the fitted instrument (``instrument``) and the whole-series fit with
its uncertainties (``series``). It imports the physics (stack, stopping, forward model) and
never the cycler side or the product (run files, pipeline, CLI, figures).
"""
