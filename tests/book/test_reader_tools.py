"""Reader tools of the built site: code linked to the API and the API to its source,
definitions on hover, the notebooks archive (installed and run as a reader would),
the edition in the footer, and the landing page at the site's root."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.book.conftest import ROOT, chapter_docnames

ARCHIVE = Path("_downloads") / "introdl-notebooks.zip"


class _Elements(HTMLParser):
    """Every element with its attributes and its text (including its children's)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.elements, self._open = [], []

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": []}
        self.elements.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.elements.append({"tag": tag, "attrs": dict(attrs), "text": []})

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i]["tag"] == tag:
                del self._open[i:]
                break

    def handle_data(self, data):
        for element in self._open:
            element["text"].append(data)


def elements(path: Path) -> list[dict]:
    parser = _Elements()
    parser.feed(path.read_text(encoding="utf-8"))
    for element in parser.elements:
        element["text"] = re.sub(r"\s+", " ", "".join(element["text"])).strip()
    return parser.elements


def classes(element) -> set[str]:
    return set(element["attrs"].get("class", "").split())


# -- code linked to its documentation ------------------------------------------


def resolve(page: Path, href: str) -> tuple[Path, str]:
    """The file and the anchor a link of ``page`` points to."""
    path, _, anchor = href.partition("#")
    return (page.parent / path).resolve() if path else page.resolve(), anchor


def api_links(html_dir: Path, page: Path) -> list[str]:
    """Anchors in the API reference that sphinx-codeautolink links from ``page``."""
    api = (html_dir / "book/appendix/api.html").resolve()
    anchors = []
    for e in elements(page):
        if e["tag"] == "a" and "sphinx-codeautolink-a" in classes(e):
            target, anchor = resolve(page, e["attrs"]["href"])
            if target == api:
                anchors.append(anchor)
    return anchors


def test_chapter_code_links_to_the_api_reference(html_dir):
    """Names of the package in a chapter's code cells link to their API entries."""
    api_ids = {e["attrs"]["id"] for e in elements(html_dir / "book/appendix/api.html")
               if "id" in e["attrs"]}
    anchors = api_links(html_dir, html_dir / "book/lecture1/perceptron.html")
    assert len(anchors) >= 3, anchors
    assert all(a in api_ids for a in anchors), sorted(set(anchors) - api_ids)
    assert "introdl.perceptron.perceptron" in anchors


@pytest.mark.parametrize("docname", chapter_docnames())
def test_every_chapter_links_its_code_to_the_api(html_dir, docname):
    anchors = api_links(html_dir, html_dir / f"{docname}.html")
    assert any(a.startswith("introdl.") for a in anchors), docname


def test_shown_code_is_captioned_with_its_api_entry(html_dir):
    """A block that shows a package function names it, linked to the API entry."""
    page = html_dir / "book/lecture1/perceptron.html"
    items = elements(page)
    captions = [e for e in items if "code-block-caption" in classes(e)]
    assert captions
    links = [e for e in items if e["tag"] == "a" and e["text"].startswith("introdl.")
             and "api.html#" in e["attrs"].get("href", "")
             and "sphinx-codeautolink-a" not in classes(e)]
    texts = {e["text"] for e in links}
    assert {"introdl.perceptron.perceptron", "introdl.activations.sigmoid"} <= texts
    for link in links:
        target, anchor = resolve(page, link["attrs"]["href"])
        assert anchor == link["text"] and target.name == "api.html"


def test_api_entries_link_to_their_highlighted_source(html_dir):
    api = html_dir / "book/appendix/api.html"
    sources = [e["attrs"]["href"] for e in elements(api) if e["tag"] == "a"
               and "_modules/introdl/" in e["attrs"].get("href", "")]
    assert len(sources) >= 50, len(sources)
    modules = {href.partition("#")[0] for href in sources}
    for href in sorted(modules):
        source = (api.parent / href).resolve()
        assert source.exists(), href
        page = source.read_text(encoding="utf-8")
        assert 'class="highlight"' in page, href
        assert "appendix/api.html#introdl." in page, f"{href} links back to the API"
    assert any(h.startswith("../../_modules/introdl/perceptron.html#") for h in sources)


# -- definitions on hover -------------------------------------------------------


def glossary_definitions(html_dir) -> dict[str, str]:
    """Anchor of each term -> the text of the first paragraph of its definition."""
    items = elements(html_dir / "book/appendix/glossary.html")
    definitions, anchors = {}, []
    for element in items:
        anchor = element["attrs"].get("id", "")
        if element["tag"] == "dt" and anchor.startswith("term-"):
            anchors.append(anchor)
        elif element["tag"] == "dd":
            first = next((e for e in items[items.index(element) + 1:]
                          if e["tag"] == "p"), None)
            for anchor in anchors:
                definitions[anchor] = first["text"]
            anchors = []
    return definitions


def tooltips(path: Path) -> list[tuple[dict, dict]]:
    """(link, tooltip) of every hover pair of a page."""
    items = elements(path)
    by_id = {e["attrs"]["id"]: e for e in items if "id" in e["attrs"]}
    pairs = []
    for element in items:
        described = element["attrs"].get("aria-describedby")
        if element["tag"] == "a" and described:
            pairs.append((element, by_id[described]))
    return pairs


@pytest.mark.parametrize("docname", chapter_docnames())
def test_terms_carry_their_definitions(html_dir, docname):
    definitions = glossary_definitions(html_dir)
    assert len(definitions) > 50
    pairs = [(a, tip) for a, tip in tooltips(html_dir / f"{docname}.html")
             if "#term-" in a["attrs"]["href"]]
    assert pairs, f"{docname} links no term with its definition"
    for link, tip in pairs:
        assert tip["tag"] == "span" and tip["attrs"].get("role") == "tooltip"
        assert "introdl-tip" in classes(tip)
        anchor = link["attrs"]["href"].partition("#")[2]
        # the tooltip holds the definition (math is rendered in the page, so compare
        # the words only)
        words = re.findall(r"[A-Za-z]{4,}", definitions[anchor])
        assert words and all(w in tip["text"] for w in words), (anchor, tip["text"])


def test_tooltip_ids_are_unique_and_in_page_order(html_dir):
    for path in (html_dir / "book").rglob("*.html"):
        ids = [tip["attrs"]["id"] for _, tip in tooltips(path)]
        assert ids == [f"introdl-tip-{i}" for i in range(1, len(ids) + 1)], path


def test_figure_and_equation_references_carry_their_target(html_dir):
    pairs = [p for d in chapter_docnames() for p in tooltips(html_dir / f"{d}.html")]
    figures = [(a, t) for a, t in pairs if "#fig-" in a["attrs"]["href"]]
    equations = [(a, t) for a, t in pairs if "#equation-" in a["attrs"]["href"]]
    assert figures and equations
    assert all(len(t["text"]) > 20 for _, t in figures)
    assert all("math" in t["text"] or t["text"] for _, t in equations)


class _OutsideTips(HTMLParser):
    """The text of a page, without the text of its tooltips."""

    def __init__(self):
        super().__init__()
        self.text, self._spans, self._tip_depth = [], 0, None

    def handle_starttag(self, tag, attrs):
        if tag == "span":
            self._spans += 1
            if self._tip_depth is None and "introdl-tip" in (dict(attrs).get("class")
                                                             or "").split():
                self._tip_depth = self._spans

    def handle_endtag(self, tag):
        if tag == "span":
            if self._tip_depth == self._spans:
                self._tip_depth = None
            self._spans -= 1

    def handle_data(self, data):
        if self._tip_depth is None:
            self.text.append(data)


def text_outside_tooltips(path: Path) -> str:
    parser = _OutsideTips()
    parser.feed(path.read_text(encoding="utf-8"))
    return " ".join(parser.text)


def test_tooltips_stay_out_of_the_search_index(html_dir):
    """A page is found by its own words, not by the definitions it links to."""
    from sphinx.search.en import SearchEnglish

    index = (html_dir / "searchindex.js").read_text(encoding="utf-8")
    data = json.loads(index[index.index("(") + 1: index.rindex(")")])
    docname = "book/lecture1/perceptron"
    page = data["docnames"].index(docname)
    stem = SearchEnglish({}).stem
    tips = [tip["text"] for _, tip in tooltips(html_dir / f"{docname}.html")]
    own = {stem(w.lower()) for w in re.findall(
        r"[A-Za-z]+", text_outside_tooltips(html_dir / f"{docname}.html"))}
    foreign = {stem(w.lower()) for text in tips
               for w in re.findall(r"[A-Za-z]{6,}", text)}
    foreign -= own
    assert foreign, "the test needs a word that only a tooltip has"
    for word in foreign:
        hits = data["terms"].get(word, [])
        assert page not in (hits if isinstance(hits, list) else [hits]), word


# -- run it yourself ------------------------------------------------------------


@pytest.fixture(scope="module")
def archive(html_dir) -> Path:
    path = html_dir / ARCHIVE
    assert path.exists(), "make book writes the notebooks archive"
    return path


def test_archive_holds_every_chapter_a_wheel_and_the_pins(archive):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        readme = zf.read("introdl-notebooks/README.md").decode()
        pins = zf.read("introdl-notebooks/requirements.txt").decode().splitlines()
        infos = zf.infolist()
    for docname in chapter_docnames():
        chapter = docname.removeprefix("book/")
        assert f"introdl-notebooks/notebooks/{chapter}.ipynb" in names
    assert f"introdl-notebooks/introdl-{version}-py3-none-any.whl" in names
    project_pins = set((ROOT / "requirements.txt").read_text().splitlines())
    lines = [p for p in pins if p and not p.startswith("#")]
    assert all("==" in p for p in lines)
    # every pin is the project's, but for the packaging tools that pip freeze omits
    assert {p for p in lines if p not in project_pins
            and not p.startswith(("pip==", "setuptools==", "wheel=="))} == set()
    assert {p.split("==")[0].lower() for p in lines} >= {
        "torch", "numpy", "matplotlib", "scikit-learn", "ipykernel", "jupyterlab"}
    assert "python3 -m venv" in readme and "pip install -r requirements.txt" in readme
    assert "jupyter lab" in readme
    # deterministic: one date for every entry, entries in sorted order
    assert len({i.date_time for i in infos}) == 1
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)


def test_introduction_links_to_the_archive(html_dir, archive):
    intro = html_dir / "book/intro.html"
    hrefs = [e["attrs"].get("href") for e in elements(intro) if e["tag"] == "a"]
    assert "../_downloads/introdl-notebooks.zip" in hrefs
    readme = (ROOT / "README.md").read_text()
    assert "_build/html/_downloads/introdl-notebooks.zip" in readme


def test_a_notebook_from_the_archive_runs_with_the_wheel(archive, tmp_path):
    """The reader's path: a fresh virtual environment, the wheel installed into it
    (the other pinned packages are the project's, already installed: no network),
    and a chapter's notebook executed from the archive with no error."""
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp_path)
    folder = tmp_path / "introdl-notebooks"
    wheel = next(folder.glob("introdl-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The fresh environment sees the project's installed packages (a path in a .pth
    # file: after its own, so the wheel's introdl comes first, and with no .pth of the
    # project's processed, so the project's editable install of introdl stays out).
    site = subprocess.run([str(python), "-c", "import sysconfig; "
                           "print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    project_site = sysconfig.get_paths()["purelib"]
    Path(site, "project-packages.pth").write_text(project_site + "\n")
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "JUPYTER_PATH", "VIRTUAL_ENV"}}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PIP_NO_INDEX"] = "1"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--ignore-installed", str(wheel)], capture_output=True, text=True, env=env)
    assert install.returncode == 0, install.stdout + install.stderr
    notebook = folder / "notebooks" / "lecture1" / "perceptron.ipynb"
    script = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
nb.cells.append(nbformat.v4.new_code_cell(
    "import introdl, sys; print(introdl.__file__); print(sys.executable)"))
NotebookClient(nb, timeout=300, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
print(nb.cells[-1].outputs[0]["text"], end="")
"""
    run = subprocess.run([str(python), "-c", script, str(notebook), str(tmp_path)],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    where, executable = run.stdout.strip().splitlines()[-2:]
    # the kernel ran in the fresh environment and imported the wheel, not the sources
    assert Path(where).is_relative_to(venv), where
    assert Path(executable).parent == venv / "bin", executable


# -- edition and landing page ---------------------------------------------------


def edition_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


@pytest.mark.parametrize("page", ["book/intro.html", "book/lecture1/perceptron.html",
                                  "book/appendix/changelog.html"])
def test_footer_gives_the_edition(html_dir, page):
    footer = [e for e in elements(html_dir / page) if "introdl-edition" in classes(e)]
    assert len(footer) == 1
    text = footer[0]["text"]
    assert text.startswith(f"Edition {edition_version()}")
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                         capture_output=True, text=True).stdout.strip()
    if sha:
        assert f"commit {sha}" in text


def test_how_to_cite_gives_the_edition(html_dir):
    intro = " ".join(e["text"] for e in elements(html_dir / "book/intro.html")
                     if e["tag"] == "p")
    assert f"edition {edition_version()}" in intro


def test_changelog_is_in_the_book(html_dir):
    page = html_dir / "book/appendix/changelog.html"
    assert page.exists()
    headings = [e["text"] for e in elements(page) if e["tag"] in ("h1", "h2")]
    assert len(headings) >= 3


def test_site_root_is_a_valid_redirect_with_a_favicon(html_dir):
    root = elements(html_dir / "index.html")
    text = (html_dir / "index.html").read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html>")
    refresh = [e for e in root if e["tag"] == "meta"
               and e["attrs"].get("http-equiv", "").lower() == "refresh"]
    assert refresh and refresh[0]["attrs"]["content"].endswith("url=book/intro.html")
    # an icon that costs no request: no /favicon.ico 404, nothing aborted by the
    # redirect
    icons = [e["attrs"]["href"] for e in root if e["tag"] == "link"
             and e["attrs"].get("rel") == "icon"]
    assert icons == ["data:,"]
