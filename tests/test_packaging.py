"""The installed package is the tree in the repository.

An editable install finds every directory of ``ndp/``; a wheel holds only the packages that
``pyproject.toml`` lists. A subpackage missing from that list passes locally and fails on a
fresh machine, so the list is checked against the tree.
"""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_directory_is_listed_and_has_an_init():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "ndp").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages"
    for name in on_disk:
        assert (ROOT / Path(*name.split(".")) / "__init__.py").is_file(), name
