"""The build itself: the execution cache is never stale, and builds are deterministic.

Each test builds a small copy of the book (the introduction, two chapters and three
appendices, the API reference cut down to the modules those chapters import) in a
temporary folder with the command ``make book`` runs (``book/_ext/build.py``), so
the real build is left alone. Every edit a test makes is undone when it ends, so
the tests do not depend on their order.
"""

import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
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
      - file: book/lecture1/loss
  - caption: Appendices
    chapters:
      - file: book/appendix/glossary
      - file: book/appendix/api
      - file: book/appendix/bibliography
"""
PERCEPTRON, LOSS = "book/lecture1/perceptron", "book/lecture1/loss"


#: One module's block in the API reference (book/appendix/api.md).
_AUTOMODULE = re.compile(
    r"```\{eval-rst\}\n\.\. automodule:: introdl\.([\w.]+)\n.*?```\n\n?", re.S)


def api_page(chapters: list[str]) -> str:
    """The copy's API reference: the book's, with the modules the copy's chapters
    import and no others. The code of those chapters links to it as in the book,
    and a build that reads it again (after an edit to a module it documents) takes
    seconds, not the half minute the whole reference takes."""
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from introdl_book import direct_dependencies, package_modules

    modules = package_modules(ROOT / "code")
    used = set().union(*(direct_dependencies((ROOT / f"{c}.md").read_text(), modules)
                         for c in chapters))
    page = (ROOT / "book/appendix/api.md").read_text()
    trimmed = _AUTOMODULE.sub(lambda m: m[0] if m[1] in used else "", page)
    assert trimmed.count("automodule::") >= 2, "the copy's chapters import no module"
    return trimmed


def make_copy(dest: Path) -> Path:
    for name in ("_config.yml", "references.bib", "requirements.txt"):
        shutil.copy(ROOT / name, dest / name)
    shutil.copytree(ROOT / "book", dest / "book",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "code" / "introdl", dest / "code" / "introdl",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "_toc.yml").write_text(TOC)
    (dest / "book/appendix/api.md").write_text(api_page([PERCEPTRON, LOSS]))
    return dest


def build(root: Path, *, ok: bool = True) -> str:
    """Build the copy's HTML as ``make book`` does; return the log. With ``ok``
    the build must succeed with no warning, otherwise it must fail."""
    # the chapters refer to chapters this small copy leaves out, and the docstrings
    # of the modules in its API page to entries it leaves out: those references,
    # and only those, are not warnings here (the full build checks them all)
    run = subprocess.run([sys.executable, str(root / "book/_ext/build.py"),
                          "-W", "-n", "--keep-going",
                          "-D", "suppress_warnings=ref.ref,ref.numref,ref.class"],
                         capture_output=True, text=True)
    log = run.stdout + run.stderr
    assert (run.returncode == 0) == ok, log[-4000:]
    return log


UP_TO_DATE = "_build/html is up to date"


def build_again(root: Path) -> str:
    """Build after a change to a file the book does not read, so that Sphinx runs
    (with nothing changed, the build does not start it): the log shows what Sphinx
    itself reads and executes again when nothing it reads changed."""
    unread = root / "unread.txt"
    unread.write_text(f"{unread.read_text() if unread.exists() else ''}x")
    log = build(root)
    assert UP_TO_DATE not in log and "build succeeded" in log, log[-2000:]
    return log


def executed(log: str) -> list[str]:
    """The chapters the build executed."""
    # the log names each chapter by its full path: keep book/<part>/<name>
    return sorted(re.findall(r"(book/[^/\s]+/[^/\s]+)\.md: Executing notebook", log))


def reread(log: str) -> list[str]:
    return re.findall(r"reading sources\.\.\. .*?\[\s*\d+%\]\s+(\S+)", log)


@contextmanager
def edited(path: Path, old: str, new: str):
    """Replace ``old`` by ``new`` in ``path`` for the block, then restore it."""
    original = path.read_text()
    assert old in original, f"{old!r} is not in {path}"
    path.write_text(original.replace(old, new, 1))
    try:
        yield
    finally:
        path.write_text(original)


def outputs(root: Path, chapter: str) -> list:
    import nbformat

    nb = nbformat.read(root / "_build/html/_sources" / f"{chapter}.ipynb", as_version=4)
    return [c.outputs for c in nb.cells if c.cell_type == "code"]


def figures(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (root / "_build/html/_images").glob("*")}


def code_links(root: Path, chapter: str) -> int:
    """How many names in the chapter's code link to the API (sphinx-codeautolink)."""
    return (root / f"_build/html/{chapter}.html").read_text().count(
        "sphinx-codeautolink-a")


@pytest.fixture(scope="module")
def first_build(tmp_path_factory):
    """A copy built once from nothing, and what that first build made (cell outputs
    and figures), kept before any test edits the copy."""
    root = make_copy(tmp_path_factory.mktemp("book"))
    assert [Path(c).name for c in executed(build(root))] == ["loss", "perceptron"]
    assert UP_TO_DATE in build(root)  # files the first build made are not inputs
    made = {chapter: outputs(root, chapter) for chapter in (PERCEPTRON, LOSS)}
    return root, made, figures(root)


@pytest.fixture(scope="module")
def book_copy(first_build):
    return first_build[0]


def test_unchanged_rebuild_reads_and_executes_nothing(book_copy):
    """With nothing changed the build does not even start Sphinx; when something
    changed that no page reads, Sphinx runs and reads and executes nothing."""
    build(book_copy)  # whatever an earlier test left is built here
    log = build(book_copy)
    assert UP_TO_DATE in log and "Running Sphinx" not in log
    log = build_again(book_copy)
    assert executed(log) == [] and reread(log) == []


def test_an_unchanged_rebuild_still_builds_when_the_output_changed(book_copy):
    """The output is part of what is checked: a page deleted, or the folder written
    by another command, is built again (that -E always builds, and the rest of what
    is checked, is a unit test of build.py)."""
    build(book_copy)
    page = book_copy / "_build/html" / f"{LOSS}.html"
    page.unlink()
    log = build(book_copy)
    assert UP_TO_DATE not in log and page.exists()
    assert UP_TO_DATE in build(book_copy)


def test_prose_edit_rereads_but_executes_nothing(book_copy):
    md = book_copy / f"{PERCEPTRON}.md"
    with edited(md, "This chapter takes it apart.", "This chapter takes it apart, "
                "piece by piece."):
        log = build(book_copy)
    assert executed(log) == []
    assert PERCEPTRON in " ".join(reread(log))
    build(book_copy)


def test_edit_to_a_module_reexecutes_exactly_the_chapters_using_it(book_copy):
    """The chapter executed again keeps its code links (sphinx-codeautolink 0.19
    linked the code only of pages whose own source file had changed)."""
    links = code_links(book_copy, PERCEPTRON)
    perceptron = book_copy / "code/introdl/perceptron.py"
    with edited(perceptron, '"""', '"""An edit. '):
        log = build(book_copy)
        assert executed(log) == [PERCEPTRON]
        assert code_links(book_copy, PERCEPTRON) == links > 0
        assert executed(build_again(book_copy)) == []  # and the new result is cached
    assert executed(build(book_copy)) == []  # the old outputs are still cached
    assert code_links(book_copy, PERCEPTRON) == links


def test_edit_to_a_module_reached_only_through_imports_reexecutes(book_copy):
    checks = book_copy / "code/introdl/checks.py"  # imported by the core modules
    with edited(checks, '"""', '"""An edit. '):
        assert len(executed(build(book_copy))) == 2
    build(book_copy)


def test_edit_in_a_subpackage_reexecutes_only_its_chapter(book_copy):
    figures = book_copy / "code/introdl/figures/perceptron.py"
    with edited(figures, '"""', '"""An edit. '):
        assert executed(build(book_copy)) == [PERCEPTRON]
    build(book_copy)


def test_edit_to_an_unrelated_module_executes_nothing(book_copy):
    tasks = book_copy / "code/introdl/tasks.py"
    with edited(tasks, '"""', '"""An edit. '):
        assert executed(build(book_copy)) == []


def test_an_edit_to_the_css_alone_reaches_every_page(book_copy):
    """Sphinx writes no page when none is out of date, and so used to copy no static
    file either: a CSS-only edit never reached the site. Now every page is written
    again and none is read, and the pages keep their code links (sphinx-codeautolink
    keeps what it needs for them only for .rst sources: a build that wrote pages
    without reading them, as every build after a commit does, lost every link)."""
    build(book_copy)  # an earlier test's undone edit is read here, not below
    css = book_copy / "book/_static/introdl.css"
    page = book_copy / f"_build/html/{PERCEPTRON}.html"
    before = re.search(r"introdl\.css\?v=(\w+)", page.read_text())[1]
    links = [code_links(book_copy, chapter) for chapter in (PERCEPTRON, LOSS)]
    with edited(css, "/*", "/* an edit */\n/*"):
        log = build(book_copy)
        assert executed(log) == [] and reread(log) == []
        assert "an edit" in (book_copy / "_build/html/_static/introdl.css").read_text()
        after = re.search(r"introdl\.css\?v=(\w+)", page.read_text())[1]
        assert after != before  # the page asks for the new file, not a cached one
        assert [code_links(book_copy, c) for c in (PERCEPTRON, LOSS)] == links
        assert min(links) > 0
    build(book_copy)


@pytest.mark.parametrize("how", ["copy", "move"])
def test_a_moved_folder_never_shows_stale_outputs(book_copy, tmp_path, how):
    """Build, copy or move the folder with its _build (file times kept), break the
    perceptron so that the chapter's own check against PyTorch fails, rebuild:
    the build fails. Undo the edit: it passes again."""
    elsewhere = tmp_path / "elsewhere" / "book"
    elsewhere.parent.mkdir()
    if how == "copy":
        shutil.copytree(book_copy, elsewhere, symlinks=True)
    else:
        moved_from = tmp_path / "original"
        shutil.copytree(book_copy, moved_from, symlinks=True)
        moved_from.rename(elsewhere)
    perceptron = elsewhere / "code/introdl/perceptron.py"
    with edited(perceptron, "y_hat = g(z)", "y_hat = g(z) + 0.5"):
        log = build(elsewhere, ok=False)
        assert f"{elsewhere}/{PERCEPTRON}.md: Executing notebook" in log
        assert "Using cached notebook" not in log.split(PERCEPTRON)[-1]
    build(elsewhere)  # undone: passes, with the outputs cached for this code
    assert executed(build_again(elsewhere)) == []


def test_two_clean_builds_are_identical(first_build, tmp_path):
    _, first_outputs, first_figures = first_build
    second = make_copy(tmp_path)
    build(second)
    for chapter in (PERCEPTRON, LOSS):  # cell outputs and glued numbers
        assert outputs(second, chapter) == first_outputs[chapter]
    assert len(first_figures) >= 5 and figures(second) == first_figures  # SVG bytes


def test_the_downloadable_notebook_has_the_outputs_of_the_page(book_copy):
    cells = outputs(book_copy, PERCEPTRON)
    assert sum(1 for out in cells if out) >= 5
    page = (book_copy / f"_build/html/{PERCEPTRON}.html").read_text()
    assert "download-notebook-button" in page


def test_without_katex_the_math_is_typeset_by_mathjax_from_the_site(book_copy):
    """The copy has no node_modules/ (no `npm ci`), as on a machine without Node.js:
    it still builds under -W, pages load MathJax from the site itself, and the build
    says once how to get the math rendered when the book is built."""
    log = build_again(book_copy)
    assert log.count("install Node.js and npm") == 1
    html = book_copy / "_build" / "html"
    assert "_static/mathjax/tex-chtml.js" in (html / f"{PERCEPTRON}.html").read_text()
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert not (html / "_static" / "katex").exists()
