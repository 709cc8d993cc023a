"""The built site is light (issue 18): math rendered at build time, no icon script,
no search index on pages that do not search, and small figure files.

Lighthouse's page-speed figures are a benchmark (`make bench`), not a test; these are
the properties that make them good, checked in the HTML files."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.book.conftest import IN_CI, chapter_docnames, prerendered

#: Every figure file of the site is at most this big (the GUIDE's budget).
FIGURE_BUDGET = 150 * 1024
#: Scripts that typeset math in the browser.
TYPESETTERS = re.compile(r"(mathjax|katex)[^\"']*\.js", re.I)


def pages(html_dir: Path) -> list[Path]:
    return sorted(p for p in html_dir.rglob("*.html") if "_static" not in p.parts)


@pytest.fixture(scope="module")
def katex_site(html_dir):
    """The site, which must have its math rendered at build time. Without Node.js
    the book falls back to MathJax: skipped loudly then, failed in CI."""
    if not prerendered(html_dir):
        msg = ("MATH NOT PRERENDERED: the book was built without Node.js or without "
               "`npm ci` (make book runs it), so math is typeset in the browser")
        if IN_CI:
            pytest.fail(msg + " (CI=true: .ci/run installs Node.js)")
        pytest.skip(msg)
    return html_dir


class _Text(HTMLParser):
    """The text a reader sees as prose (no code, no scripts, no rendered math), and
    what the page loads."""

    SKIP = {"script", "style", "pre", "code", "math", "textarea", "kbd", "samp"}

    def __init__(self):
        super().__init__()
        self.text, self.skipping, self.katex_depth = [], [], 0
        self.math_spans = self.katex_errors = 0
        self.scripts, self.styles = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        if tag == "link" and a.get("rel") == "stylesheet":
            self.styles.append(a.get("href", ""))
        if "katex-error" in classes:
            self.katex_errors += 1
        if tag in ("span", "div") and "math" in classes:
            self.math_spans += 1
        # code, API signatures (their defaults may be matplotlib's TeX labels),
        # and the math KaTeX rendered
        if tag in self.SKIP or {"highlight", "sig", "katex"} & set(classes):
            self.skipping.append(tag)
        elif self.skipping and tag == self.skipping[-1]:
            self.skipping.append(tag)

    def handle_endtag(self, tag):
        if self.skipping and tag == self.skipping[-1]:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping:
            self.text.append(data)


def read(path: Path) -> _Text:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


RAW_TEX = re.compile(r"\\\(|\\\[|\$[^$\s][^$]*\$|\$\$")


def test_every_formula_is_rendered_with_no_error_and_no_raw_tex(katex_site):
    """No page shows KaTeX's red error text, nor TeX left between $ or \\( \\[
    delimiters for the browser; and the math is really there."""
    problems, formulas = [], 0
    for path in pages(katex_site):
        page = read(path)
        formulas += page.math_spans
        name = path.relative_to(katex_site)
        if page.katex_errors:
            problems.append(f"{name}: {page.katex_errors} formula(s) KaTeX cannot "
                            "render")
        text = " ".join(page.text)
        for match in RAW_TEX.finditer(text):
            context = text[max(0, match.start() - 40):match.end() + 40]
            problems.append(f"{name}: raw TeX {context!r}")
    assert not problems, "\n".join(problems[:30])
    assert formulas > 100  # the book has math, and it was seen


def test_every_formula_carries_mathml_for_screen_readers(katex_site):
    for docname in chapter_docnames():
        text = (katex_site / f"{docname}.html").read_text(encoding="utf-8")
        spans = len(re.findall(r'<(?:span|div) class="math', text))
        mathml = text.count('<span class="katex-mathml"><math')
        assert mathml >= spans, f"{docname}: {mathml} MathML of {spans} formulas"


def test_no_page_loads_a_typesetting_script(katex_site):
    loading = [f"{p.relative_to(katex_site)}: {src}" for p in pages(katex_site)
               for src in read(p).scripts if TYPESETTERS.search(src)]
    assert not loading, "\n".join(loading[:20])


def test_katex_css_and_fonts_are_served_by_the_site(katex_site):
    static = katex_site / "_static"
    page = read(katex_site / "book/lecture1/perceptron.html")
    assert any(s.split("?")[0].endswith("_static/katex/katex.min.css")
               for s in page.styles)
    css = (static / "katex" / "katex.min.css").read_text()
    fonts = set(re.findall(r"url\(([^)]+)\)", css))
    assert fonts and not [f for f in fonts if "://" in f or f.startswith("//")]
    missing = [f for f in fonts if not (static / "katex" / f.strip("'\"")).exists()]
    assert not missing, missing


def test_numbered_equations_keep_their_numbers(katex_site):
    """math_numfig: a labelled equation shows its chapter-wise number, and an {eq}
    reference to it shows the same number."""
    text = (katex_site / "book/lecture1/perceptron.html").read_text(encoding="utf-8")
    numbers = re.findall(r'<span class="eqno">\((\d+\.\d+)\)', text)
    assert len(numbers) >= 3 and len(set(numbers)) == len(numbers)
    refs = re.findall(r'href="#equation-eq-perceptron"[^>]*>.*?Eq\.\s*(\d+\.\d+)',
                      text, re.S)
    assert refs and refs[0] == numbers[0]


def test_no_page_loads_the_icon_script(html_dir):
    loading = [str(p.relative_to(html_dir)) for p in pages(html_dir)
               if any("fontawesome" in s for s in read(p).scripts)]
    assert not loading, loading


def test_every_icon_of_the_pages_is_in_the_small_icon_font(html_dir):
    """The pages' icons come from introdl-icons.woff, the theme's icon font cut down
    to them. An icon missing there falls back to the theme's full font: 156 KB more."""
    static = html_dir / "_static"
    font = static / "introdl-icons.woff"
    assert font.exists() and font.stat().st_size < 20_000
    css = (static / "introdl-icons.css").read_text()
    covered = {int(c, 16) for c in re.findall(r"U\+([0-9A-F]+)", css)}
    theme = (static / "styles" / "pydata-sphinx-theme.css").read_text()
    codepoints = {}
    for selectors, code in re.findall(r'([^{}]+)\{content:"\\([0-9a-f]+)"\}', theme):
        for name in re.findall(r"\.fa-([\w-]+):before", selectors):
            codepoints[name] = int(code, 16)
    used = {}
    for path in pages(html_dir):
        for classes in re.findall(r'class="([^"]*\bfa-[^"]*)"', path.read_text()):
            for name in re.findall(r"\bfa-([\w-]+)", classes):
                if name in codepoints:
                    used.setdefault(name, str(path.relative_to(html_dir)))
    assert {"bars", "magnifying-glass", "sun", "moon"} <= set(used)  # they were found
    missing = {n: page for n, page in used.items() if codepoints[n] not in covered}
    assert not missing, f"icons not in introdl-icons.woff: {missing}"


def test_no_link_draws_a_brand_logo(html_dir):
    """The theme draws a GitHub or GitLab logo before a link of class ``github`` or
    ``gitlab`` (shortened links) from its brand icon font, 100 KB more for that page.
    ``shorten_urls: false`` in _config.yml keeps such links plain."""
    with_logo = [str(p.relative_to(html_dir)) for p in pages(html_dir)
                 if re.search(r'<a class="(github|gitlab)\b', p.read_text())]
    assert not with_logo, with_logo


def test_only_the_search_page_loads_the_search_index(html_dir):
    loading = sorted(str(p.relative_to(html_dir)) for p in pages(html_dir)
                     if any(s.split("?")[0].endswith("searchindex.js")
                            for s in read(p).scripts))
    assert loading == ["search.html"]


@pytest.mark.parametrize("docname", chapter_docnames())
def test_figures_load_when_the_reader_comes_near_them(html_dir, docname):
    images = re.findall(r"<img\b[^>]*>",
                        (html_dir / f"{docname}.html").read_text(encoding="utf-8"))
    assert images and all('loading="lazy"' in img for img in images)


def _over_budget(html_dir: Path) -> list[tuple[str, int]]:
    """Figure files over budget that a page uses (a build folder can also hold the
    figures of earlier builds, which no page loads)."""
    files = [p for p in html_dir.rglob("*") if p.suffix.lower() in (".svg", ".png")]
    assert files
    used = set()
    for page in pages(html_dir):
        text = page.read_text(encoding="utf-8")
        used.update(re.findall(r'src="(?:\.\./)*([^"#?]+\.(?:svg|png))"', text))
    return sorted(((str(p.relative_to(html_dir)), p.stat().st_size) for p in files
                   if p.stat().st_size > FIGURE_BUDGET
                   and str(p.relative_to(html_dir)) in used), key=lambda t: -t[1])


def test_every_figure_file_is_at_most_150_kb(html_dir):
    over = _over_budget(html_dir)
    assert not over, "figure files over 150 KB:\n" + "\n".join(
        f"  {name}: {size / 1024:.0f} KB (+{(size - FIGURE_BUDGET) / 1024:.0f} KB)"
        for name, size in over)


@pytest.mark.parametrize("docname", ["book/lecture1/learning_rates",
                                     "book/lecture2/transformers"])
def test_code_has_no_span_for_a_token_that_looks_like_text(html_dir, docname):
    """Names, punctuation and spaces look like plain text in the theme's code styles:
    their spans are dropped (fewer elements for the browser to style), after
    sphinx-codeautolink has linked the names, so the links stay."""
    html = (html_dir / f"{docname}.html").read_text(encoding="utf-8")
    code = "".join(re.findall(r'<div class="highlight"><pre>(.*?)</pre>', html, re.S))
    assert 'class="k"' in code or 'class="kn"' in code  # still highlighted
    assert not re.findall(r'<span class="(?:n|p|w)">', code)
    assert code.count('class="sphinx-codeautolink-a"') >= 20
