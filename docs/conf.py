"""Sphinx configuration: the API pages come from ndp's own numpydoc docstrings."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _installed_version

project = "ndp"
author = "The ndp developers"
copyright = "2026, the ndp developers"  # noqa: A001 (Sphinx's name)
try:
    release = _installed_version("ndp")
except PackageNotFoundError:
    release = "0.0.0+unknown"
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",  # numpydoc sections, without another dependency
    "sphinx.ext.mathjax",
]
autosummary_generate = True
autodoc_typehints = "none"  # the numpydoc "Parameters" sections say it, with units and shapes
autodoc_member_order = "bysource"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
# Nothing is fetched at build time (no intersphinx): the docs build offline, like ndp runs.
html_theme = "alabaster"
html_static_path: list[str] = []
exclude_patterns = ["_build"]
