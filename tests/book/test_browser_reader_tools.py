"""Reader tools in a real browser (Debian's Chromium): the site's root opens the
introduction with no console error, hovering or focusing a term shows its definition,
and a code link leads to the API entry and from there to the highlighted source."""

from __future__ import annotations

import pytest

from tests.book.conftest import reveal

# browser and server are fixtures of the browser tests, shared here
from tests.book.test_browser import (  # noqa: F401
    browser,
    page_url,
    server,
    visit,
    wait_for_math,
)

CHAPTER = "book/lecture1/perceptron"


def test_site_root_opens_the_introduction_cleanly(browser, server):  # noqa: F811
    page, problems = visit(browser, f"{server}/")
    page.wait_for_url("**/book/intro.html", timeout=15000)
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").first.inner_text().startswith(
        "An Executable Introduction")
    assert not problems, problems
    page.close()


def test_hovering_a_term_shows_its_definition(browser, server):  # noqa: F811
    page, problems = visit(browser, page_url(server, CHAPTER))
    link = page.locator("main a[aria-describedby][href*='#term-']").first
    tip = page.locator(f"#{link.get_attribute('aria-describedby')}")
    assert not tip.is_visible()
    reveal(link)
    link.hover()
    tip.wait_for(state="visible", timeout=5000)
    assert len(tip.inner_text()) > 20
    # the tooltip lies within the window
    box, width = tip.bounding_box(), page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    # Escape hides it (WCAG 1.4.13: dismissable), moving away hides it
    page.keyboard.press("Escape")
    tip.wait_for(state="hidden", timeout=5000)
    page.mouse.move(0, 0)
    assert not tip.is_visible()
    assert not problems, problems
    page.close()


def test_keyboard_focus_shows_the_definition(browser, server):  # noqa: F811
    page, problems = visit(browser, page_url(server, CHAPTER))
    wait_for_math(page)
    # nothing inside a tooltip takes the focus (not even math made focusable)
    focusable = page.evaluate("""() => document.querySelectorAll(
        '.introdl-tip a[href], .introdl-tip [tabindex]:not([tabindex="-1"])').length""")
    assert focusable == 0
    link = page.locator("main a[aria-describedby][href*='#term-']").first
    tip = page.locator(f"#{link.get_attribute('aria-describedby')}")
    link.focus()
    tip.wait_for(state="visible", timeout=5000)
    # screen readers get the definition as the link's description
    description = page.evaluate(
        "id => document.getElementById(id).textContent", tip.get_attribute("id"))
    assert description.strip() and description.strip()[:20] in tip.inner_text()
    page.keyboard.press("Tab")
    tip.wait_for(state="hidden", timeout=5000)
    assert not problems, problems
    page.close()


@pytest.mark.parametrize("name", ["perceptron"])
def test_code_link_leads_to_the_api_and_its_source(browser, server, name):  # noqa: F811
    page, problems = visit(browser, page_url(server, CHAPTER))
    link = page.locator(
        f"a.sphinx-codeautolink-a[href$='api.html#introdl.perceptron.{name}']").first
    reveal(link)
    link.click()
    page.wait_for_url(f"**/appendix/api.html#introdl.perceptron.{name}")
    entry = page.locator(f"[id='introdl.perceptron.{name}']")
    assert entry.is_visible()
    source = entry.locator("a.reference.internal[href*='_modules/']").first
    source.click()
    page.wait_for_url("**/_modules/introdl/perceptron.html*")
    assert page.locator("div.highlight").count() >= 1
    assert page.locator(f"text=def {name}(").count() >= 1
    assert not problems, problems
    page.close()
