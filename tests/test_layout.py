"""The package's shape: imports point one way down the chain, no cycles, no private reach-arounds.

ndp reads like its data flow: physics → spectra → model → cycling → product (run files, the
pipeline, figures, the CLI). A module may import its own layer and the layers below it, never one
above. The walk covers every import statement, also those inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ndp"

#: Layer of each top-level part of ndp, lowest first. Modules not named here are the product.
LAYERS = {
    "ndp": 0, "ndp.errors": 0, "ndp.fileio": 0, "ndp.optional": 0, "ndp.lazy": 0,
    "ndp.physics": 1,
    "ndp.spectra": 2,
    "ndp.model": 3,
    "ndp.cycling": 4,
}  # fmt: skip
PRODUCT = 5
NAMES = {0: "base", 1: "physics", 2: "spectra", 3: "model", 4: "cycling", 5: "product"}


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    for k in range(module.count(".") + 1, 0, -1):
        head = ".".join(module.split(".")[:k])
        if head in LAYERS and (head != "ndp" or module == "ndp"):
            return LAYERS[head]
    return PRODUCT


def package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def imports(path: Path, module: str) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import of ndp in ``path``."""
    package = package_of(module, path)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name.split(".")[0] == "ndp"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "ndp":
                found.append((target, [a.name for a in node.names], node.lineno))
    return found


def resolve(target: str, names: list[str], modules: set[str]) -> list[str]:
    """The modules an import really loads: ``from ndp.physics import stopping`` loads one."""
    subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules]
    return subs or [target]


def graph(root: Path = PACKAGE) -> dict[str, list[tuple[str, list[str], int, Path]]]:
    paths = {module_name(p, root): p for p in root.rglob("*.py")}
    out = {}
    for module, path in paths.items():
        out[module] = [
            (dep, names, line, path)
            for target, names, line in imports(path, module)
            for dep in resolve(target, names, set(paths))
        ]
    return out


def wrong_way(g) -> list[str]:
    return [
        f"{path.parent.name}/{path.name}:{line}: {module} ({NAMES[layer(module)]}) imports "
        f"{dep} ({NAMES[layer(dep)]})"
        for module, deps in g.items()
        for dep, _, line, path in deps
        if layer(dep) > layer(module)
    ]


def test_imports_point_down_the_chain():
    assert wrong_way(graph()) == []


def test_the_direction_test_catches_a_wrong_way_import(tmp_path):
    """Copy the package, add one upward import to a physics module: the walk names it."""
    import shutil

    copy = tmp_path / "ndp"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / "physics" / "stopping.py"
    target.write_text(target.read_text() + "\n\ndef _late():\n    from ndp.pipeline import run\n")
    found = [line for line in wrong_way(graph(copy)) if line.startswith("physics/stopping.py")]
    assert found and "ndp.pipeline (product)" in found[0]


def test_no_import_cycle_between_modules():
    g = graph()
    edges = {m: {d for d, *_ in deps if d in g and d != m} for m, deps in g.items()}
    # Package __init__ re-exports are not cycles of meaning: drop edges into a package's own init.
    for m in edges:
        edges[m] = {d for d in edges[m] if not m.startswith(d + ".")}
    seen, stack, cycles = set(), [], []

    def visit(m):
        if m in stack:
            cycles.append([*stack[stack.index(m):], m])
            return
        if m in seen:
            return
        seen.add(m)
        stack.append(m)
        for d in sorted(edges[m]):
            visit(d)
        stack.pop()

    for m in sorted(edges):
        visit(m)
    assert cycles == []


def test_no_module_takes_a_private_name_from_another_package():
    g = graph()
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    bad = []
    for module, deps in g.items():
        home = package_of(module, paths[module])
        for dep, names, line, path in deps:
            dep_home = package_of(dep, paths[dep]) if dep in paths else dep.rpartition(".")[0]
            if dep_home == home or dep_home.startswith(home + "."):
                continue  # a package may use its own (and its subpackages') private parts
            private = [p for p in dep.split(".") if p.startswith("_") and p != "__init__"]
            private += [n for n in names if n.startswith("_") and n != "__version__"]
            if private:
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {module} takes {private} from {dep}")
    assert bad == []


@pytest.mark.parametrize("sub", ["physics", "spectra", "spectra.io", "model", "cycling"])
def test_each_subpackage_says_what_it_owns_and_may_import(sub):
    import importlib

    mod = importlib.import_module(f"ndp.{sub}")
    doc = mod.__doc__ or ""
    assert len(doc.split()) > 15 and "import" in doc, f"ndp.{sub} needs a docstring saying what it owns"
    for name in getattr(mod, "__all__", []):
        assert hasattr(mod, name), f"ndp.{sub}.__all__ names {name}, which it does not have"
