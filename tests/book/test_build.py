"""The build itself: the execution cache is never stale, and builds are deterministic.

Each test builds a small copy of the book (the introduction, the perceptron chapter and
the appendices) in a temporary folder, so the real build is left alone.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.book.conftest import ROOT

TOC = """format: jb-book
root: book/intro
parts:
  - caption: Lecture 1
    numbered: true
    chapters:
      - file: book/lecture1/perceptron
  - caption: Appendices
    chapters:
      - file: book/appendix/glossary
      - file: book/appendix/bibliography
"""
CHAPTER = "book/lecture1/perceptron"


def make_copy(dest: Path) -> Path:
    for name in ("_config.yml", "references.bib", "requirements.txt"):
        shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "book", dest / "book")
    shutil.copytree(ROOT / "code" / "introdl", dest / "code" / "introdl",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "_toc.yml").write_text(TOC)
    return dest


def build(root: Path) -> str:
    """Build the HTML of the copy; return the log. Fails the test on any warning."""
    jb = Path(sys.executable).with_name("jupyter-book")
    run = subprocess.run([str(jb), "build", str(root), "-W", "-n", "--keep-going"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run.stdout


def executed(log: str) -> int:
    return len(re.findall(r"Executing notebook", log))


def reread(log: str) -> list[str]:
    return re.findall(r"reading sources\.\.\. .*?\[\s*\d+%\]\s+(\S+)", log)


@pytest.fixture(scope="module")
def book_copy(tmp_path_factory):
    root = make_copy(tmp_path_factory.mktemp("book"))
    log = build(root)
    assert executed(log) == 1
    return root


def test_unchanged_rebuild_reads_and_executes_nothing(book_copy):
    log = build(book_copy)
    assert executed(log) == 0
    assert reread(log) == []


def test_prose_edit_rereads_but_executes_nothing(book_copy):
    md = book_copy / f"{CHAPTER}.md"
    md.write_text(md.read_text().replace("This chapter takes it apart.",
                                         "This chapter takes it apart, piece by piece."))
    log = build(book_copy)
    assert executed(log) == 0
    assert CHAPTER in " ".join(reread(log))


def test_edit_to_a_module_the_chapter_uses_reexecutes_it(book_copy):
    module = book_copy / "code" / "introdl" / "activations.py"
    module.write_text(module.read_text() + "\n# an edit\n")
    log = build(book_copy)
    assert executed(log) == 1
    assert executed(build(book_copy)) == 0  # and the new result is cached


def test_edit_to_a_module_reached_only_through_imports_reexecutes(book_copy):
    module = book_copy / "code" / "introdl" / "_checks.py"  # used by activations.py
    module.write_text(module.read_text() + "\n# an edit\n")
    assert executed(build(book_copy)) == 1


def test_edit_to_an_unrelated_module_executes_nothing(book_copy):
    module = book_copy / "code" / "introdl" / "tasks.py"
    module.write_text(module.read_text() + "\n# an edit\n")
    assert executed(build(book_copy)) == 0


def outputs(root: Path) -> list:
    import nbformat

    nb = nbformat.read(root / "_build/html/_sources" / f"{CHAPTER}.ipynb", as_version=4)
    return [c.outputs for c in nb.cells if c.cell_type == "code"]


def figures(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (root / "_build/html/_images").glob("*")}


def test_two_clean_builds_are_identical(tmp_path_factory):
    first = make_copy(tmp_path_factory.mktemp("first"))
    second = make_copy(tmp_path_factory.mktemp("second"))
    build(first)
    build(second)
    assert outputs(first) == outputs(second)  # cell outputs and glued numbers
    one, two = figures(first), figures(second)
    assert len(one) >= 3 and one == two  # byte-identical SVG figures
