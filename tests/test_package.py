"""The package's three layers: imports run one way, figures -> experiments -> core.

The core (``introdl/<concept>.py``) imports only the standard library, torch and
other core modules, so each core file can be copied whole into a project;
experiments import the core; figures import both. No module hides an import of
another ``introdl`` module inside a function, and the import graph has no cycle.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "code" / "introdl"


def layer(name: str) -> str:
    """``core``, ``experiments`` or ``figures`` for a dotted module name."""
    head = name.split(".")[0]
    return head if head in ("experiments", "figures") else "core"


def modules() -> dict[str, Path]:
    return {".".join(p.relative_to(PACKAGE).with_suffix("").parts): p
            for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}


def imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, is the import inside a function) for every import."""
    tree = ast.parse(path.read_text())
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside |= {id(n) for n in ast.walk(node)} - {id(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, id(node) in inside) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if base == "introdl" or base.startswith("introdl."):
                found += [(f"{base}.{a.name}", id(node) in inside) for a in node.names]
            else:
                found.append((base, id(node) in inside))
    return found


def package_target(imported: str, names: dict[str, Path]) -> str | None:
    """The package module an import refers to (``introdl.x.y`` -> ``x.y``)."""
    if not imported.startswith("introdl."):
        return None
    parts = imported.split(".")[1:]
    while parts:
        if ".".join(parts) in names:
            return ".".join(parts)
        parts.pop()
    return "__init__"


MODULES = modules()
CORE = sorted(n for n in MODULES if layer(n) == "core" and n != "__init__")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_function_local_import_of_the_package(name):
    hidden = [m for m, inside in imports(MODULES[name]) if inside and
              m.startswith("introdl")]
    assert hidden == []


@pytest.mark.parametrize("name", CORE)
def test_the_core_imports_only_the_standard_library_torch_and_the_core(name):
    allowed = set(sys.stdlib_module_names) | {"torch", "introdl"}
    for imported, _ in imports(MODULES[name]):
        assert imported.split(".")[0] in allowed, f"{name} imports {imported}"
        target = package_target(imported, MODULES)
        assert target is None or layer(target) == "core", f"{name} imports {imported}"


EXPERIMENTS = [n for n in sorted(MODULES) if layer(n) == "experiments"]


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiments_import_no_figures_and_no_matplotlib(name):
    for imported, _ in imports(MODULES[name]):
        assert not imported.startswith(("matplotlib", "introdl.figures")), imported


def test_the_import_graph_has_no_cycle():
    graph = {n: {package_target(m, MODULES) for m, _ in imports(p)} - {None, n}
             for n, p in MODULES.items()}
    state: dict[str, int] = {}

    def visit(node, path):
        if state.get(node) == 1:
            raise AssertionError("import cycle: " + " -> ".join(path + [node]))
        if state.get(node) == 2:
            return
        state[node] = 1
        for nxt in graph.get(node, ()):
            visit(nxt, path + [node])
        state[node] = 2

    for node in graph:
        visit(node, [])


def test_importing_the_whole_core_loads_neither_matplotlib_nor_scikit_learn():
    code = ("import sys\n" + "".join(f"import introdl.{n}\n" for n in CORE)
            + "print(sorted(m for m in ('matplotlib', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
