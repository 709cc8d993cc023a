"""Every public function and class of introdl, its subpackages included, is
exported, documented, and listed in the book's API reference."""

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import introdl

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(m.name.removeprefix("introdl.")
                 for m in pkgutil.walk_packages(introdl.__path__, "introdl.")
                 if not m.name.rsplit(".", 1)[-1].startswith("_") and not m.ispkg)


def public_definitions(module):
    """Functions and classes defined in ``module`` whose names do not start with _."""
    return [name for name, obj in vars(module).items()
            if not name.startswith("_") and (inspect.isfunction(obj) or
                                              inspect.isclass(obj))
            and obj.__module__ == module.__name__]


@pytest.mark.parametrize("name", MODULES)
def test_module_exports_and_documents_its_public_api(name):
    module = importlib.import_module(f"introdl.{name}")
    assert module.__doc__, f"introdl.{name} has no module docstring"
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"introdl.{name} has no __all__"
    missing = set(public_definitions(module)) - set(exported)
    assert not missing, f"introdl.{name}: public but not in __all__: {sorted(missing)}"
    for item in exported:
        obj = getattr(module, item)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert obj.__doc__, f"introdl.{name}.{item} has no docstring"


@pytest.mark.parametrize("name", MODULES)
def test_module_is_in_the_api_reference(name):
    api = (ROOT / "book/appendix/api.md").read_text()
    assert re.search(rf"automodule:: introdl\.{name}\s", api)
