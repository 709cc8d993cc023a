"""The environment `make install` builds: the lock is complete and installed as it
stands, and it leaves out the optional extras that would slow every build down."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def left_out() -> list[str]:
    """The Makefile's LEFT_OUT: packages the lock deliberately does not install."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return re.search(r"^LEFT_OUT\s*:=\s*(.+)$", makefile, re.M).group(1).split()


def test_the_lock_leaves_out_what_the_makefile_says():
    names = {line.split("==")[0].lower()
             for line in (ROOT / "requirements.txt").read_text().splitlines()
             if "==" in line and not line.startswith("#")}
    assert left_out() == ["rfc3987-syntax", "lark"]
    assert names.isdisjoint(left_out())


def test_left_out_packages_are_not_installed():
    for name in left_out():
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        raise AssertionError(f"{name} is installed: make install uninstalls it")


def test_reading_a_notebook_builds_no_grammar():
    """nbformat (which every Sphinx run and every chapter's glue imports) imports
    jsonschema; with rfc3987-syntax installed that import built a Lark grammar, about
    3 s each time."""
    code = ("import sys, nbformat, jsonschema; "
            "print(sorted(m for m in ('rfc3987_syntax', 'lark') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
