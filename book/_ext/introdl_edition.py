"""Sphinx extension of the book: the edition, and a landing page at the site's root.

**Edition.** The book's edition is the package's version in ``pyproject.toml``, plus
the short hash of the git commit it was built from when the sources are a git
checkout (``0.1.0 (commit 1a2b3c4)``). It appears

* at the foot of every HTML page (the theme's ``extra_footer``),
* on the PDF's title page and in its page headers (LaTeX's ``releasename``),
* in the chapters as the MyST substitution ``{{ edition }}`` (the version only, so
  that a new commit does not make every page be read again; ``unknown`` in a copy
  of the sources without ``pyproject.toml``).

The footer and the title page are HTML and LaTeX settings: changing them rewrites
the output but re-reads, and so re-executes, nothing.

**Landing page.** Sphinx writes the book's pages under ``book/``; the site's root
``index.html`` sends the reader to the introduction. ``sphinx-external-toc`` writes a
bare ``<meta>`` redirect there, which is not valid HTML and makes the browser ask for
``/favicon.ico`` (a 404 in the console). This extension writes a complete, valid
redirect page first, with an empty icon, so the browser asks for nothing but the
introduction.
"""

from __future__ import annotations

import html
import subprocess
import tomllib
from pathlib import Path


def package_version(root: Path) -> str | None:
    """``project.version`` of ``root/pyproject.toml``, or None."""
    path = root / "pyproject.toml"
    if not path.exists():
        return None
    return tomllib.loads(path.read_text(encoding="utf-8"))["project"]["version"]


def commit(root: Path) -> str | None:
    """The short hash of the commit checked out in ``root``, or None (no git, or no
    git checkout: a copy of the sources)."""
    try:
        run = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if run.returncode != 0:
        return None
    # a copy inside another checkout must not report that checkout's commit
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root,
                         capture_output=True, text=True, timeout=10)
    if top.returncode != 0 or Path(top.stdout.strip()).resolve() != root.resolve():
        return None
    return run.stdout.strip() or None


def edition(root: Path) -> str | None:
    """``0.1.0 (commit 1a2b3c4)``, ``0.1.0``, or None when there is no version."""
    version = package_version(root)
    if version is None:
        return None
    sha = commit(root)
    return f"{version} (commit {sha})" if sha else version


#: The edition of sources that are not the project (a copy without pyproject.toml).
UNKNOWN = "unknown"


def set_edition(app, config) -> None:
    root = Path(app.confdir)
    version = package_version(root)
    config.myst_substitutions = {"edition": version or UNKNOWN,
                                 **config.myst_substitutions}
    if version is None:
        return
    text = edition(root)
    options = dict(config.html_theme_options or {})
    options.setdefault("extra_footer",
                       f'<p class="introdl-edition">Edition {html.escape(text)}</p>')
    config.html_theme_options = options
    elements = dict(config.latex_elements or {})
    elements.setdefault("releasename", f"Edition {text}")
    config.latex_elements = elements


REDIRECT = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="0; url={target}">
<link rel="canonical" href="{target}">
{icon}</head>
<body>
<p>The book starts at <a href="{target}">{start}</a>.</p>
</body>
</html>
"""


def write_landing_page(app, exception) -> None:
    """Write ``index.html`` at the root: a valid page that redirects to the root
    document (before sphinx-external-toc, which then leaves it alone)."""
    if exception is not None or app.builder.name != "html":
        return
    root_doc = app.config.root_doc
    if root_doc == "index":
        return
    # An empty icon: without one the browser asks for /favicon.ico (a 404), and a
    # real one would be fetched while the page is already being left (an aborted
    # request); the pages of the book carry the site's icon.
    icon = '<link rel="icon" href="data:,">\n'
    target = html.escape(app.builder.get_target_uri(root_doc))
    title = app.config.html_title or app.config.project
    start = app.env.titles[root_doc].astext() if root_doc in app.env.titles else title
    page = REDIRECT.format(lang=html.escape(app.config.language or "en"),
                           title=html.escape(title), target=target, icon=icon,
                           start=html.escape(start))
    Path(app.outdir, "index.html").write_text(page, encoding="utf-8")


def setup(app):
    app.connect("config-inited", set_edition)
    app.connect("build-finished", write_landing_page, priority=400)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
