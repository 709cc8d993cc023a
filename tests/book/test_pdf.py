"""The PDF: one book with every chapter, the glossary and bibliography, vector figures
and nothing running off the page. Built here (after `make book`, it reads and
executes nothing: the two builds share what Sphinx read)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.book.conftest import ROOT, chapter_docnames, figure_count, toc_docnames
from tests.conftest import require_tool

LATEX = ROOT / "_build" / "latex"


@pytest.fixture(scope="module")
def pdf() -> Path:
    for tool in ("xelatex", "latexmk", "xindy"):
        require_tool(tool, "the PDF")
    first = not (LATEX / "introdl.aux").exists()  # the folder's first PDF
    # the command of `make pdf`
    run = subprocess.run([sys.executable, "book/_ext/build.py", "--builder", "latex",
                          "-W", "-n", "--keep-going"], cwd=ROOT, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    if "_build/latex is up to date" not in run.stdout:
        # it shares what the HTML build read: it reads (and executes) no page again
        assert "updating environment: 0 added, 0 changed, 0 removed" in run.stdout, \
            run.stdout[:3000]
    path = LATEX / "introdl.pdf"
    assert path.exists()
    if first:
        # two LaTeX passes, not four (introdl_speed.index_from_the_first_pass and
        # book/_ext/introdl.latexmkrc; the page labels: test_page_labels)
        passes = re.findall(r"Run number (\d+) of rule '(?:pdf|xe)latex'", run.stdout)
        assert max(map(int, passes)) == 2, run.stdout[-3000:]
        # the passes write XeTeX's intermediate file; the PDF is made once, at the
        # end (build.py: LATEXMKOPTS=-xelatex)
        assert re.findall(r"Run number (\d+) of rule 'xdvipdfmx'", run.stdout) == ["1"]
    return path


@pytest.fixture(scope="module")
def reader(pdf):
    from pypdf import PdfReader

    return PdfReader(pdf)


@pytest.fixture(scope="module")
def text(reader) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in reader.pages))


def title(docname: str) -> str:
    source = (ROOT / f"{docname}.md").read_text()
    title = re.search(r"^# (.+)$", source, re.M).group(1).strip()
    return title.replace("'", "\u2019")  # as Sphinx's smart quotes print it


def outline_titles(reader) -> list[str]:
    def walk(items):
        for item in items:
            if isinstance(item, list):
                yield from walk(item)
            else:
                yield item.title
    return list(walk(reader.outline))


@pytest.mark.parametrize("docname", toc_docnames()[1:])
def test_every_chapter_is_in_the_pdf(reader, docname):
    assert title(docname) in outline_titles(reader)


def test_glossary_bibliography_and_index(reader, text):
    titles = outline_titles(reader)
    assert "Glossary" in titles and "Bibliography" in titles and "Index" in titles
    assert "Rosenblatt" in text and "perceptron" in text


def test_every_figure_is_a_vector_graphic(reader):
    forms = images = 0
    for page in reader.pages:
        xobjects = page.get("/Resources", {}).get("/XObject")
        for obj in (xobjects.get_object().values() if xobjects else []):
            subtype = obj.get_object()["/Subtype"]
            forms += subtype == "/Form"
            images += subtype == "/Image"
    assert images == 0, "a raster image found its way into the PDF"
    assert forms >= sum(figure_count(d) for d in chapter_docnames())


def test_nothing_runs_off_the_page(pdf):
    log = (LATEX / "introdl.log").read_text(errors="replace")
    widths = [float(w) for w in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide",
                                           log)]
    assert all(w < 10 for w in widths), f"overfull lines: {sorted(widths)[-5:]} pt"


def test_equations_and_figures_are_numbered(text):
    assert re.search(r"Fig\. ?\d+\.\d+", text) and re.search(r"\(\d+\.\d+\)", text)


def test_title_page_gives_the_edition(reader):
    """The edition (pyproject's version, and the commit when built from a checkout)
    is on the title page (book/_ext/introdl_edition.py)."""
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    first = re.sub(r"\s+", " ", reader.pages[0].extract_text() or "")
    assert f"Edition {version}" in first, first[:300]
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                         capture_output=True, text=True).stdout.strip()
    if sha:
        assert f"commit {sha}" in first, first[:300]


def test_no_page_is_left_blank(reader):
    """A PDF read on a screen: a chapter starts on the next page, not the next
    right-hand one. (LaTeX's default for books fills the page before it with
    nothing but the running head and foot.)"""
    def body(page) -> list[str]:
        lines = [line for line in (page.extract_text() or "").splitlines()
                 if line.strip()]
        if lines and lines[0].replace(" ", "").startswith("AnExecutableIntroduction"):
            lines = lines[1:]  # the running head
        return lines[:-1]  # the last line is the running foot (or a page number)

    blank = [number for number, page in enumerate(reader.pages, start=1)
             if not body(page)]
    assert not blank, f"pages with nothing but the running head and foot: {blank}"


def roman(n: int) -> str:
    numerals = [(10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
    out = ""
    for value, letters in numerals:
        while n >= value:
            out, n = out + letters, n - value
    return out


def test_page_labels_are_roman_for_the_contents_then_arabic_from_one(reader):
    """The page numbers a PDF reader shows are the printed ones: the title page,
    the contents in roman numerals, then the chapters from 1 (written from the
    pass itself: _config.yml, latex_elements.preamble)."""
    labels = reader.page_labels
    contents = next(i for i, label in enumerate(labels[1:], 1) if label.isdigit()) - 1
    assert contents >= 2
    assert labels[1:1 + contents] == [roman(i) for i in range(1, contents + 1)]
    assert labels[1 + contents:] == [str(i) for i in range(1, len(labels) - contents)]


def test_the_list_of_figures_follows_the_contents(reader):
    """In the front matter, where books have it (and where its growth after the
    first pass moves no page of the chapters)."""
    def words(i: int) -> str:  # pypdf drops the spaces between some words
        return "".join(reader.pages[i].extract_text().lower().split())

    labels = reader.page_labels
    page = next(i for i in range(1, 20) if "listoffigures" in words(i))
    assert not labels[page].isdigit(), labels[page]
    assert "theperceptron" in "".join(words(i) for i in range(page, page + 3))
