"""The one exception family users see.

Every error caused by a user's input (a file, a run file, an argument) is an :class:`NdpError`
whose message is one line naming *where* (file, line, key or argument) and *what was expected*.
The CLI prints that line and exits with code 2; library callers can catch it (it is also a
``ValueError``). :class:`NdpWarning` is the one warning category.
"""

from __future__ import annotations

import os


class NdpError(ValueError):
    """A user error: bad input data, configuration or argument."""

    def __init__(self, message: str):
        # One line, always: a multi-line message would break the CLI's promise.
        super().__init__(" ".join(str(message).split()))


class MaterialError(NdpError):
    """An unknown material, an unparsable formula or an impossible composition."""


class StackError(NdpError):
    """A layer stack that cannot be used (no profiled layer, nothing escapes, ...)."""


class FileFormatError(NdpError):
    """A file that cannot be read, with the file and, where known, the line."""

    def __init__(self, path: str | os.PathLike, message: str, line: int | None = None):
        where = f"{os.fspath(path)}" + (f", line {line}" if line is not None else "")
        self.path = os.fspath(path)
        self.line = line
        super().__init__(f"{where}: {message}")


class UnknownFormatError(FileFormatError):
    """A file whose content matches none of the formats asked for (another reader may know it)."""


class ConfigError(NdpError):
    """A run file that cannot be used, with the key and, where known, the line."""

    def __init__(
        self, path: str | os.PathLike | None, key: str | None, message: str, line: int | None = None
    ):
        parts = [os.fspath(path)] if path is not None else []
        if line is not None:
            parts.append(f"line {line}")
        if key:
            parts.append(f"[{key}]")
        self.path = None if path is None else os.fspath(path)
        self.key = key
        self.line = line
        prefix = ", ".join(parts[:2]) + (f" {parts[2]}" if len(parts) > 2 else "")
        super().__init__(f"{prefix}: {message}" if prefix else message)


class NdpWarning(UserWarning):
    """Something a user should know about, but not an error."""
