"""The built HTML site: every chapter executed, every figure present, no broken
links."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

from tests.book.conftest import (
    ROOT,
    chapter_docnames,
    figure_count,
    prerendered,
    toc_docnames,
)


class _Page(HTMLParser):
    """Collects links, images (with alt text), figures and element ids of a page."""

    def __init__(self):
        super().__init__()
        self.links, self.images, self.ids, self.figures = [], [], set(), 0
        self.resources = []
        self._in_figure = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "img":
            self.images.append((a.get("src", ""), a.get("alt"), self._in_figure > 0))
        if tag in ("script", "img", "source") and a.get("src"):
            self.resources.append(a["src"])
        if tag == "link" and a.get("href"):
            self.resources.append(a["href"])
        if tag == "figure":
            self.figures += 1
            self._in_figure += 1

    def handle_endtag(self, tag):
        if tag == "figure":
            self._in_figure -= 1


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def all_pages(html_dir):
    return sorted(p for p in html_dir.rglob("*.html") if "_static" not in p.parts)


def test_every_toc_document_has_a_page(html_dir):
    missing = [d for d in toc_docnames()
               if not (html_dir / ("index" if d == "book/intro" else d)).with_suffix(
                   ".html").exists() and not (html_dir / f"{d}.html").exists()]
    assert not missing


@pytest.mark.parametrize("docname", chapter_docnames())
def test_chapter_was_executed_with_outputs(html_dir, docname):
    # the notebook the site offers for download: the source merged with the outputs
    # of its cached execution (myst-nb's own copy lacks outputs after a cache hit)
    nb_path = html_dir / "_sources" / f"{docname}.ipynb"
    assert nb_path.exists(), f"{docname} was not executed"
    nb = nbformat.read(nb_path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{docname} has no code cells"
    for cell in code:
        tags = cell.metadata.get("tags", [])
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors or "raises-exception" in tags, (docname, cell.source[:80])
        streams = [o for o in cell.outputs if o.get("name") == "stderr"]
        assert not streams, (docname, streams[0].text[:200])
    with_output = sum(1 for c in code if c.outputs)
    assert with_output >= figure_count(docname), f"{docname}: outputs are missing"


def test_every_chapter_has_an_execution_record():
    """The execution cache holds a successful run of every chapter."""
    from jupyter_cache import get_cache

    cache = get_cache(str(ROOT / "_build" / ".jupyter_cache"))
    uris = {Path(r.uri).resolve() for r in cache.list_cache_records()}
    missing = [d for d in chapter_docnames()
               if (ROOT / f"{d}.md").resolve() not in uris]
    assert not missing


@pytest.mark.parametrize("docname", chapter_docnames())
def test_every_figure_is_in_the_html_with_alt_text(html_dir, docname):
    page = parse(html_dir / f"{docname}.html")
    expected = figure_count(docname)
    assert expected >= 1, f"{docname} declares no figure"
    assert page.figures == expected
    figure_images = [img for img in page.images if img[2]]
    assert len(figure_images) == expected
    for src, alt, _ in figure_images:
        assert src.endswith(".svg"), f"{src}: figures must be vector (SVG) in HTML"
        assert (html_dir / docname).parent.joinpath(unquote(src)).resolve().exists()
        assert alt and len(alt) >= 30, f"{docname}: figure {src} lacks a real alt text"


@pytest.mark.parametrize("docname", chapter_docnames())
def test_no_image_is_shown_outside_a_figure(html_dir, docname):
    """A plot shown twice (once as a stray cell output) is a bug."""
    page = parse(html_dir / f"{docname}.html")
    stray = [src for src, _, in_fig in page.images if not in_fig and
             "_images/" in src]
    assert not stray


def test_no_broken_internal_links(html_dir):
    """Every internal link and resource of every page exists, and every #anchor is an
    id of its target page. Our own check, with the standard library: offline by
    construction and fast (the site's few thousand links in seconds); linkchecker
    and lychee are whole crawlers that would add dependencies (lychee a binary
    download) to check what these lines check."""
    pages = {p.resolve(): parse(p) for p in all_pages(html_dir)}
    broken = []
    for path, page in pages.items():
        for link in page.links + page.resources:
            url = urlparse(link)
            if url.scheme or link.startswith(("mailto:", "//")):
                continue
            target = (path.parent / unquote(url.path)).resolve() if url.path else path
            if not target.exists():
                broken.append(f"{path.name}: {link}")
            elif url.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if url.fragment not in ids:
                    broken.append(f"{path.name}: {link} (no such anchor)")
    assert not broken, "\n".join(broken[:20])


def test_pages_load_nothing_from_other_hosts(html_dir):
    offsite = []
    for path in all_pages(html_dir):
        for res in parse(path).resources:
            if urlparse(res).scheme in ("http", "https") or res.startswith("//"):
                offsite.append(f"{path.name}: {res}")
    assert not offsite, "\n".join(offsite[:20])


def test_math_is_served_by_the_site(html_dir):
    """KaTeX's CSS and fonts (math rendered at build time), or else MathJax (math
    typeset in the browser, without Node.js): from the site, never from a CDN."""
    text = (html_dir / "book/lecture1/perceptron.html").read_text()
    if prerendered(html_dir):
        assert re.search(r'href="[./]*_static/katex/katex\.min\.css(\?[^"]*)?"', text)
        assert (html_dir / "_static/katex/fonts/KaTeX_Main-Regular.woff2").is_file()
    else:
        assert re.search(r'src="[./]*_static/mathjax/tex-chtml\.js(\?[^"]*)?"', text)
        assert (html_dir / "_static/mathjax/output/chtml/fonts/woff-v2").is_dir()


def test_code_cells_have_copy_buttons_enabled(html_dir):
    text = (html_dir / "book/lecture1/perceptron.html").read_text()
    assert "copybutton.js" in text


def test_sources_carry_no_machine_paths():
    for path in [*ROOT.glob("book/**/*.md"), *ROOT.glob("code/introdl/*.py")]:
        text = path.read_text()
        assert not re.search(r"/(work|tmp|root|home)/\w", text), path


@pytest.mark.parametrize("docname", chapter_docnames())
def test_chapter_offers_its_executed_notebook(html_dir, docname):
    page = (html_dir / f"{docname}.html").read_text()
    assert f"_sources/{docname}.ipynb" in page
    nb = nbformat.read(html_dir / "_sources" / f"{docname}.ipynb", as_version=4)
    assert any(c.cell_type == "markdown" for c in nb.cells)
    outputs = sum(len(c.get("outputs", [])) for c in nb.cells if c.cell_type == "code")
    assert outputs >= figure_count(docname)


def test_bibliography_is_a_plain_list_for_screen_readers(html_dir):
    """docutils marks each entry ``role="doc-biblioentry"`` (deprecated, and not
    allowed on a div); the book's visitor writes a list and its items instead."""
    html = (html_dir / "book" / "appendix" / "bibliography.html").read_text()
    assert "doc-biblioentry" not in html
    entries = re.findall(r'<div class="citation" id="[^"]+" role="listitem">', html)
    assert len(entries) >= 20, len(entries)
    assert html.count('<div class="citation-list" role="list">') >= 1


def test_source_pages_have_the_sidebar_header_but_not_the_book_navigation(html_dir):
    """The package's source pages (sphinx.ext.viewcode) leave out the book's
    navigation (_config.yml: html_sidebars); chapters keep it."""
    source = (html_dir / "_modules" / "introdl" / "perceptron.html").read_text()
    chapter = (html_dir / "book" / "lecture1" / "perceptron.html").read_text()
    assert "bd-docs-nav" in chapter and "bd-docs-nav" not in source
    for page in (source, chapter):
        assert "search-button-field" in page and "navbar-brand" in page
