"""The package's layers: each subpackage imports only layers below it, and nothing outside a
subpackage reaches into its private ``_x`` modules.

Every ``.py`` file is walked (imports inside functions too), so a lazy import cannot hide an
upward edge.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cope_eval"

LAYERS = (
    {"errors", "records", "config", "_util"},  # the vocabulary every layer shares
    {"store", "policies"},
    {"golden"},
    {"metrics"},
    {"scoring"},
    {"insight", "local"},
    {"charts"},
    {"export"},
    {"app"},
    {"cli"},
)
"""Lowest first. A package may import its own modules and any package of a lower layer; the
top-level modules of the first layer may import each other."""

RANK = {name: rank for rank, layer in enumerate(LAYERS) for name in layer}


def _unit(path: Path) -> str:
    """``store`` for cope_eval/store/_store.py, ``errors`` for cope_eval/errors.py."""
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else Path(parts[0]).stem


def _imported(path: Path) -> list[tuple[int, list[str]]]:
    """(line, dotted module path under cope_eval) for every import of the package in ``path``;
    ``from . import x`` yields one path per name."""
    package_parts = ["cope_eval", *path.relative_to(PACKAGE).parts[:-1]] if path.is_relative_to(PACKAGE) else []
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[:len(package_parts) - node.level + 1]
            else:
                base = []
            module = base + (node.module.split(".") if node.module else [])
            if node.module is None or module == ["cope_eval"]:
                found += [(node.lineno, module + [alias.name]) for alias in node.names]
            else:
                found.append((node.lineno, module))
    return [(line, parts[1:]) for line, parts in found if parts[:1] == ["cope_eval"] and len(parts) > 1]


def _package_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_unit_has_a_layer():
    units = {_unit(p) for p in _package_files()} - {"__main__"}
    assert units <= set(RANK), f"give these a layer in LAYERS: {sorted(units - set(RANK))}"
    assert set(RANK) <= units, f"LAYERS names packages that do not exist: {sorted(set(RANK) - units)}"


def test_no_layer_imports_a_higher_one():
    upward = []
    for path in _package_files():
        unit = _unit(path)
        if unit == "__main__":
            continue
        for line, target in _imported(path):
            other = target[0]
            if other in ("__version__",) or other == unit:
                continue
            same_layer_ok = RANK[unit] == 0 and RANK[other] == 0
            if RANK[other] > RANK[unit] or (RANK[other] == RANK[unit] and not same_layer_ok):
                upward.append(f"{path.relative_to(ROOT)}:{line} imports cope_eval.{'.'.join(target)}")
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


def _outside_files() -> list[Path]:
    return [*sorted((ROOT / "pages").glob("*.py")), ROOT / "app.py", *_package_files()]


@pytest.mark.parametrize("path", _outside_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_private_modules_stay_inside_their_package(path):
    own = _unit(path) if path.is_relative_to(PACKAGE) else None
    reached_in = [f"{line}: cope_eval.{'.'.join(target)}" for line, target in _imported(path)
                  if len(target) > 1 and target[1].startswith("_") and target[0] not in (own, "_util")]
    assert not reached_in, f"{path.relative_to(ROOT)} imports private modules; use the package: {reached_in}"


def test_the_layer_check_sees_an_upward_import(tmp_path, monkeypatch):
    """The walk itself is tested: a lazy upward import inside a function is found."""
    fake = tmp_path / "cope_eval"
    (fake / "store").mkdir(parents=True)
    (fake / "store" / "_bad.py").write_text("def f():\n    from ..app import RunManager\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    assert _imported(fake / "store" / "_bad.py") == [(2, ["app"])]


@pytest.mark.parametrize("path", _outside_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_imported_name_exists(path):
    """A page imports what its package's surface offers: a name dropped from an ``__init__`` fails
    here, not only when someone opens the page."""
    import importlib

    missing = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("cope_eval"):
            module = importlib.import_module(node.module)
            missing += [f"{node.lineno}: {node.module}.{a.name}" for a in node.names
                        if not hasattr(module, a.name) and not _is_submodule(node.module, a.name)]
    assert not missing, f"{path.relative_to(ROOT)} imports names that do not exist: {missing}"


def _is_submodule(package: str, name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(f"{package}.{name}") is not None


def test_no_module_of_the_library_imports_streamlit_even_inside_a_function():
    """Importing cope_eval never loads streamlit (test_import_isolation); this also catches a lazy
    import in a function body, which an import-time check cannot see."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            offenders += [f"{path.relative_to(PACKAGE)}:{node.lineno}" for n in names if n.split(".")[0] == "streamlit"]
    assert offenders == []
