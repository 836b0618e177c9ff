"""Optional dependencies: import them where needed, or say in one line how to get them."""

from __future__ import annotations

import importlib

from ndp.errors import FileFormatError


def require(module: str, path, what: str, install: str):
    """Import ``module``, or raise a FileFormatError: reading ``what`` needs ``install``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise FileFormatError(path, f"reading {what} needs {install}") from None
