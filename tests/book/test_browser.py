"""A real browser (Debian's Chromium, driven by Playwright) reads every page offline."""

from __future__ import annotations

import functools
import http.server
import re
import threading

import pytest

from tests.book.conftest import chapter_docnames, prerendered, toc_docnames
from tests.conftest import require_tool

CHROMIUM = "/usr/bin/chromium"
#: Scripts that typeset math in the browser, and the theme's icon script.
TYPESETTER = re.compile(r"/(mathjax|katex)[^?#]*\.js", re.I)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(html_dir):
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    require_tool(CHROMIUM, "the pages in a real browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def page_url(server, docname):
    return f"{server}/{'index' if docname == 'book/intro' else docname}.html"


def visit(browser, url, *, color_scheme="light", requested=None):
    """Open ``url``; return the page and what went wrong while loading it.
    Every URL the page requests is appended to ``requested``, if given."""
    page = browser.new_page(color_scheme=color_scheme)
    problems = []
    if requested is not None:
        page.on("request", lambda r: requested.append(r.url))
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    # A clicked link cancels what the old page was still loading (fonts, lazy
    # figures); Chromium reports those as net::ERR_ABORTED. They are no fault
    # of the page, so they count only while no second navigation has begun.
    navigations = []

    def note_navigation(r):
        if r.is_navigation_request() and r.frame == page.main_frame:
            navigations.append(r.url)

    def failed(r):
        if len(navigations) > 1 and r.failure == "net::ERR_ABORTED":
            return
        problems.append(f"failed: {r.url}")

    page.on("request", note_navigation)
    page.on("requestfailed", failed)

    def guard(route):
        if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            return route.continue_()
        problems.append(f"off-site request: {route.request.url}")
        return route.abort()

    page.route("**/*", guard)
    page.goto(url, wait_until="networkidle")
    return page, problems


def wait_for_math(page):
    """Wait for MathJax, where the page typesets its math in the browser (the
    fallback without Node.js); math rendered at build time needs no wait."""
    if page.locator("script[src*='mathjax']").count():
        page.wait_for_function("() => window.MathJax && MathJax.startup && "
                               "MathJax.startup.promise", timeout=15000)
        page.evaluate("() => MathJax.startup.promise")


@pytest.mark.parametrize("docname", toc_docnames())
def test_page_is_clean_complete_and_accessible(browser, server, html_dir, docname):
    """One visit per page checks everything a reader would notice: no console
    errors or failed or off-site requests, every image loaded, every formula
    typeset, copy buttons on code cells, and no serious axe-core violation."""
    from axe_playwright_python.sync_playwright import Axe

    requested = []
    page, problems = visit(browser, page_url(server, docname), requested=requested)
    wait_for_math(page)
    assert not problems, problems
    # figures load lazily, when the reader scrolls near them: load them all now
    page.evaluate("document.querySelectorAll('img[loading=lazy]')"
                  ".forEach(i => { i.loading = 'eager'; })")
    page.wait_for_function("[...document.images].every(i => i.complete)",
                           timeout=15000)
    broken = page.evaluate("""() => [...document.images]
        .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)""")
    assert not broken
    math = page.locator("span.math, div.math").count()
    if math and prerendered(html_dir):
        check_prerendered_math(page, math, requested)
    elif math:
        typeset = page.locator("mjx-container").count()
        assert typeset >= math, f"{typeset} of {math} formulas typeset"
        assert page.locator("mjx-merror").count() == 0, "a formula has a TeX error"
    assert not [u for u in requested if "fontawesome" in u], "the icon script or font"
    assert not [u for u in requested if "searchindex.js" in u], "the search index"
    if docname in chapter_docnames():
        cells = page.locator("div.cell div.highlight").count()
        assert cells > 0 and page.locator("button.copybtn").count() >= cells
    results = Axe().run(page)
    bad = [f"{v['id']} ({v['impact']}): {v['help']} x{len(v['nodes'])}"
           for v in results.response["violations"]
           if v["impact"] in ("serious", "critical")]
    assert not bad, bad
    page.close()


def check_prerendered_math(page, math, requested):
    """Math rendered at build time: every formula is KaTeX's HTML (with MathML for
    screen readers), none is an error, KaTeX's fonts are in use, and no script
    typesets anything."""
    rendered = page.locator(":is(span, div).math .katex").count()
    assert rendered >= math, f"{rendered} of {math} formulas rendered"
    assert page.locator(".katex-mathml math").count() >= math
    assert page.locator(".katex-error").count() == 0, "a formula has a TeX error"
    assert not [u for u in requested if TYPESETTER.search(u)], "a typesetting script"
    # a formula is laid out, and so asks for its fonts, once it nears the screen
    # (content-visibility, introdl.css): bring the first one outside a tooltip there
    page.evaluate("""() => [...document.querySelectorAll('.bd-article .katex')]
        .find(k => !k.closest('.introdl-tip')).scrollIntoView({block: 'center'})""")
    page.wait_for_function("""() => [...document.fonts].some(f =>
        f.family.replace(/"/g, "") === "KaTeX_Main" && f.status === "loaded")""",
                           timeout=15000)


def test_dark_mode_switches_theme_without_errors(browser, server, html_dir):
    page, problems = visit(browser, page_url(server, "book/lecture1/perceptron"),
                           color_scheme="dark")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    if prerendered(html_dir):  # formulas take the text's light colour
        colours = page.evaluate("""() => [document.querySelector("div.math .katex"),
            document.querySelector("article") || document.body]
            .map(e => getComputedStyle(e).color)""")
        assert colours[0] == colours[1], colours
    page.locator("button.theme-switch-button").first.click()
    assert page.evaluate("document.documentElement.dataset.mode") in {
        "light", "dark", "auto"}
    assert not problems, problems
    page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_first_paint_has_the_readers_colours(browser, server, scheme):
    """The colour theme is set before the page is painted, not by the theme's script
    once the page has loaded (which made the browser style the whole page again):
    without that script, a first visit already has the theme's code colours."""
    seen = []
    for theme_script in (True, False):
        page = browser.new_page(color_scheme=scheme)
        if not theme_script:
            page.route("**/scripts/pydata-sphinx-theme.js*", lambda r: r.abort())
        page.goto(page_url(server, "book/lecture1/perceptron"), wait_until="load")
        seen.append(page.evaluate("""() => [document.documentElement.dataset.theme,
            getComputedStyle(document.querySelector(".highlight .k")).color]"""))
        page.close()
    assert seen[0][0] == scheme, seen
    assert seen[1] == seen[0], seen


def test_exercise_solution_is_hidden_until_opened(browser, server):
    page, _ = visit(browser, page_url(server, "book/lecture1/perceptron"))
    solution = page.locator("div.solution").first
    body = solution.locator(".admonition-title ~ *").first
    assert not body.is_visible()
    solution.locator("button.toggle-button").first.click()
    body.wait_for(state="visible", timeout=5000)
    page.close()


@pytest.mark.parametrize("query, chapter", [("dropout", "lecture1/regularization"),
                                            ("perceptron", "lecture1/perceptron")])
def test_search_finds_the_chapter(browser, server, query, chapter):
    """The site's own search (offline, from searchindex.js) finds the chapter."""
    page, problems = visit(browser, f"{server}/search.html?q={query}")
    page.wait_for_selector("#search-results li", timeout=15000)
    hits = page.locator("#search-results li a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")
    assert any(chapter in h for h in hits), hits
    assert not problems, problems
    page.close()


@pytest.mark.parametrize("docname", ["book/lecture2/bptt",
                                     "book/lecture1/learning_rates"])
def test_wide_numbered_equations_fit_a_phone(browser, server, html_dir, docname):
    """On a 390 px wide screen no numbered equation is cut off at the left, and its
    number does not sit over it: the equation scrolls sideways in its own box."""
    if not prerendered(html_dir):
        pytest.skip("MathJax lays out its own equations")
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(page_url(server, docname), wait_until="networkidle")
    boxes = page.evaluate("""() => [...document.querySelectorAll("div.math")]
        .filter(m => m.querySelector(".eqno")).map(m => {
            const box = e => e.getBoundingClientRect();
            const html = m.querySelector(".katex-html");
            return {id: m.id, math: box(m), eqno: box(m.querySelector(".eqno")),
                    html: box(html), scroll: html.scrollWidth > html.clientWidth};
        })""")
    assert boxes, "the page has numbered equations"
    for b in boxes:
        assert b["html"]["left"] >= b["math"]["left"] - 1, f"{b['id']} is cut off"
        overlap = (b["eqno"]["bottom"] > b["html"]["top"] + 1
                   and b["eqno"]["left"] < b["html"]["right"])
        assert not overlap, f"the number of {b['id']} sits over the equation"
    assert any(b["scroll"] for b in boxes), "a wide equation scrolls sideways"
    page.close()
