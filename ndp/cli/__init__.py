"""The ``ndp`` command: one module per command, a thin layer over the public API.

Commands import the library inside their functions, not at module top: ``ndp --help`` must
start in under 0.3 s, and numpy, pandas, xarray, scipy and matplotlib together take seconds.
"""
