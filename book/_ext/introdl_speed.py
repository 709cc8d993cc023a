"""Pages that load at once, on a phone too (issue 18).

Sphinx extension of the book, separate from ``introdl_book`` (which handles the
execution cache and the notebooks). It makes pages light, and the PDF build quick:

* **Math rendered when the book is built.** With Node.js on the ``PATH`` and the
  pinned ``katex`` npm package in ``node_modules/`` (``make book`` runs ``npm ci``),
  it loads ``sphinxcontrib.katex`` with ``katex_prerender``: every formula becomes
  HTML for the eye and MathML for screen readers (KaTeX's ``htmlAndMathml`` output)
  while the book is built, and a page loads KaTeX's CSS and fonts, served by the
  site from ``_static/katex/``, and no script. A formula KaTeX cannot render is a
  build warning (so an error under ``-W``).
  Without Node or the package it loads ``sphinx-mathjax-offline`` instead: MathJax,
  served by the site itself, typesets the math in the reader's browser, and the
  build says once how to get the fast route. The choice is made here, in
  ``setup()``, so it is the same for ``jupyter-book build`` and for ``sphinx-build``
  with a generated ``conf.py``.
* **No icon script, and a small icon font.** The theme's ``fontawesome.js`` (1.5 MB)
  turns icon tags into SVG at run time; the theme's CSS draws the same icons with the
  Font Awesome webfont, so pages do not load the script. That font is 156 KB for
  about twenty icons: once the pages are written, the font is cut down to the icons
  they use (``introdl-icons.woff``, a few KB, made with fontTools) and declared for
  exactly those characters (``introdl-icons.css``). A character outside that set still
  shows, from the theme's full font.
* **Figures load when the reader comes near them** (``loading="lazy"``).
* **Code with fewer elements.** Pygments wraps every token of a code block in a
  ``<span>``; names and punctuation, most of a Python line, look exactly like plain
  text in the theme's light and dark styles. When the page has loaded, the theme's
  script measures every code block (to make the wide ones keyboard-scrollable),
  which makes the browser style and lay out all of the page's code at once: the
  longest task of a chapter page on a phone. Once sphinx-codeautolink has added its
  links (it finds names by their spans), the spans that change nothing are
  dropped, which halves that task.
* **Code links for less.** sphinx-codeautolink is handed a page's code blocks,
  not the whole page (``code_blocks_only``).
* **No search index on pages that do not search.** With ``search_as_you_type`` off
  (the theme's default) the search box sends the reader to ``search.html``, which
  loads ``searchindex.js`` itself; other pages do not load the index and its tools.
* **The PDF's figures are converted once.** Chapters draw each figure once, as SVG.
  For the LaTeX builder, ``sphinxcontrib-svg2pdfconverter`` turns each into PDF,
  with libRSVG's ``rsvg-convert`` where installed (seven times quicker), else with
  CairoSVG; the subclass here skips a figure whose PDF is already there and newer
  than its SVG (the library converts every figure on every build), and converts the
  others two at a time (``-j 2``).
* **Two LaTeX passes, not four**, for the first PDF of a folder: see
  ``index_from_the_first_pass`` and ``book/_ext/introdl.latexmkrc``.
* **Citations resolved without a search of every installed package.** pybtex finds
  a plugin by reading the entry points of every installed distribution (about 20 ms
  with this environment's 370), and sphinxcontrib-bibtex asks it for the plain-text
  backend once per citation it resolves: about 5 s of every build that writes the
  pages. The backend is registered once with pybtex's ``register_plugin``, which
  pybtex looks in first; it is the very class the entry point names.
* **Numbered references without reading a chapter again for each.** Sphinx
  resolves ``{numref}`` by loading the target's whole page from disk, once per
  reference (122 in the book), in the one process that resolves every page; the
  garbage those copies leave then costs as much again in Python's collector
  (``NumrefsFromKeptTargets``).
* **Two processes write pages, not one.** With ``-j N`` Sphinx reads with ``N``
  processes but writes with ``N - 1``, as its main process resolves each page before
  handing it on; here resolving is the small part, and one writer on two cores left
  one idle for half of the writing (``more_writers``).
* **No collection of the build's objects at exit.** Python's last garbage collection
  visited the million objects of Sphinx's environment for about 4 s after the build
  had finished (``skip_final_collection``).

Pages lose the two scripts through a Jinja filter, ``introdl_light_head``, that
``book/_templates/layout.html`` applies to the theme's own ``<head>`` blocks.
"""

from __future__ import annotations

import hashlib
import multiprocessing.util
import re
import shutil
import socket
import subprocess
import tempfile
import time
from importlib import metadata
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.console import bold
from sphinx.util.fileutil import copy_asset
from sphinxcontrib.cairosvgconverter.cairosvgconverter import CairoSVGConverter

logger = logging.getLogger(__name__)

#: The versions whose internals this extension uses, and what it uses of each.
#: An upgrade must be checked by hand against these uses, then the pins changed.
CHECKED_VERSIONS = {
    # KaTeXServer.katex_server: the render server that KaTeXServer.get() returns,
    # one per process, set here to a _LazyKaTeXServer; KaTeXServer(rundir, process,
    # sock), its render() and terminate(), KaTeXServer.build_command(socket=) and
    # KaTeXServer.timeout_error(timeout): see _start_server_process
    "sphinxcontrib-katex": "0.9.11",
    # the blocks css and extrahead of layout.html, the script names, the icon font
    # and its CSS rules (.fa-bars:before{content:"\f0c9"}, --pst-icon-* variables)
    "pydata-sphinx-theme": "0.17.1",
    # CairoSVGConverter.convert(_from, _to), subclassed by CachedSVGToPDF, and
    # RSVGConverter.convert(_from, _to), which reads self.config.rsvg_converter_*
    "sphinxcontrib-svg2pdfconverter": "2.1.0",
    # adds its links to context["body"] in html-page-context at the default
    # priority, matching Pygments' token spans: plain_code_tokens runs after it;
    # it finds the code blocks by their classes, in order, and keeps the comments
    # between them (code_blocks_only)
    "sphinx-codeautolink": "0.20.0",
    # StandardDomain.resolve_xref(env, ...) for a numref asks env.get_doctree() for
    # the target's page and reads only the target node from it (NumrefsFromKeptTargets);
    # Sphinx.parallel, read by Builder.write (more_writers)
    "sphinx": "7.4.7",
}

#: Where ``npm ci`` puts KaTeX, relative to the book's root (the folder of _config.yml).
KATEX_DIST = Path("node_modules", "katex", "dist")
#: How long a KaTeX render server may take to start (a busy machine is slow).
KATEX_STARTUP_S = 30.0
#: Where the site serves KaTeX's CSS and fonts, under ``_static``.
KATEX_STATIC = "katex"
#: Scripts a page does not need: the icon script, and (except on search.html,
#: whose own template loads them) the search index and the code that reads it.
HEAVY_SCRIPTS = ("fontawesome.js", "searchtools.js", "language_data.js",
                 "searchindex.js")
_SCRIPT_TAG = re.compile(
    r'[ \t]*<script\b[^>]*\ssrc="(?:[^"]*/)?(?:%s)(?:\?[^"]*)?"[^>]*>\s*</script>\n?'
    % "|".join(re.escape(s) for s in HEAVY_SCRIPTS))

FAST_ROUTE_HINT = (
    "introdl_speed: math is typeset in the reader's browser (MathJax, served by the "
    "site). For pages that load at once on a phone, install Node.js and npm "
    "(Debian: apt-get install nodejs npm) and run `make book` again: it installs the "
    "pinned KaTeX with `npm ci`, and the math is then rendered when the book is built.")


def katex_available(root: Path) -> bool:
    """Can this build render math with KaTeX (Node.js, and ``npm ci`` done)?"""
    return (shutil.which("node") is not None
            and (root / KATEX_DIST / "katex.min.js").is_file()
            and (root / KATEX_DIST / "katex.min.css").is_file())


def light_head(html: str) -> str:
    """``html`` without the ``<script>`` tags of :data:`HEAVY_SCRIPTS`."""
    from markupsafe import Markup

    return Markup(_SCRIPT_TAG.sub("", str(html)))


def add_template_filter(app) -> None:
    templates = getattr(app.builder, "templates", None)
    if templates is not None and hasattr(templates, "environment"):
        templates.environment.filters["introdl_light_head"] = light_head


# -- KaTeX: the fast route ------------------------------------------------------


def use_katex(app, root: Path) -> None:
    app.setup_extension("sphinxcontrib.katex")
    app.config.html_math_renderer = "katex"
    app.config.katex_prerender = True
    # the renderer runs the pinned KaTeX from node_modules, not the copy bundled
    # with sphinxcontrib-katex; pages get the CSS of the same version
    app.config.katex_js_path = str(root / KATEX_DIST / "katex.min.js")
    app.config.katex_css_path = f"{KATEX_STATIC}/katex.min.css"
    multiprocessing.util.register_after_fork(_KaTeXServerPerProcess,
                                             _KaTeXServerPerProcess.after_fork)
    app.connect("builder-inited", _KaTeXServerPerProcess.install)
    app.connect("build-finished", _KaTeXServerPerProcess.uninstall)
    app.connect("build-finished", copy_katex_assets)
    # before code_blocks_only (499), which leaves only the code in the body
    app.connect("html-page-context", report_katex_errors, priority=450)


class _LazyKaTeXServer:
    """A KaTeX render server started on the first formula, with
    :func:`_start_server_process` (which waits until the server listens)."""

    def __init__(self):
        self.server = None

    def render(self, request, timeout=None):
        if self.server is None:
            from sphinxcontrib.katex import KaTeXServer

            rundir = Path(tempfile.mkdtemp(prefix="introdl_katex"))
            process, sock = _start_server_process(KaTeXServer, rundir,
                                                  KATEX_STARTUP_S)
            self.server = KaTeXServer(rundir, process, sock)
        return self.server.render(request, timeout)

    def terminate(self):
        server, self.server = self.server, None
        if server is not None:
            server.terminate()


class _KaTeXServerPerProcess:
    """Each process that writes pages talks to a KaTeX server of its own.

    ``sphinxcontrib.katex`` keeps one render server (a Node process and a socket) per
    Python process, in ``KaTeXServer.katex_server``, and starts it on the first
    formula. Two things go wrong with its own start in a parallel build. When Sphinx
    writes pages in parallel it forks after writing the first page, so every child
    would share the parent's socket and read each other's answers. And the library
    connects as soon as the socket file exists, before the server listens: on a busy
    machine the connection was refused and the build stopped. So each process gets a
    :class:`_LazyKaTeXServer` of its own in that slot (the library's ``get()``
    returns it), and stops it at the end (the children of ``multiprocessing`` skip
    ``atexit``).
    """

    @staticmethod
    def install(_app=None) -> None:
        from sphinxcontrib.katex import KaTeXServer

        KaTeXServer.katex_server = _LazyKaTeXServer()

    @staticmethod
    def uninstall(_app=None, _exception=None) -> None:
        from sphinxcontrib.katex import KaTeXServer

        server, KaTeXServer.katex_server = KaTeXServer.katex_server, None
        if server is not None:
            server.terminate()

    @staticmethod
    def after_fork(_cls) -> None:
        _KaTeXServerPerProcess.install()
        multiprocessing.util.Finalize(None, _KaTeXServerPerProcess.uninstall,
                                      exitpriority=10)


def _start_server_process(cls, rundir: Path, timeout: float):
    """Start a KaTeX render server on a Unix socket in ``rundir`` and connect to it.

    Node creates the socket file when it binds the socket, and accepts connections
    only once it listens, a moment later: a connection in between is refused. So
    this tries again until ``timeout`` (``sphinxcontrib.katex``'s own start gives up
    at once), and stops the server it started if it gives up. ``cls`` provides
    ``build_command(socket=)`` and ``timeout_error(timeout)``.
    """
    socket_path = Path(rundir) / "katex.sock"
    process = subprocess.Popen(cls.build_command(socket=socket_path),
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               cwd=rundir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if socket_path.is_socket():
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                sock.connect(str(socket_path))
                sock.settimeout(None)
                return process, sock
            except ConnectionRefusedError:  # bound, not listening yet
                sock.close()
            except OSError:
                sock.close()
                break
        time.sleep(0.005)
    process.kill()
    process.communicate()  # reaps it and closes its pipes
    raise cls.timeout_error(timeout)


def copy_katex_assets(app, exception) -> None:
    """KaTeX's CSS and fonts into ``_static/katex/``: the site serves them itself."""
    if exception is not None or app.builder.format != "html":
        return
    dist = Path(app.confdir) / KATEX_DIST
    target = Path(app.outdir, "_static", KATEX_STATIC)
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(dist / "katex.min.css", target / "katex.min.css")
    copy_asset(str(dist / "fonts"), str(target / "fonts"))


_KATEX_ERROR = re.compile(r'<span class="katex-error" title="([^"]*)"')


def report_katex_errors(app, pagename, templatename, context, doctree) -> None:
    """KaTeX shows a formula it cannot render in red, as TeX: make that a warning."""
    for message in _KATEX_ERROR.findall(context.get("body", "")):
        logger.warning("KaTeX cannot render a formula: %s", message,
                       location=pagename, type="introdl", subtype="katex")


# -- Icons: the theme's icon font, cut down to the icons of the pages ------------------

#: The theme's solid icon font, as it copies it under ``_static``.
ICON_FONT = Path("vendor", "fontawesome", "webfonts", "fa-solid-900.ttf")
ICON_FAMILY = "Font Awesome 6 Free"
ICON_SUBSET, ICON_CSS = "introdl-icons.woff", "introdl-icons.css"
_RULE = re.compile(r"([^{}]*)\{([^{}]*)\}")
_ICON_RULE = re.compile(r"\s*\.fa-([\w-]+)::?before\s*")
_CSS_STRING = re.compile(r'(?:content|--pst-[\w-]+)\s*:\s*"((?:[^"\\]|\\.)*)"')
_ICON_CLASS = re.compile(r"\bfa-([\w-]+)")


def _css_text(value: str) -> str:
    """A CSS string's characters, escapes such as ``\\f0c9`` decoded."""
    return re.sub(r"\\([0-9a-fA-F]{1,6}) ?", lambda m: chr(int(m.group(1), 16)), value)


def icon_characters(static: Path, used: set[str]) -> set[str]:
    """Characters of the icon font that the site can show: those of the icon classes
    in ``used`` (``bars`` for ``fa-bars``), and those the theme's CSS puts in
    content itself (admonition titles, breadcrumbs, external links...)."""
    by_name, direct = {}, set()
    for css in sorted([*static.glob("*.css"), *static.glob("styles/*.css")]):
        for selectors, body in _RULE.findall(css.read_text(encoding="utf-8")):
            text = "".join(_css_text(v) for v in _CSS_STRING.findall(body))
            names = [_ICON_RULE.fullmatch(sel) for sel in selectors.split(",")]
            if all(names):  # an icon's own rule: .fa-bars:before{content:"\f0c9"}
                for name in names:
                    by_name[name.group(1)] = text
            else:  # icons sit in the Private Use Area; other content is text
                direct.update(c for c in text if "\ue000" <= c <= "\uf8ff")
    return direct | {c for name in used for c in by_name.get(name, "")}


def used_icon_names(outdir: Path) -> set[str]:
    """``fa-*`` names in the site's pages and in the theme's scripts (which add
    icons such as ``fa-xmark`` at run time)."""
    names = set()
    files = [*outdir.glob("**/*.html"), *outdir.glob("_static/**/*.js")]
    for path in files:
        if path.name == "fontawesome.js":  # the icon script itself, not loaded
            continue
        if path.suffix == ".js" or "_static" not in path.parts:
            names.update(_ICON_CLASS.findall(path.read_text(encoding="utf-8")))
    return names


def write_icon_font(app, exception) -> None:
    """``_static/introdl-icons.woff``, and the CSS that declares it for its icons."""
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir, "_static")
    wanted = icon_characters(static, used_icon_names(Path(app.outdir)))
    # The font is cut again only when the theme's font or the icons the site uses
    # changed: a rebuild that writes nothing should not pay for fontTools (about
    # 2 s with its import). The key of the cut is written into the CSS it makes.
    key = hashlib.sha256((static / ICON_FONT).read_bytes()
                         + "".join(sorted(wanted)).encode()).hexdigest()[:16]
    css = static / ICON_CSS
    if ((static / ICON_SUBSET).exists() and css.exists()
            and f"key {key} " in css.read_text(encoding="utf-8")):
        return
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"  # zlib: fontTools writes woff2 only with brotli installed
    font = subset.load_font(str(static / ICON_FONT), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes={ord(c) for c in wanted})
    subsetter.subset(font)
    subset.save_font(font, str(static / ICON_SUBSET), options)
    kept = sorted(font.getBestCmap())
    font.close()  # fontTools keeps the source file open until then
    ranges = ", ".join(f"U+{c:X}" for c in kept)
    css.write_text(
        f"/* {len(kept)} icons of Font Awesome Free (icons CC BY 4.0, font SIL OFL 1.1,"
        " Fonticons, Inc.), the ones this site uses, cut out of the theme's font by"
        f" book/_ext/introdl_speed.py; key {key} */\n"
        f'@font-face {{ font-family: "{ICON_FAMILY}"; font-style: normal; '
        f"font-weight: 900; font-display: block; "
        f'src: url("{ICON_SUBSET}") format("woff"); unicode-range: {ranges}; }}\n',
        encoding="utf-8")


# -- Figures: loaded when the reader comes near them --------------------------------

_IMG = re.compile(r"<img(?![^>]*\sloading=)")


def lazy_images(app, pagename, templatename, context, doctree) -> None:
    """The page's images load when the reader scrolls near them, and are decoded off
    the main thread: a chapter's first screen no longer waits for all its figures."""
    if "body" in context:
        context["body"] = _IMG.sub('<img loading="lazy" decoding="async"',
                                   context["body"])


# -- Code: no element for a token that looks like plain text ------------------------

_CODE_BLOCK = re.compile(r'(<div class="highlight"><pre>)(.*?)(</pre>)', re.S)


def plain_token_classes(styles) -> set[str]:
    """Pygments' CSS classes whose tokens look like plain text in every one of the
    Pygments ``styles`` (same colour, weight, slant, underline, background)."""
    from pygments.token import STANDARD_TYPES, Token

    return {cls for ttype, cls in STANDARD_TYPES.items()
            if cls and all(style.style_for_token(ttype)
                           == style.style_for_token(Token.Text) for style in styles)}


def note_plain_tokens(app) -> None:
    """``builder-inited``: the classes to drop, for the theme's light and dark
    code styles (its options ``pygments_light_style``, ``pygments_dark_style``)."""
    from pygments.styles import get_style_by_name

    app.introdl_plain_tokens = set()
    if app.builder.format != "html":
        return
    options = app.builder.theme.get_options(app.config.html_theme_options)
    names = [options.get(f"pygments_{mode}_style") for mode in ("light", "dark")]
    if all(names):
        styles = [get_style_by_name(name) for name in names]
        app.introdl_plain_tokens = plain_token_classes(styles)


def without_spans(html: str, classes: set[str]) -> str:
    """``html`` with the token spans of ``classes`` in its code blocks replaced by
    their text (Pygments' spans hold text only, never other tags)."""
    if not classes:
        return html
    span = re.compile(r'<span class="(?:%s)">([^<]*)</span>'
                      % "|".join(map(re.escape, sorted(classes))))
    return _CODE_BLOCK.sub(lambda m: m[1] + span.sub(r"\1", m[2]) + m[3], html)


#: A code block as Sphinx writes it: the outer ``div`` names the language
#: (``highlight-<lexer>``), the inner one holds Pygments' ``<pre>``.
_HIGHLIGHTED_BLOCK = re.compile(
    r'<div class="[^"]*\bhighlight-[^"]*"[^>]*><div class="highlight"><pre>.*?</pre>'
    r'</div>\s*</div>', re.S)
#: Between the code blocks while sphinx-codeautolink sees them alone.
_BLOCK_SEPARATOR = "\n<!--introdl-code-block-->\n"


def code_blocks_only(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context``, just before sphinx-codeautolink (499): the page body
    becomes its code blocks alone, one after another; ``whole_page_again`` (501)
    puts them back in their places.

    sphinx-codeautolink parses the body it is given with BeautifulSoup, looks for
    the code blocks in it, links names inside them and serialises the whole body
    again: for the book's pages, most of whose markup is math, that was about 9 s
    of CPU in every cold build (2.7 s for the API page alone, which Sphinx writes
    before it starts writing in parallel), and it changes nothing outside the code
    blocks. Given the blocks alone, in the same order, it links the same names
    (the blocks it returns were checked identical, page by page)."""
    body = context.get("body")
    if not body:
        return
    blocks = list(_HIGHLIGHTED_BLOCK.finditer(body))
    if blocks:
        context["introdl_whole_body"] = (body, [(m.start(), m.end()) for m in blocks])
        context["body"] = _BLOCK_SEPARATOR.join(m.group(0) for m in blocks)


def whole_page_again(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context`` (501): each code block, as sphinx-codeautolink left it,
    back in its place in the body (see ``code_blocks_only``)."""
    kept = context.pop("introdl_whole_body", None)
    if kept is None:
        return
    body, spans = kept
    blocks = context["body"].split(_BLOCK_SEPARATOR)
    if len(blocks) != len(spans):
        raise ExtensionError(
            f"{pagename}: {len(spans)} code blocks went to sphinx-codeautolink and "
            f"{len(blocks)} came back (book/_ext/introdl_speed.py, code_blocks_only)")
    pieces, last = [], 0
    for (start, end), block in zip(spans, blocks):
        pieces += [body[last:start], block]
        last = end
    pieces.append(body[last:])
    context["body"] = "".join(pieces)


def plain_code_tokens(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context``, after sphinx-codeautolink has linked the names."""
    if "body" in context:
        context["body"] = without_spans(context["body"],
                                        getattr(app, "introdl_plain_tokens", set()))


# -- MathJax: the fallback --------------------------------------------------------


def use_mathjax(app) -> None:
    app.setup_extension("sphinx-mathjax-offline")
    # it sets mathjax_path and copies MathJax once the build has finished
    extension = app.extensions["sphinx-mathjax-offline"]
    extension.parallel_read_safe = extension.parallel_write_safe = True
    logger.info(bold(FAST_ROUTE_HINT))


def check_versions(installed=metadata.version) -> None:
    wrong = [f"{name} {installed(name)} (checked with {expected})"
             for name, expected in CHECKED_VERSIONS.items()
             if installed(name) != expected]
    if wrong:
        raise ExtensionError(
            "introdl_speed relies on internals of these packages and was checked with "
            "other versions: " + "; ".join(wrong) + ". Check book/_ext/introdl_speed.py"
            " against them, then update CHECKED_VERSIONS.")


class CachedSVGToPDF(CairoSVGConverter):
    """The library's converter, skipping figures converted by an earlier build, and
    converting the others in parallel when the build runs with ``-j N``.

    With ``rsvg-convert`` on the ``PATH`` (Debian's ``librsvg2-bin``) a figure is
    converted by the library's libRSVG route (``RSVGConverter.convert``), else by
    CairoSVG, in Python: about 0.03 s against 0.2 s a figure, 2 s against 15 s of
    CPU for the book's figures. Both draw the same vector figure (the figures'
    text is drawn as paths, so no font is looked up).

    Sphinx converts a figure when it meets it in the book's doctree and needs only
    the name of the PDF until the LaTeX files are written; so each conversion is
    handed to a pool of N processes, and ``wait_for_figures`` (at
    ``doctree-resolved``, before anything is written) waits for all of them."""

    def convert(self, _from: str, _to: str) -> bool:
        target = Path(_to)
        if target.exists() and target.stat().st_mtime >= Path(_from).stat().st_mtime:
            return True
        convert = _convert_with_rsvg if shutil.which(RSVG_CONVERT) else _convert_svg
        if self.app.parallel <= 1 or not _can_fork():
            return convert(_from, _to)
        _CONVERSIONS.append(_pool(self.app.parallel).submit(convert, _from, _to))
        return True


#: libRSVG's command line converter (Debian: librsvg2-bin).
RSVG_CONVERT = "rsvg-convert"


def _convert_with_rsvg(_from: str, _to: str) -> bool:
    """The library's libRSVG conversion, with its default settings (its ``convert``
    reads only these three of its instance's configuration)."""
    from types import SimpleNamespace

    from sphinxcontrib.rsvgconverter.rsvgconverter import RSVGConverter

    settings = SimpleNamespace(rsvg_converter_bin=RSVG_CONVERT, rsvg_converter_args=[],
                               rsvg_converter_format="pdf")
    return RSVGConverter.convert(SimpleNamespace(config=settings), _from, _to)


#: The conversions under way, and the pool that runs them (one per process).
_CONVERSIONS: list = []
_POOL: list = []


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _pool(workers: int):
    if not _POOL:
        import concurrent.futures
        import multiprocessing

        _POOL.append(concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("fork")))
    return _POOL[0]


def _convert_svg(_from: str, _to: str) -> bool:
    """The library's conversion (its ``convert`` does not use its instance)."""
    return CairoSVGConverter.convert(None, _from, _to)


def wait_for_figures(app, doctree, docname) -> None:
    """``doctree-resolved``: every figure handed to the pool is converted (an
    error of a conversion is raised here), and the pool is closed."""
    pending, _CONVERSIONS[:] = list(_CONVERSIONS), []
    try:
        for conversion in pending:
            conversion.result()
    finally:
        if _POOL:
            _POOL.pop().shutdown()


#: What xindy writes for an index, with no entries: Sphinx's index environment.
EMPTY_INDEX = "\\begin{sphinxtheindex}\n\\end{sphinxtheindex}\n"


def index_from_the_first_pass(app, exception) -> None:
    """``build-finished``, LaTeX builder: an empty index for the first LaTeX pass
    of a folder that has none yet.

    The index is made from what the first pass records, so that pass has none,
    and its table of contents no line for it. The second pass has both, and its
    table of contents grows by that line: here onto a new page, which moves the
    page of every label, so that a fourth pass was needed. With an empty index
    (the environment the index is made of, which puts the line into the table of
    contents) the first pass already lists it, and three passes suffice (two with
    ``book/_ext/introdl.latexmkrc``). latexmk replaces it after the first pass, as
    it would have made it."""
    if exception is not None or app.builder.name != "latex":
        return
    for document in app.config.latex_documents:
        index = Path(app.outdir, document[1]).with_suffix(".ind")
        if not index.exists():
            index.write_text(EMPTY_INDEX, encoding="utf-8")


#: pybtex plugins that sphinxcontrib-bibtex looks up once per citation.
BIBTEX_PLUGINS = (("pybtex.backends", "plaintext"),)


def register_bibtex_plugins() -> None:
    """Look each of BIBTEX_PLUGINS up once, in the installed entry points, and
    register the class found, so that later lookups need no search."""
    from pybtex.plugin import find_plugin, register_plugin

    for group, name in BIBTEX_PLUGINS:
        register_plugin(group, name, find_plugin(group, name), force=True)


# ---- numbered references ------------------------------------------------------------

class _KeptTargets:
    """What Sphinx's numref resolver reads of a page: ``.ids``, the targets by id."""

    def __init__(self, ids: dict):
        self.ids = ids


class _EnvWithKeptTargets:
    """The build environment as a numref resolver sees it, except that
    ``get_doctree`` returns the kept targets of a page (``_kept_targets``) instead of
    loading the whole page again."""

    def __init__(self, env, targets):
        self._env = env
        self._targets = targets

    def __getattr__(self, name):
        return getattr(self._env, name)

    def get_doctree(self, docname: str) -> _KeptTargets:
        return self._targets(docname)


def _target_stand_in(node):
    """A node that numbering tells apart from ``node`` in nothing: the same class
    and attributes (the ids that key its number); a container keeps its children,
    as Sphinx recognises a numbered code block by its ``literal_block`` child."""
    from docutils import nodes

    return node.deepcopy() if isinstance(node, nodes.container) else node.copy()


class NumrefsFromKeptTargets(SphinxPostTransform):
    """Resolve ``{numref}`` references with Sphinx's own resolver
    (``StandardDomain.resolve_xref``), given an environment whose ``get_doctree``
    returns the targets of a page, each page loaded once per process (and the page
    being resolved not at all), instead of the whole page loaded again for every
    reference. The resolver reads nothing of that page but the target node, for its
    type and its ids (the keys of the numbers Sphinx assigned). A reference it
    cannot resolve is left to Sphinx's ``ReferencesResolver``, which runs next and
    reports it as ever."""

    default_priority = 9  # ReferencesResolver is 10

    def run(self, **kwargs) -> None:
        from sphinx import addnodes

        domain = self.env.get_domain("std")
        env = _EnvWithKeptTargets(self.env, self._kept_targets)
        for node in list(self.document.findall(addnodes.pending_xref)):
            if node.get("refdomain") != "std" or node.get("reftype") != "numref":
                continue
            refdoc = node.setdefault("refdoc", self.env.docname)
            new = domain.resolve_xref(env, refdoc, self.app.builder, "numref",
                                      node["reftarget"], node, node[0].deepcopy())
            if new is not None:
                node.replace_self(new)

    def _kept_targets(self, docname: str) -> _KeptTargets:
        domain = self.env.get_domain("std")
        wanted = {labelid for doc, labelid, *_ in
                  [*domain.labels.values(), *domain.anonlabels.values()]
                  if doc == docname}
        if docname == self.env.docname and wanted <= self.document.ids.keys():
            return _KeptTargets(self.document.ids)  # the page being resolved
        kept = self.app.__dict__.setdefault("introdl_numref_targets", {})
        if docname not in kept:
            ids = self.env.get_doctree(docname).ids
            kept[docname] = _KeptTargets(
                {i: _target_stand_in(ids[i]) for i in wanted if i in ids})
        return kept[docname]


def more_writers(app, builder) -> None:
    """``write-started``: write with as many processes as ``-j`` says. Sphinx
    writes with ``-j`` minus one (``Builder.write`` reads ``app.parallel``), keeping
    a core for its main process, which resolves each page before a writer gets it.
    In this book a writer's work per page (HTML, templates, code links) is several
    times the resolving, so with ``-j 2`` one core sat idle for half the writing."""
    if app.parallel > 1 and builder.format == "html" and \
            not app.__dict__.get("introdl_more_writers"):
        app.introdl_more_writers = True
        app.parallel += 1


_FINAL_COLLECTION_SKIPPED = []


def skip_final_collection() -> None:
    """When the process exits (``atexit``, which Python runs before its last
    collection), move every object into Python's permanent generation
    (``gc.freeze``), which that collection does not visit. It visited the million
    objects a build leaves, for about 4 s after Sphinx had finished, to free
    nothing that exiting does not free anyway. Only the exit is affected: a process
    that builds the book several times (the tests) collects as ever in between."""
    if not _FINAL_COLLECTION_SKIPPED:
        import atexit
        import gc

        atexit.register(gc.freeze)
        _FINAL_COLLECTION_SKIPPED.append(True)


def setup(app):
    check_versions()
    register_bibtex_plugins()
    root = Path(app.confdir)
    if katex_available(root):
        use_katex(app, root)
    else:
        use_mathjax(app)
    app.connect("builder-inited", add_template_filter)
    app.add_css_file(ICON_CSS)
    app.connect("html-page-context", lazy_images, priority=450)
    app.connect("html-page-context", code_blocks_only, priority=499)
    app.connect("html-page-context", whole_page_again, priority=501)
    app.connect("builder-inited", note_plain_tokens)
    app.connect("html-page-context", plain_code_tokens, priority=800)
    app.connect("build-finished", write_icon_font)
    app.add_post_transform(CachedSVGToPDF)
    app.connect("doctree-resolved", wait_for_figures)
    app.connect("build-finished", index_from_the_first_pass)
    app.add_post_transform(NumrefsFromKeptTargets)
    app.connect("write-started", more_writers)
    skip_final_collection()
    # env_version: raised when the pages this extension writes change, so that a
    # build with an older _build/ writes every page again
    return {"version": "1.0", "env_version": 1, "parallel_read_safe": True,
            "parallel_write_safe": True}
