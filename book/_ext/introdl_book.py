"""Sphinx extension of the book: chapters re-execute when the code they use changes.

myst-nb's execution cache keys a notebook on its code cells only, so an edit
to ``code/introdl/`` would leave old numbers and figures in the book. This
extension gives every chapter a *fingerprint*: a hash of the package modules
it uses (found from its ``introdl`` imports and ``literalinclude`` paths,
closed over the imports between modules) and of ``requirements.txt``.

* On ``builder-inited``, a chapter whose fingerprint differs from the one
  recorded with its cached outputs loses its cache record, so it is executed
  again when read.
* On ``env-get-outdated``, the same chapters are handed to Sphinx to be read
  again, even though their source file did not change.

A prose-only edit changes no fingerprint and no code cell, so it re-executes
nothing; an unchanged rebuild reads nothing.

It also writes each chapter's executed notebook (outputs included, from the
cache) next to the page's sources and offers it in the page's download menu,
and provides the ``figure-gallery`` directive: every numbered figure of the
book with its caption and a link back to it (in LaTeX: a list of figures).
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

PACKAGE = "introdl"
# "from introdl[.mod] import names" (names on one line, or in parentheses over
# several) or "import introdl[.mod]"
_IMPORT = re.compile(
    rf"^[ \t]*(?:from[ \t]+{PACKAGE}(?:\.(\w+))?[ \t]+import[ \t]+(\([^)]*\)|[^\n]+)"
    rf"|import[ \t]+{PACKAGE}(?:\.(\w+))?)", re.M)
_INCLUDE = re.compile(rf"code/{PACKAGE}/(\w+)\.py")


def package_modules(code_dir: Path) -> dict[str, Path]:
    """Module name -> file, for the flat package in ``code_dir/introdl``."""
    return {p.stem: p for p in sorted((code_dir / PACKAGE).glob("*.py"))}


def _names(match, modules) -> set[str]:
    sub, imported, plain = match.group(1), match.group(2), match.group(3)
    if sub or plain:
        return {sub or plain}
    if imported is None:  # a bare "import introdl": everything
        return set(modules)
    names = {n.strip() for n in re.split(r"[,\s()]+", imported) if n.strip()}
    if "*" in names:
        return set(modules)
    return ({n for n in names if n in modules} or set()) | {"__init__"}


def direct_dependencies(text: str, modules: dict[str, Path]) -> set[str]:
    """Package modules that ``text`` (a chapter or a module) imports or includes."""
    deps = set(_INCLUDE.findall(text))
    for match in _IMPORT.finditer(text):
        deps |= _names(match, modules)
    return deps & set(modules)


def module_dependencies(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the package modules its source imports (parsed with ``ast``)."""
    graph = {}
    for name, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                deps |= direct_dependencies(
                    f"from {node.module} import "
                    + ", ".join(a.name for a in node.names), modules)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    deps |= direct_dependencies(f"import {alias.name}", modules)
        graph[name] = deps - {name}
    return graph


def closure(start: set[str], graph: dict[str, set[str]]) -> set[str]:
    """Everything reachable from ``start`` in the module graph, ``start`` included."""
    seen, todo = set(), list(start)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph.get(name, ()))
    return seen


def fingerprints(sources: dict[str, str], root: Path) -> dict[str, str]:
    """Key -> hash of the package modules its source depends on, and of the pins.

    The package is parsed once for all sources.
    """
    modules = package_modules(root / "code")
    graph = module_dependencies(modules)
    contents = {name: path.read_bytes() for name, path in modules.items()}
    pins = root / "requirements.txt"
    pins = pins.read_bytes() if pins.exists() else b""
    result = {}
    for key, source in sources.items():
        digest = hashlib.sha256(pins)
        for name in sorted(closure(direct_dependencies(source, modules), graph)):
            digest.update(name.encode() + b"\0" + contents[name])
        result[key] = digest.hexdigest()
    return result


def _chapter_fingerprints(app) -> dict[str, str]:
    sources = {}
    for docname in app.env.found_docs:
        path = Path(app.env.doc2path(docname))
        if path.suffix == ".md" and path.exists():
            sources[docname] = path.read_text()
    return fingerprints(sources, Path(app.confdir))


def _cache_dir(app) -> Path:
    # myst-nb resolves the cache folder on builder-inited (before us)
    return Path(app.env.mystnb_config.execution_cache_path)


def invalidate_cache(app) -> None:
    """Drop the cached outputs of chapters whose dependencies changed."""
    if app.env.mystnb_config.execution_mode != "cache":
        return
    from jupyter_cache import get_cache

    root = Path(app.confdir)
    store = _cache_dir(app) / "introdl-fingerprints.json"
    old = json.loads(store.read_text()) if store.exists() else {}
    new = fingerprints({str(p): p.read_text() for p in sorted(root.glob("book/**/*.md"))},
                       root)
    stale = {p for p, fp in new.items() if old.get(p) not in (None, fp)}
    if stale:
        cache = get_cache(str(_cache_dir(app)))
        for record in cache.list_cache_records():
            if record.uri in stale:
                cache.remove_cache(record.pk)
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps(new, indent=1, sort_keys=True))


def outdated_chapters(app, env, added, changed, removed):
    """Tell Sphinx to re-read chapters whose dependencies changed."""
    current = _chapter_fingerprints(app)
    previous = getattr(env, "introdl_fingerprints", {})
    env.introdl_fingerprints = current
    return [d for d, fp in current.items()
            if d in previous and previous[d] != fp and d not in added | changed]


def executed_notebook(app, docname: str):
    """The chapter as a notebook with the outputs of its cached execution."""
    import nbformat
    from jupyter_cache import get_cache
    from myst_nb.core.read import create_nb_reader

    path = app.env.doc2path(docname)
    text = Path(path).read_text(encoding="utf-8")
    reader = create_nb_reader(str(path), app.env.myst_config, app.env.mystnb_config,
                              text)
    if reader is None:
        return None
    nb = reader.read(text)
    try:
        _, nb = get_cache(str(_cache_dir(app))).merge_match_into_notebook(nb)
    except KeyError:  # not executed (e.g. a page without code)
        return None
    nb.metadata.pop("source_map", None)
    return nbformat.writes(nb)


def offer_notebook(app, pagename, templatename, context, doctree):
    """Write ``_sources/<page>.ipynb`` and add it to the download menu."""
    if doctree is None or "kernelspec" not in app.env.metadata.get(pagename, {}):
        return
    content = executed_notebook(app, pagename)
    if content is None:
        return
    target = Path(app.outdir, "_sources", pagename + ".ipynb")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content, encoding="utf-8")
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"].insert(0, {
                "type": "link", "text": ".ipynb", "icon": "fas fa-code",
                "url": context["pathto"]("_sources/" + pagename + ".ipynb", 1),
                "tooltip": "Download the executed notebook",
                "label": "download-notebook-button"})


class gallery_node(nodes.General, nodes.Element):
    """Placeholder for the figure gallery, filled in once every chapter is read."""


class FigureGallery(SphinxDirective):
    """``figure-gallery``: every numbered figure of the book, in reading order."""

    def run(self):
        if self.env.app.builder.format == "latex":
            return [nodes.raw("", r"\listoffigures", format="latex")]
        return [gallery_node()]


def _figure_entries(app, fromdoc):
    """(figure number, chapter title, uri, figure node), in reading order.

    The figures come from each chapter's *resolved* doctree, so their captions'
    cross-references are already links; links within the chapter are rewritten
    to point into it from the gallery page.
    """
    env = app.env
    for docname in _toc_order(env):
        if docname == fromdoc or docname not in env.toc_fignumbers:
            continue
        numbers = env.toc_fignumbers[docname].get("figure", {})
        if not numbers:
            continue
        title = env.titles[docname].astext()
        page = app.builder.get_relative_uri(fromdoc, docname)
        doctree = env.get_and_resolve_doctree(docname, app.builder)
        for figure in doctree.findall(nodes.figure):
            ids = [i for i in figure["ids"] if i in numbers]
            if ids:
                figure = figure.deepcopy()
                for ref in figure.findall(nodes.reference):
                    if "refid" in ref:
                        ref["refuri"] = page + "#" + ref["refid"]
                        del ref["refid"]
                    elif ref.get("refuri", "").startswith("#"):
                        ref["refuri"] = page + ref["refuri"]
                number = ".".join(map(str, numbers[ids[0]]))
                yield number, title, page + "#" + ids[0], figure


def _toc_order(env):
    """Documents in reading order, following the toctrees from the root."""
    order, todo = [], [env.config.root_doc]
    while todo:
        doc = todo.pop(0)
        if doc not in order:
            order.append(doc)
            todo[:0] = env.toctree_includes.get(doc, [])
    return order


def fill_gallery(app, doctree, fromdoc):
    for placeholder in doctree.findall(gallery_node):
        grid = nodes.container(classes=["introdl-gallery"])
        for number, title, uri, figure in _figure_entries(app, fromdoc):
            item = nodes.container(classes=["introdl-gallery-item"])
            # a glued figure holds one image per format; the site shows the SVG
            images = sorted(figure.findall(nodes.image),
                            key=lambda im: not im["uri"].endswith(".svg"))
            if images:
                copy = images[0].deepcopy()
                copy["classes"] = ["introdl-gallery-image"]
                item += copy
            caption = next(iter(figure.findall(nodes.caption)), None)
            para = nodes.paragraph()
            link = nodes.reference("", "", internal=True, refuri=uri)
            link += nodes.strong(text=f"Fig. {number}")
            para += link
            para += nodes.Text(f" ({title}). ")
            if caption is not None:
                para += caption.deepcopy().children
            item += para
            grid += item
        placeholder.replace_self(grid)


def gallery_needs_math(app, pagename, templatename, context, doctree):
    """The gallery's captions carry math, copied in after reading: load MathJax."""
    if doctree is not None and any(
            "introdl-gallery" in n["classes"] for n in doctree.findall(nodes.container)):
        app.env.get_domain("math").data["has_equations"][pagename] = True


def fix_citation_list(app, pagename, templatename, context, doctree):
    """docutils marks the bibliography ``role="list"`` but its entries are not list
    items, which screen readers (and axe-core) reject: drop the role."""
    if "body" in context:
        context["body"] = context["body"].replace(
            '<div role="list" class="citation-list">', '<div class="citation-list">')


#: Extensions that are safe for parallel reading but do not say so, and why.
_PARALLEL_SAFE = {
    # replaces the section numbering, which runs in the main process after reading
    "sphinx_multitoc_numbering": "numbering only",
    # sets mathjax_path and copies MathJax once the build has finished
    "sphinx-mathjax-offline": "static files only",
    # transforms each document on its own for LaTeX; keeps nothing in the environment
    "sphinx_jupyterbook_latex": "per-document transforms only",
}


def _declare_parallel_safe(app) -> None:
    """Without these declarations Sphinx reads, and so executes, the chapters one
    by one instead of in parallel."""
    for name in _PARALLEL_SAFE:
        extension = app.extensions.get(name)
        if extension is not None:
            extension.parallel_read_safe = True
            extension.parallel_write_safe = True


def setup(app):
    _declare_parallel_safe(app)
    app.connect("html-page-context", fix_citation_list)
    app.connect("html-page-context", gallery_needs_math, priority=400)
    app.add_node(gallery_node)
    app.add_directive("figure-gallery", FigureGallery)
    app.connect("doctree-resolved", fill_gallery)
    app.connect("builder-inited", invalidate_cache, priority=900)
    app.connect("env-get-outdated", outdated_chapters)
    app.connect("html-page-context", offer_notebook, priority=900)
    return {"version": "1.0", "parallel_read_safe": True,
            "parallel_write_safe": True, "env_version": 1}
