"""Sphinx extension of the book: chapters re-execute when the code they use changes.

myst-nb's execution cache (jupyter-cache) keys a notebook on its code cells and
their metadata. By itself it would keep old outputs after an edit to
``code/introdl/``. This extension gives every chapter a *fingerprint*: a hash of
the package modules it uses (found from its ``introdl`` imports and
``literalinclude`` paths, closed over the imports between modules, subpackages
included) and of ``requirements.txt``. The fingerprint is written into the
metadata of the chapter's first code cell as the chapter is read
(``source-read``), so it is part of the key the cache matches on:

* a chapter whose code changed misses the cache and is executed again, wherever
  the folder lives and whatever command builds it (no bookkeeping by path);
* on ``env-get-outdated`` the chapters whose fingerprint changed are handed to
  Sphinx to be read again, though their own file did not change.

A prose-only edit changes no fingerprint and no code cell, so it re-executes
nothing; an unchanged rebuild reads nothing.

It also offers each chapter's executed notebook in the page's download menu,
provides the ``figure-gallery`` directive (every numbered figure with its caption
and a link back; in LaTeX a list of figures), writes the bibliography without
docutils' ``role="list"`` (its entries are not list items, which screen readers
reject), and keeps the code links of pages written again without being read.

Where it relies on other packages beyond their documented interfaces, it says so
and :func:`check_versions` refuses to run with versions it was not checked with.
"""

from __future__ import annotations

import ast
import hashlib
import json
import posixpath
import re
from importlib import metadata
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

PACKAGE = "introdl"
FINGERPRINT_KEY = "introdl_fingerprint"
_INCLUDE = re.compile(rf"code/{PACKAGE}/([\w/]+)\.py")
# a code cell's options: a YAML block, or ":key: value" lines
_OPTIONS = re.compile(r"\A(?:---\n.*?\n---\n|(?::[\w-]+:[^\n]*\n)+)", re.S)
_CODE_CELL = re.compile(r"^(`{3,})\{code-cell\}[^\n]*\n(.*?)^\1[ \t]*$", re.M | re.S)

#: The versions whose internals this extension uses, and what it uses of each.
#: An upgrade must be checked by hand against these uses, then the pins changed.
CHECKED_VERSIONS = {
    # myst_nb.core.read.create_nb_reader and env.mystnb_config (executed notebooks)
    "myst-nb": "1.4.0",
    # jupyter_cache.get_cache(...).merge_match_into_notebook, hashing cell metadata
    "jupyter-cache": "1.0.1",
    # the parallel-read declarations below, the citation visitor's markup, the
    # error of a writing process that it drops (see forget_page), and
    # env.get_doctree / env.apply_post_transforms (the figure gallery), and
    # sphinx.util.parallel.make_chunks, how a parallel read is cut (balance_reading)
    "sphinx": "7.4.7",
    "docutils": "0.21.2",
    "sphinx-multitoc-numbering": "0.1.3",
    "sphinx-mathjax-offline": "0.0.2",
    # sets numfig_secnum_depth when the LaTeX builder starts (see share_environment)
    "sphinx-jupyterbook-latex": "1.0.0",
    # the theme reads context["ipynb_source"] for its download menu
    "sphinx-book-theme": "1.3.0",
    # env.sphinx_codeautolink_transforms (the dict its cache holds), its cache file
    # codeautolink-cache.json in the doctree folder and the classes it stores:
    # see keep_code_links
    "sphinx-codeautolink": "0.20.0",
}


def check_versions(installed=metadata.version) -> None:
    """Fail the build with a clear message if a package this extension relies on
    has a version other than the one it was checked with."""
    wrong = []
    for name, expected in CHECKED_VERSIONS.items():
        try:
            found = installed(name)
        except metadata.PackageNotFoundError:
            found = None
        if found is not None and found != expected:
            wrong.append(f"{name} {found} (checked with {expected})")
    if wrong:
        raise ExtensionError(
            "introdl_book relies on internals of these packages and was checked "
            "with other versions: " + "; ".join(wrong) + ". Check book/_ext/"
            "introdl_book.py against them, then update CHECKED_VERSIONS.")


# ---- which package modules a text uses ------------------------------------------

def package_modules(code_dir: Path) -> dict[str, Path]:
    """Dotted module name (``"losses"``, ``"figures.style"``, ``"__init__"``,
    ``"figures.__init__"``) -> file, for the package in ``code_dir/introdl``."""
    base = code_dir / PACKAGE
    return {str(p.relative_to(base).with_suffix("")).replace("/", "."): p
            for p in sorted(base.rglob("*.py")) if "__pycache__" not in p.parts}


def _with_parents(name: str, modules) -> set[str]:
    """``name`` and the ``__init__`` of every package on its way."""
    parts = name.split(".")
    found = {name} if name in modules else set()
    for i in range(len(parts)):
        init = ".".join(parts[:i] + ["__init__"])
        if init in modules:
            found.add(init)
    return found


def _resolve(dotted: str, names: list[str], modules) -> set[str]:
    """Modules used by ``from <dotted> import names`` (``import <dotted>`` when
    ``names`` is empty), ``dotted`` being absolute."""
    if dotted != PACKAGE and not dotted.startswith(PACKAGE + "."):
        return set()
    sub = dotted[len(PACKAGE) + 1:]
    deps = _with_parents(sub, modules) if sub else {"__init__"} & set(modules)
    if sub and sub + ".__init__" in modules:  # a subpackage
        deps.add(sub + ".__init__")
    for name in names:
        if name == "*":
            prefix = sub + "." if sub else ""
            deps |= {m for m in modules if m.startswith(prefix)}
        else:
            deps |= _with_parents(f"{sub}.{name}" if sub else name, modules)
    return deps


def _imports(tree: ast.AST, modules) -> set[str]:
    deps = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            deps |= _resolve(node.module, [a.name for a in node.names], modules)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                deps |= _resolve(alias.name, [], modules)
    return deps


def _parse_code(code: str) -> ast.AST:
    """Parse a notebook cell; IPython magics and shell lines are blanked."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line
             for line in code.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:  # a cell meant to fail still counts for its imports
        return ast.parse("\n".join(line for line in lines
                                   if line.lstrip().startswith(("from ", "import "))))


def direct_dependencies(text: str, modules: dict[str, Path]) -> set[str]:
    """Package modules that a chapter's code cells import or its text includes."""
    deps = set()
    for include in _INCLUDE.findall(text):
        deps |= _with_parents(include.replace("/", "."), modules)
    for _fence, body in _CODE_CELL.findall(text):
        body = _OPTIONS.sub("", body)
        deps |= _imports(_parse_code(body), modules)
    return deps


def module_dependencies(modules: dict[str, Path],
                        contents: dict[str, bytes] | None = None
                        ) -> dict[str, set[str]]:
    """Module -> the package modules its source imports (parsed with ``ast``).

    ``contents`` (module -> source bytes) saves reading the files again.
    """
    if contents is None:
        contents = {name: path.read_bytes() for name, path in modules.items()}
    return {name: _imports(ast.parse(contents[name]), modules) - {name}
            for name in modules}


#: The last package analysed: its digest (names and contents) and module graph.
#: A build fingerprints every chapter two or three times (reading it, its
#: notebook download, the outdated check); parsing the whole package each time
#: took about a second per chapter. Keyed on the contents, so never stale.
_GRAPH_CACHE: dict[bytes, dict[str, set[str]]] = {}


def _package_graph(modules: dict[str, Path],
                   contents: dict[str, bytes]) -> dict[str, set[str]]:
    digest = hashlib.sha256()
    for name in sorted(contents):
        digest.update(name.encode() + b"\0" + hashlib.sha256(contents[name]).digest())
    key = digest.digest()
    if key not in _GRAPH_CACHE:
        _GRAPH_CACHE.clear()
        _GRAPH_CACHE[key] = module_dependencies(modules, contents)
    return _GRAPH_CACHE[key]


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

    The hash covers module names and contents, never paths, so it is the same
    wherever the folder lives. The package is parsed once for all sources.
    """
    modules = package_modules(root / "code")
    contents = {name: path.read_bytes() for name, path in modules.items()}
    graph = _package_graph(modules, contents)
    pins = root / "requirements.txt"
    pins = pins.read_bytes() if pins.exists() else b""
    result = {}
    for key, source in sources.items():
        digest = hashlib.sha256(pins)
        for name in sorted(closure(direct_dependencies(source, modules), graph)):
            digest.update(name.encode() + b"\0" + contents[name])
        result[key] = digest.hexdigest()
    return result


# ---- the fingerprint in the cache key ---------------------------------------------

def is_notebook(text: str) -> bool:
    """A chapter: a MyST notebook, whose front matter names a kernel."""
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    return bool(match) and re.search(r"^kernelspec:", match.group(1), re.M) is not None


def mark_fingerprint(text: str, fingerprint: str) -> str:
    """``text`` with ``fingerprint`` in the metadata of its first code cell.

    The cell keeps its source; jupyter-cache hashes cell metadata with the
    code, so outputs cached under another fingerprint no longer match.
    """
    match = _CODE_CELL.search(text)
    if match is None:
        return text
    line = f"{FINGERPRINT_KEY}: {fingerprint}"
    at = match.start(2)
    if text.startswith("---\n", at):  # options as a YAML block
        return text[:at + 4] + line + "\n" + text[at + 4:]
    return text[:at] + ":" + line + "\n" + text[at:]  # options as ":key: value"


def _chapter_sources(app) -> dict[str, str]:
    sources = {}
    for docname in app.env.found_docs:
        path = Path(app.env.doc2path(docname))
        if path.suffix == ".md" and path.exists():
            text = path.read_text(encoding="utf-8")
            if is_notebook(text):
                sources[docname] = text
    return sources


def add_fingerprint(app, docname: str, source: list[str]) -> None:
    """``source-read``: put the chapter's fingerprint into its cache key."""
    if is_notebook(source[0]):
        fingerprint = fingerprints({docname: source[0]}, Path(app.confdir))[docname]
        source[0] = mark_fingerprint(source[0], fingerprint)


def outdated_chapters(app, env, added, changed, removed):
    """Tell Sphinx to re-read chapters whose dependencies changed."""
    current = fingerprints(_chapter_sources(app), Path(app.confdir))
    previous = getattr(env, "introdl_fingerprints", {})
    env.introdl_fingerprints = current
    return [d for d, fp in current.items()
            if d in previous and previous[d] != fp and d not in added | changed]


def executed_notebook(app, docname: str) -> str | None:
    """The chapter as a notebook with the outputs of its cached execution.

    myst-nb writes ``jupyter_execute/<doc>.ipynb`` too, but without outputs when
    they came from the cache, so the notebook is read again as myst-nb reads it
    (an internal of myst-nb: see CHECKED_VERSIONS) and merged with the cache.
    """
    import nbformat
    from jupyter_cache import get_cache
    from myst_nb.core.read import create_nb_reader

    path = app.env.doc2path(docname)
    text = [Path(path).read_text(encoding="utf-8")]
    add_fingerprint(app, docname, text)  # as the chapter was read
    config = app.env.mystnb_config
    reader = create_nb_reader(str(path), app.env.myst_config, config, text[0])
    if reader is None:
        return None
    try:
        cache = get_cache(str(config.execution_cache_path))
        _, nb = cache.merge_match_into_notebook(reader.read(text[0]))
    except KeyError:  # not executed (e.g. a page without code)
        return None
    nb.metadata.pop("source_map", None)
    return nbformat.writes(nb)


def offer_notebook(app, pagename, templatename, context, doctree):
    """Write ``_sources/<page>.ipynb``; the theme lists it in the download menu."""
    if doctree is None or "kernelspec" not in app.env.metadata.get(pagename, {}):
        return
    content = executed_notebook(app, pagename)
    if content is None:
        return
    target = Path(app.outdir, "_sources", pagename + ".ipynb")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content, encoding="utf-8")
    context["ipynb_source"] = pagename + ".ipynb"  # read by the theme at priority 501


class gallery_node(nodes.General, nodes.Element):
    """Placeholder for the figure gallery, filled in once every chapter is read."""


class FigureGallery(SphinxDirective):
    """``figure-gallery``: every numbered figure of the book, in reading order."""

    def run(self):
        # The same node for every builder (the HTML and the PDF builds share what
        # Sphinx read): the captions, with their math, are copied in after reading,
        # or LaTeX's list of figures put in (fill_gallery). An empty formula tells
        # Sphinx's math domain that this page has math to render.
        return [gallery_node("", nodes.math("", ""))]


def _figure_entries(app, fromdoc):
    """(figure number, chapter title, uri, figure node), in reading order.

    The figures are resolved as in their chapter, so their captions'
    cross-references are links; links within the chapter are rewritten to point
    into it from the gallery page. Only the figures are resolved, not the whole
    chapter: the chapter's doctree is read, everything but its numbered figures
    dropped, and Sphinx's post-transforms applied to what is left (resolving
    every chapter in full took about 5 s of the build's single-process part).
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
        doctree = env.get_doctree(docname)
        figures = [f for f in doctree.findall(nodes.figure)
                   if any(i in numbers for i in f["ids"])]
        doctree.children = []
        for figure in figures:
            figure.parent = None
            doctree += figure
        # read by forget_page: these are not pages to write
        app.introdl_resolving_gallery = True
        try:
            env.apply_post_transforms(doctree, docname)
        finally:
            app.introdl_resolving_gallery = False
        for figure in doctree.findall(nodes.figure):
            ids = [i for i in figure["ids"] if i in numbers]
            if ids:
                for ref in figure.findall(nodes.reference):
                    if "refid" in ref:
                        ref["refuri"] = page + "#" + ref["refid"]
                        del ref["refid"]
                    elif ref.get("refuri", "").startswith("#"):
                        ref["refuri"] = page + ref["refuri"]
                    elif _relative(ref.get("refuri", "")):  # another chapter
                        ref["refuri"] = posixpath.normpath(posixpath.join(
                            posixpath.dirname(page), ref["refuri"]))
                number = ".".join(map(str, numbers[ids[0]]))
                yield number, title, page + "#" + ids[0], figure


def _relative(uri: str) -> bool:
    """A link relative to the page it is on (not external, not absolute)."""
    return bool(uri) and "://" not in uri and not uri.startswith(("/", "mailto:"))


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
    for placeholder in list(doctree.findall(gallery_node)):
        if app.builder.format == "latex":
            # the PDF has the list of figures after its contents (_config.yml)
            placeholder.replace_self(nodes.paragraph(text=(
                "In this PDF the list of figures, with the page of each, is at the "
                "front of the book, after the contents.")))
            continue
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


def visit_citation(self, node):
    """A bibliography entry, as docutils writes it but with the roles of a plain
    list: the group is a ``list`` and each entry a ``listitem``. docutils gives the
    entries ``role="doc-biblioentry"``, which DPUB-ARIA 1.1 deprecates and which is
    not allowed on a ``div`` (accessibility checkers flag every entry), and its
    group's ``role="list"`` then has no list items."""
    if not isinstance(node.previous_sibling(), type(node)):
        self.body.append('<div class="citation-list" role="list">\n')
    self.body.append(self.starttag(node, "div", classes=[node.tagname],
                                   role="listitem"))


def depart_citation(self, node):
    self.body.append("</div>\n")
    if not isinstance(node.next_node(descend=False, siblings=True), type(node)):
        self.body.append("</div>\n")


def static_files_digest(confdir: str | Path, static_paths: list[str]) -> str:
    """One hash of every file under ``html_static_path``: names and contents."""
    digest = hashlib.sha256()
    for entry in static_paths:
        base = Path(confdir, entry)
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*")
                                                     if p.is_file())
        for path in files:
            digest.update(path.relative_to(confdir).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def note_static_files(app, config) -> None:
    """Sphinx copies the static files (the book's CSS and scripts) only when it
    writes a page, and it writes none when no page is out of date: an edit to
    ``introdl.css`` alone never reached the site. The hash of the static files is an
    HTML configuration value, which Sphinx compares with the last build's: a change
    to them writes every page again, with its new ``?v=`` checksums, and reads and
    executes nothing (:func:`keep_code_links` keeps the code's links)."""
    config.introdl_static_digest = static_files_digest(app.confdir,
                                                       config.html_static_path)


def _links_code(app) -> bool:
    """Whether sphinx-codeautolink works in this build (it does for these builders
    only; the environment, shared by the HTML and PDF builds, may still hold its
    notes from an HTML build)."""
    return getattr(getattr(app, "builder", None), "name", None) in ("html", "dirhtml")


def reread_pages_without_code_notes(app, env, added, changed, removed):
    """``env-get-outdated``: pages read after sphinx-codeautolink last wrote its
    cache file are read again in an HTML build.

    The HTML and PDF builds share what Sphinx read (``_build/doctrees``), so a PDF
    build after an edit reads the page for both; sphinx-codeautolink notes nothing
    in a PDF build, and its cache file keeps the notes of the page as it was. An
    HTML build that wrote the page from those notes would link the old code. (No
    cache file: every page is read, to take the notes.) Each page is read from the
    execution cache; nothing is executed for this."""
    from sphinx_codeautolink.extension.cache import DataCache

    if not _links_code(app):
        return []
    cache = Path(app.doctreedir, DataCache.cache_filename)
    written = cache.stat().st_mtime_ns // 1_000 if cache.exists() else -1
    # Sphinx notes when it read a page, in microseconds (BuildEnvironment.all_docs)
    return [doc for doc, read in env.all_docs.items()
            if read > written and doc not in added | changed | removed]


def _restore_code_notes(app, env) -> None:
    """Put back sphinx-codeautolink's notes of every page not read in this build
    whose source exists, whatever its suffix, from its cache file."""
    from sphinx_codeautolink.extension.block import CodeExample, Name, SourceTransform
    from sphinx_codeautolink.extension.cache import DataCache

    transforms = env.sphinx_codeautolink_transforms
    cache = Path(app.doctreedir, DataCache.cache_filename)
    if not cache.exists():
        return
    suffixes = list(app.config.source_suffix)
    for docname, saved in json.loads(cache.read_text("utf-8")).items():
        if docname in transforms or not any(
                Path(app.srcdir, docname + suffix).is_file() for suffix in suffixes):
            continue
        transforms[docname] = [
            SourceTransform(**{**t, "example": CodeExample(**t["example"]),
                               "names": [Name(**n) for n in t["names"]]})
            for t in saved]


def keep_code_links(app, env) -> None:
    """Keep sphinx-codeautolink's links on pages written but not read again.

    sphinx-codeautolink links the names of a page's code from what it noted while
    reading the page, and keeps those notes between builds in a cache file. When it
    loads that file it keeps a page's notes only if the page's source is an
    ``.rst`` file, so for this book's Markdown pages it keeps nothing. A build that
    writes pages it does not read (after a commit, every page: the edition in the
    footer is an HTML setting) wrote them with no links.

    This handler runs on ``env-updated`` before sphinx-codeautolink's own, which
    resolves the noted names (importing the package, about 4 s). When a page is to
    be written that was not read in this build (``Builder.get_outdated_docs``), it
    puts back the notes of the pages not read, to be resolved and linked. In other
    builds (a rebuild with nothing changed) :func:`keep_code_notes` puts them back
    after the resolving, only so that the cache file keeps them."""
    if not _links_code(app):
        return  # not an HTML build: sphinx-codeautolink does nothing
    if set(app.builder.get_outdated_docs()) - set(env.sphinx_codeautolink_transforms):
        _restore_code_notes(app, env)


def keep_code_notes(app, env) -> None:
    """``env-updated``, after sphinx-codeautolink: the notes of pages neither read
    nor written stay in its cache file (it writes the file from what it holds)."""
    if _links_code(app):
        _restore_code_notes(app, env)


#: Settings that sphinx-jupyterbook-latex changes for the LaTeX builder only.
_LATEX_WRITER_ONLY = ("numfig_secnum_depth",)


def note_shared_settings(app, config) -> None:
    """``config-inited``: the settings as both builds read the pages."""
    app.introdl_shared_settings = {name: config[name] for name in _LATEX_WRITER_ONLY}


def share_environment(app) -> None:
    """``builder-inited``, after sphinx-jupyterbook-latex: the PDF build reads the
    pages with the HTML build's settings, and its writer alone gets the LaTeX ones.

    The HTML and PDF builds share what Sphinx read (``_build/doctrees``), so a PDF
    build after the HTML build reads nothing. Sphinx reads every page again when a
    setting that pages are read with differs from the last build's, and
    sphinx-jupyterbook-latex sets one of them (``numfig_secnum_depth`` = 2, so
    that LaTeX numbers figures per chapter under its parts) when the LaTeX builder
    starts: each build would read every page the other had read. The setting is
    given back its value here and handed to the LaTeX writer when the book's
    doctree is resolved (``doctree-resolved``: the LaTeX builder emits no
    ``write-started``), after the reading and the numbering of figures and
    exercises, which the PDF then shares with the site."""
    if app.builder.format != "latex":
        return
    app.introdl_latex_settings = {name: app.config[name] for name in _LATEX_WRITER_ONLY}
    for name, value in app.introdl_shared_settings.items():
        app.config[name] = value


def hand_settings_to_writer(app, doctree, docname) -> None:
    """``doctree-resolved``: the LaTeX writer gets sphinx-jupyterbook-latex's
    settings (a LaTeX build resolves the whole book's doctree once, then writes)."""
    for name, value in getattr(app, "introdl_latex_settings", {}).items():
        app.config[name] = value


def forget_page(app, doctree, docname) -> None:
    """``doctree-resolved``, HTML builds: remove the page that is about to be
    written, and note it (see ``check_pages_written``).

    Sphinx resolves each page in its main process, then has it written, in
    parallel builds by a process of its own. Sphinx 7.4 drops the error of such a
    process when it notices it while still handing out pages
    (``sphinx.util.parallel.ParallelTasks.add_task``): the build ends with "build
    succeeded" and the pages of that process are not written, so their last
    version stays, stale. Removed first, they are missing instead, and the check
    at the end says so."""
    if (app.builder.format != "html" or not hasattr(app.builder, "get_outfilename")
            or getattr(app, "introdl_resolving_gallery", False)):
        return
    Path(app.builder.get_outfilename(docname)).unlink(missing_ok=True)
    if not hasattr(app, "introdl_pages_to_write"):
        app.introdl_pages_to_write = set()
    app.introdl_pages_to_write.add(docname)


def check_pages_written(app, exception) -> None:
    """``build-finished``: fail the build if a page it was to write is missing."""
    if exception is not None:
        return
    missing = sorted(d for d in getattr(app, "introdl_pages_to_write", ())
                     if not Path(app.builder.get_outfilename(d)).is_file())
    if missing:
        raise ExtensionError(
            f"{len(missing)} page(s) were not written although Sphinx reported no "
            f"error: {', '.join(missing)}. A process that writes pages failed and "
            "Sphinx dropped its error (a parallel build); build with BOOK_JOBS=1 "
            "to see it.")


#: What reading a page costs, in seconds, when nothing better is known: a chapter
#: (executed) and any other page.
CHAPTER_SECONDS, PAGE_SECONDS = 5.0, 0.5
#: Each chapter's execution time in the last ``make bench`` (which writes this file):
#: what a folder that never executed a chapter (a fresh clone) expects. It orders
#: the reading only; a stale or missing figure changes no output.
EXPECTED_SECONDS = Path(__file__).with_name("chapter-seconds.json")


def _expected_seconds() -> dict[str, float]:
    try:
        saved = json.loads(EXPECTED_SECONDS.read_text())
        return {docname: float(seconds) for docname, seconds in saved.items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _reading_seconds(app, docnames) -> dict[str, float]:
    """The time each page is expected to take to read: for a chapter, how long its
    last cached execution took (jupyter-cache keeps it), else how long it took in
    the last ``make bench`` (EXPECTED_SECONDS), else CHAPTER_SECONDS."""
    known = {}
    try:
        from jupyter_cache import get_cache

        for record in get_cache(str(app.env.mystnb_config.execution_cache_path)
                                ).list_cache_records():
            seconds = (record.data or {}).get("execution_seconds")
            if seconds is not None:
                known[str(record.uri)] = float(seconds)
    except Exception:  # no cache yet, or one it cannot read: the defaults serve
        known = {}
    chapters = _chapter_sources(app)
    expected = _expected_seconds()
    return {d: known.get(str(app.env.doc2path(d)), expected.get(d, CHAPTER_SECONDS))
            if d in chapters else PAGE_SECONDS for d in docnames}


def _makespan(chunks: list[list[str]], seconds: dict[str, float],
              workers: int) -> float:
    """When the last of ``chunks`` is read, if each goes, in order, to the first of
    ``workers`` processes to be free (as Sphinx hands them out)."""
    free = [0.0] * workers
    for chunk in chunks:
        start = min(free)
        free[free.index(start)] = start + sum(seconds[d] for d in chunk)
    return max(free)


def balance_reading(app, env, docnames: list[str]) -> None:
    """``env-before-read-docs``: order the pages so that the processes of a parallel
    read finish together.

    Sphinx cuts the (alphabetical) list of pages into chunks of equal length and
    hands them to its processes in order, the next to the first that is free. The
    book's chapters take 2 to 12 s each and the other pages almost nothing, so in
    alphabetical order one process read its chunks for 15 s while the other had
    nothing left. Here the pages go into chunks of the lengths Sphinx will cut
    (``sphinx.util.parallel.make_chunks``), first the longest into the chunk that
    would finish first, then pairs are swapped between chunks while that brings the
    last finish earlier. The order does not change what is read, only when."""
    workers = app.parallel
    if workers <= 1 or len(docnames) <= 5:  # Sphinx reads these one by one
        return
    from sphinx.util.parallel import make_chunks

    sizes = [len(c) for c in make_chunks(list(docnames), workers)]
    seconds = _reading_seconds(app, docnames)
    chunks: list[list[str]] = [[] for _ in sizes]
    for doc in sorted(docnames, key=lambda d: (-seconds[d], d)):
        open_chunks = [i for i, c in enumerate(chunks) if len(c) < sizes[i]]
        best = min(open_chunks, key=lambda i: (_makespan(
            [c + [doc] if j == i else c for j, c in enumerate(chunks)], seconds,
            workers), i))
        chunks[best].append(doc)
    best_span = _makespan(chunks, seconds, workers)
    improved = True
    while improved:
        improved = False
        for a in range(len(chunks)):
            for b in range(a + 1, len(chunks)):
                for i in range(len(chunks[a])):
                    for j in range(len(chunks[b])):
                        chunks[a][i], chunks[b][j] = chunks[b][j], chunks[a][i]
                        span = _makespan(chunks, seconds, workers)
                        if span < best_span - 1e-9:
                            best_span, improved = span, True
                        else:
                            chunks[a][i], chunks[b][j] = chunks[b][j], chunks[a][i]
    docnames[:] = [doc for chunk in chunks for doc in chunk]


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
    by one instead of in parallel. (Sphinx reads the flags from its extension
    registry; the versions are checked in CHECKED_VERSIONS.)"""
    for name in _PARALLEL_SAFE:
        extension = app.extensions.get(name)
        if extension is not None:
            extension.parallel_read_safe = True
            extension.parallel_write_safe = True


def setup(app):
    check_versions()
    _declare_parallel_safe(app)
    app.add_node(nodes.citation, override=True, html=(visit_citation, depart_citation))
    app.add_node(gallery_node)
    app.add_directive("figure-gallery", FigureGallery)
    app.connect("doctree-resolved", fill_gallery)
    app.add_config_value("introdl_static_digest", "", "html", types=[str])
    app.connect("config-inited", note_static_files)
    app.connect("env-updated", keep_code_links, priority=400)
    app.connect("env-updated", keep_code_notes, priority=600)
    app.connect("source-read", add_fingerprint)
    app.connect("env-get-outdated", outdated_chapters)
    app.connect("env-get-outdated", reread_pages_without_code_notes)
    app.connect("config-inited", note_shared_settings, priority=900)
    app.connect("builder-inited", share_environment, priority=900)
    app.connect("doctree-resolved", hand_settings_to_writer)
    app.connect("html-page-context", offer_notebook, priority=500)
    app.connect("env-before-read-docs", balance_reading)
    app.connect("doctree-resolved", forget_page)
    app.connect("build-finished", check_pages_written)
    # env_version 3: pages written by an older build may have lost their code links
    # (see keep_code_links); 4: the bibliography's roles (visit_citation). A new
    # version reads every page once more
    return {"version": "2.0", "parallel_read_safe": True,
            "parallel_write_safe": True, "env_version": 4}
