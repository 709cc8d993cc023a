"""Fixtures for the tests of the built book (run `make book` first; `make test`
does)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import IN_CI, ROOT  # noqa: F401  (re-exported for the tests)

HTML = ROOT / "_build" / "html"


def toc_docnames() -> list[str]:
    """Every document of the TOC, in reading order (e.g. 'book/lecture1/perceptron')."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part["chapters"]:
            names.append(chapter["file"])
            names += [s["file"] for s in chapter.get("sections", [])]
    return names


def chapter_docnames() -> list[str]:
    """The lecture chapters (the notebooks with code)."""
    return [d for d in toc_docnames() if re.match(r"book/(lecture\d|scaling)/", d)]


def figure_count(docname: str) -> int:
    """Figures a chapter's source declares ({glue:figure} and {figure} directives)."""
    text = (ROOT / f"{docname}.md").read_text()
    return len(re.findall(r"^`{3,}\{(?:glue:figure|figure)\}", text, re.M))


def prerendered(html_dir: Path) -> bool:
    """Was the math rendered when the book was built (KaTeX, the route with Node.js),
    rather than typeset in the browser (MathJax, the fallback without it)?"""
    return (html_dir / "_static" / "katex" / "katex.min.css").exists()


@pytest.fixture(scope="session")
def html_dir() -> Path:
    if not (HTML / "index.html").exists():
        pytest.fail("the book is not built: run `make book` (or `make test`) first")
    return HTML


def reveal(locator) -> None:
    """Scroll the first element of ``locator`` into the middle of the window, as a
    reader's scrolling would. Off-screen paragraphs and sections are not laid out
    (content-visibility, book/_static/introdl.css), so Playwright's own
    scroll_into_view_if_needed finds no box to scroll to; the browser's
    scrollIntoView lays the element out first."""
    locator.first.evaluate("e => e.scrollIntoView({block: 'center'})")
