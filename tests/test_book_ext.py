"""The book's Sphinx extension: which package modules a chapter depends on."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

from introdl_book import (closure, direct_dependencies, fingerprints,  # noqa: E402
                          module_dependencies, package_modules)

MODULES = package_modules(ROOT / "code")


def test_every_import_form_is_found():
    source = """
from introdl.backprop import Value
from introdl.perceptron import linearly_separable_data, xor_data
from introdl.losses import (mse,
                            cross_entropy)
import introdl.attention
from introdl import corpus, text
```{literalinclude} ../../code/introdl/optim.py
"""
    deps = direct_dependencies(source, MODULES)
    assert {"backprop", "perceptron", "losses", "attention", "corpus", "text",
            "optim"} <= deps
    assert "rnn" not in deps


def test_closure_follows_imports_between_modules():
    graph = module_dependencies(MODULES)
    assert "_checks" in graph["activations"]
    assert {"activations", "_checks"} <= closure({"perceptron"}, graph)


def test_fingerprint_changes_only_with_what_a_chapter_uses(tmp_path):
    code = tmp_path / "code" / "introdl"
    code.mkdir(parents=True)
    (code / "a.py").write_text("from introdl.b import f\n")
    (code / "b.py").write_text("def f(): pass\n")
    (code / "c.py").write_text("def g(): pass\n")
    sources = {"uses_a": "from introdl.a import f\n", "uses_c": "import introdl.c\n"}
    before = fingerprints(sources, tmp_path)
    (code / "b.py").write_text("def f(): return 1\n")
    after = fingerprints(sources, tmp_path)
    assert before["uses_a"] != after["uses_a"]  # b reached through a
    assert before["uses_c"] == after["uses_c"]
