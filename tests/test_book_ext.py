"""The book's Sphinx extension: which package modules a chapter depends on, the
fingerprint in the cache key, and the check of the versions it relies on."""

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

from introdl_book import (  # noqa: E402
    CHECKED_VERSIONS,
    FINGERPRINT_KEY,
    check_versions,
    closure,
    direct_dependencies,
    fingerprints,
    is_notebook,
    keep_code_links,
    keep_code_notes,
    mark_fingerprint,
    module_dependencies,
    package_modules,
    reread_pages_without_code_notes,
    static_files_digest,
)
from sphinx.errors import ExtensionError  # noqa: E402

MODULES = package_modules(ROOT / "code")


def cell(code: str, options: str = ":tags: [remove-cell]\n") -> str:
    return f"```{{code-cell}} ipython3\n{options}\n{code}\n```\n"


def test_modules_of_subpackages_have_dotted_names():
    assert {"checks", "__init__", "figures.style", "figures.__init__",
            "experiments.__init__"} <= set(MODULES)


def test_every_import_form_is_found():
    source = "\n".join([
        cell("from introdl.activations import sigmoid"),
        cell("from introdl.losses import (mse,\n    cross_entropy)"),
        cell("import introdl.figures.style\nfrom introdl import checks, corpus"),
        cell("from introdl.figures import diagrams\n%config X = 1"),
        "```{literalinclude} ../../code/introdl/optim.py\n:pyobject: SGD\n```\n",
    ])
    deps = direct_dependencies(source, MODULES)
    assert {"activations", "losses", "figures.style", "figures.__init__", "checks",
            "corpus", "figures.diagrams", "optim", "__init__"} <= deps
    assert "attention" not in deps


def test_imports_in_prose_or_other_fences_do_not_count():
    source = ("Write `from introdl.attention import x` in your code.\n\n"
              "```python\nfrom introdl.transformer import TinyGPT\n```\n"
              + cell("import math"))
    assert direct_dependencies(source, MODULES) == set()


def test_a_cell_that_does_not_parse_still_counts_its_imports():
    source = cell("from introdl.losses import mse\nmse(  # meant to fail")
    assert "losses" in direct_dependencies(source, MODULES)


def test_closure_follows_imports_between_modules_and_into_subpackages():
    graph = module_dependencies(MODULES)
    assert "checks" in graph["activations"]
    assert "figures.style" in graph["figures.diagrams"]
    assert {"figures.diagrams", "figures.style", "figures.__init__"} <= closure(
        {"figures.diagrams"}, graph)


def write_package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / "code" / "introdl" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_fingerprint_changes_only_with_what_a_chapter_uses(tmp_path):
    write_package(tmp_path, {
        "__init__.py": "", "a.py": "from introdl.b import f\n",
        "b.py": "def f(): pass\n",
        "c.py": "def g(): pass\n", "figures/__init__.py": "",
        "figures/one.py": "from introdl.a import f\n", "figures/two.py": "x = 2\n"})
    sources = {"uses_a": cell("from introdl.a import f"),
               "uses_c": cell("import introdl.c"),
               "uses_fig_one": cell("from introdl.figures.one import f"),
               "uses_fig_two": cell("from introdl.figures import two")}
    before = fingerprints(sources, tmp_path)
    (tmp_path / "code/introdl/b.py").write_text("def f(): return 1\n")
    after = fingerprints(sources, tmp_path)
    assert before["uses_a"] != after["uses_a"]  # b reached through a
    assert before["uses_fig_one"] != after["uses_fig_one"]  # through figures.one, a
    assert before["uses_c"] == after["uses_c"]
    assert before["uses_fig_two"] == after["uses_fig_two"]
    (tmp_path / "code/introdl/figures/two.py").write_text("x = 3\n")
    again = fingerprints(sources, tmp_path)
    assert again["uses_fig_two"] != after["uses_fig_two"]
    assert again["uses_fig_one"] == after["uses_fig_one"]


def test_fingerprint_follows_an_import_added_after_a_first_build(tmp_path):
    # the module graph is kept between calls; an edit that adds an import must
    # still reach the chapters that use the editing module
    write_package(tmp_path, {"__init__.py": "", "a.py": "def f(): pass\n",
                             "c.py": "def g(): pass\n"})
    sources = {"uses_a": cell("from introdl.a import f")}
    fingerprints(sources, tmp_path)
    (tmp_path / "code/introdl/a.py").write_text("from introdl.c import g\n")
    before = fingerprints(sources, tmp_path)
    (tmp_path / "code/introdl/c.py").write_text("def g(): return 1\n")
    assert fingerprints(sources, tmp_path)["uses_a"] != before["uses_a"]


def test_fingerprint_does_not_depend_on_where_the_folder_lives(tmp_path):
    files = {"__init__.py": "", "a.py": "def f(): pass\n"}
    write_package(tmp_path / "here", files)
    write_package(tmp_path / "elsewhere" / "deeper", files)
    sources = {"chapter": cell("from introdl.a import f")}
    assert (fingerprints(sources, tmp_path / "here")
            == fingerprints(sources, tmp_path / "elsewhere" / "deeper"))


CHAPTER = """---
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# Title

```{code-cell} ipython3
:tags: [remove-cell]

import torch
```
"""


def test_only_notebooks_are_marked():
    assert is_notebook(CHAPTER)
    assert not is_notebook("# A page\n\n```{code-cell} ipython3\nx = 1\n```\n")


def test_the_fingerprint_goes_into_the_first_cells_metadata():
    import jupytext

    marked = mark_fingerprint(CHAPTER, "abc123")
    nb = jupytext.reads(marked, fmt="md:myst")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata[FINGERPRINT_KEY] == "abc123"
    assert code[0].metadata["tags"] == ["remove-cell"]
    assert code[0].source == "import torch"  # the code is unchanged


def test_the_fingerprint_goes_into_a_yaml_option_block():
    text = CHAPTER.replace(":tags: [remove-cell]\n", "---\ntags: [remove-cell]\n---")
    import jupytext

    nb = jupytext.reads(mark_fingerprint(text, "abc123"), fmt="md:myst")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata[FINGERPRINT_KEY] == "abc123"
    assert code[0].metadata["tags"] == ["remove-cell"]


def test_versions_it_was_checked_with_pass():
    check_versions(installed=lambda name: CHECKED_VERSIONS[name])


def test_another_version_of_a_relied_on_package_fails_the_build_clearly():
    def installed(name):
        return "99.0" if name == "myst-nb" else CHECKED_VERSIONS[name]

    with pytest.raises(ExtensionError, match=r"myst-nb 99\.0 \(checked with 1\.4\.0\)"):
        check_versions(installed=installed)


def test_the_installed_versions_are_the_checked_ones():
    check_versions()  # the pins in requirements.txt agree with CHECKED_VERSIONS


def test_the_static_files_digest_follows_every_file_and_name(tmp_path):
    static = tmp_path / "book" / "_static"
    (static / "fonts").mkdir(parents=True)
    (static / "a.css").write_text("p {}")
    (static / "fonts" / "b.woff").write_bytes(b"\0")
    first = static_files_digest(tmp_path, ["book/_static"])
    assert static_files_digest(tmp_path, ["book/_static"]) == first
    (static / "a.css").write_text("p { color: red }")
    edited = static_files_digest(tmp_path, ["book/_static"])
    (static / "fonts" / "b.woff").rename(static / "fonts" / "c.woff")
    renamed = static_files_digest(tmp_path, ["book/_static"])
    assert len({first, edited, renamed}) == 3
    # a single file may be listed too
    assert static_files_digest(tmp_path, ["book/_static/a.css"]) != renamed


def test_code_links_of_markdown_pages_are_kept_between_builds(tmp_path):
    """sphinx-codeautolink restores from its cache only pages with .rst sources.
    keep_code_links puts back those of any existing source before the names are
    resolved, when a page is to be written that was not read; keep_code_notes puts
    them back afterwards in every build, so that its cache file keeps them. Neither
    touches a page read in this build or a page whose source is gone."""
    import json
    from types import SimpleNamespace

    from sphinx_codeautolink.extension.cache import DataCache

    src, doctrees = tmp_path / "src", tmp_path / "doctrees"
    (src / "book").mkdir(parents=True)
    doctrees.mkdir()
    (src / "book/chapter.md").write_text("# A chapter\n")
    note = {"source": "perceptron(x, w, b)",
            "names": [{"import_components": ["introdl", "perceptron"],
                       "code_str": "perceptron", "lineno": 1, "end_lineno": 1,
                       "context": None, "resolved_location": None}],
            "example": {"document": "book/chapter", "ref_id": "0", "headings": []},
            "doc_lineno": 12}
    saved = {"book/chapter": [note], "book/gone": [note], "book/read": [note]}
    (doctrees / DataCache.cache_filename).write_text(json.dumps(saved))
    fresh = ["read in this build"]

    def app(outdated):
        env = SimpleNamespace(sphinx_codeautolink_transforms={"book/read": fresh})
        return SimpleNamespace(
            env=env, doctreedir=str(doctrees), srcdir=str(src),
            builder=SimpleNamespace(name="html",
                                    get_outdated_docs=lambda: iter(outdated)),
            config=SimpleNamespace(source_suffix={".rst": "restructuredtext",
                                                  ".md": "myst-nb"}))

    quiet = app(["book/read"])  # only the page read is written: nothing to resolve
    keep_code_links(quiet, quiet.env)
    assert set(quiet.env.sphinx_codeautolink_transforms) == {"book/read"}
    keep_code_notes(quiet, quiet.env)
    assert set(quiet.env.sphinx_codeautolink_transforms) == {"book/chapter",
                                                             "book/read"}
    rewritten = app(["book/chapter", "book/read"])  # written without being read
    keep_code_links(rewritten, rewritten.env)
    kept = rewritten.env.sphinx_codeautolink_transforms
    assert set(kept) == {"book/chapter", "book/read"} and kept["book/read"] is fresh
    (transform,) = kept["book/chapter"]
    assert transform.names[0].code_str == "perceptron"
    assert transform.example.document == "book/chapter" and transform.doc_lineno == 12
    # not an HTML build: sphinx-codeautolink does nothing, even with an environment
    # that an HTML build left (the PDF build shares it)
    latex = app(["book/chapter"])
    latex.builder.name = "latex"
    keep_code_links(latex, latex.env)
    keep_code_notes(latex, latex.env)
    assert set(latex.env.sphinx_codeautolink_transforms) == {"book/read"}


def test_pages_read_by_a_pdf_build_are_read_again_for_their_code_links(tmp_path):
    """The HTML and PDF builds share the environment. A page read since
    sphinx-codeautolink wrote its cache file (by a PDF build, in which it notes
    nothing) is read again by the next HTML build; with no cache file, every page."""
    import os
    from types import SimpleNamespace

    from sphinx_codeautolink.extension.cache import DataCache

    cache = tmp_path / DataCache.cache_filename
    cache.write_text("{}")
    os.utime(cache, ns=(2_000_000_000, 2_000_000_000))  # written at 2 s
    env = SimpleNamespace(all_docs={"before": 1_000_000, "after": 3_000_000,
                                    "edited": 3_000_000})  # read at 1 s and 3 s

    def outdated(builder, changed=()):
        app = SimpleNamespace(doctreedir=str(tmp_path),
                              builder=SimpleNamespace(name=builder))
        return reread_pages_without_code_notes(app, env, set(), set(changed), set())

    assert outdated("html") == ["after", "edited"]
    assert outdated("html", changed={"edited"}) == ["after"]  # read anyway
    assert outdated("latex") == []
    cache.unlink()
    assert outdated("html") == ["before", "after", "edited"]


def build_script():
    """book/_ext/build.py as a module (it is a script, not on the import path)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("book_build_script",
                                                  ROOT / "book/_ext/build.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_conf_py_is_generated_again_only_when_its_inputs_change(tmp_path):
    """book/_ext/build.py runs `jupyter-book config sphinx` only when _config.yml,
    _toc.yml, jupyter-book's version or conf.py itself changed since it last did."""
    script = build_script()
    calls = []

    def fake_jupyter_book(cmd, **kwargs):
        calls.append(cmd)
        (tmp_path / "conf.py").write_text(f"# generated, run {len(calls)}\n")

    for name in ("_config.yml", "_toc.yml"):
        (tmp_path / name).write_text("title: A book\n")
    assert script.write_conf(tmp_path, run=fake_jupyter_book)
    assert calls[0][-3:] == ["config", "sphinx", str(tmp_path)]
    assert not script.write_conf(tmp_path, run=fake_jupyter_book)  # nothing changed
    (tmp_path / "_toc.yml").write_text("root: intro\n")
    assert script.write_conf(tmp_path, run=fake_jupyter_book)
    (tmp_path / "conf.py").write_text("# edited by hand\n")
    assert script.write_conf(tmp_path, run=fake_jupyter_book)
    (tmp_path / "conf.py").unlink()
    assert script.write_conf(tmp_path, run=fake_jupyter_book)
    assert len(calls) == 4 and not script.write_conf(tmp_path, run=fake_jupyter_book)


def test_the_build_is_skipped_only_when_nothing_it_depends_on_changed(tmp_path,
                                                                      monkeypatch):
    """build.py's record of the last build: any edit to a file of the project, a
    package installed or upgraded, an environment variable or option the build reads,
    or a change to the output makes the next build run; outputs, caches and the
    tools' folders are not inputs; -E always builds."""
    script = build_script()
    site_packages = tmp_path / "site-packages"
    (site_packages / "torch-2.5.1.dist-info").mkdir(parents=True)
    monkeypatch.setattr(script.site, "getsitepackages", lambda: [str(site_packages)])
    root = tmp_path / "book"
    (root / "book").mkdir(parents=True)
    (root / "book" / "intro.md").write_text("# Intro\n")
    (root / "_build" / "html").mkdir(parents=True)
    (root / "_build" / "html" / "intro.html").write_text("<p>Intro</p>")

    def record(*options):
        return script.BuildRecord(root, "html", list(options))

    record("-W").save()
    assert record("-W").current()
    assert not record("-W", "-n").current()  # other options
    for not_input in (".git/index", "_build/doctrees/x.pickle", "node_modules/x.js",
                      "book/__pycache__/x.pyc", ".pytest_cache/x", "code/a.egg-info/x",
                      "benchmarks/results/latest.json", "_build/html/" + str(
                          script.BUNDLE)):
        (root / not_input).parent.mkdir(parents=True, exist_ok=True)
        (root / not_input).write_text("x")
        assert record("-W").current(), not_input
    changes = [
        lambda: (root / "book" / "intro.md").write_text("# Introduction\n"),
        lambda: (root / "tests").mkdir() or (root / "tests" / "new.py").write_text(""),
        lambda: (site_packages / "torch-2.5.1.dist-info").rename(
            site_packages / "torch-2.6.0.dist-info"),
        lambda: monkeypatch.setenv("PYTHONHASHSEED", "1"),
        # npm ci succeeded after a build without it (KaTeX instead of MathJax)
        lambda: (root / script.NODE_TREE).write_text('{"packages": {}}'),
        lambda: (root / "_build" / "html" / "intro.html").unlink(),
    ]
    for change in changes:
        change()
        assert not record("-W").current()
        record("-W").save()
        assert record("-W").current()
    assert not record("-W", "-E").current()
    record("-W").forget()
    assert not record("-W").current()


def test_the_pdf_build_reads_with_the_settings_of_the_html_build():
    """sphinx-jupyterbook-latex sets numfig_secnum_depth when the LaTeX builder
    starts; the PDF build reads (and Sphinx keeps) the HTML build's value, so that
    neither build reads every page the other read, and the LaTeX writer gets
    sphinx-jupyterbook-latex's value once the book's doctree is resolved."""
    from types import SimpleNamespace

    from introdl_book import (
        hand_settings_to_writer,
        note_shared_settings,
        share_environment,
    )

    for builder, read_with, written_with in (("html", 1, 1), ("latex", 1, 2)):
        config = {"numfig_secnum_depth": 1}
        app = SimpleNamespace(config=config, builder=SimpleNamespace(format=builder))
        note_shared_settings(app, config)
        if builder == "latex":  # what sphinx-jupyterbook-latex does on builder-inited
            config["numfig_secnum_depth"] = 2
        share_environment(app)
        assert config["numfig_secnum_depth"] == read_with  # pages read and numbered
        hand_settings_to_writer(app, None, "book/intro")
        assert config["numfig_secnum_depth"] == written_with  # the writer's value


def test_svg_figures_are_converted_to_pdf_once(tmp_path, monkeypatch):
    """The PDF build converts a figure again only when its SVG is newer."""
    import introdl_speed

    converted = []

    def convert(source, target):
        converted.append(source)
        Path(target).write_bytes(b"%PDF-1.4")
        return True

    # whichever route the machine has (libRSVG or CairoSVG)
    monkeypatch.setattr(introdl_speed, "_convert_with_rsvg", convert)
    monkeypatch.setattr(introdl_speed, "_convert_svg", convert)
    converter = converter_for(parallel=1)
    svg, pdf = tmp_path / "fig.svg", tmp_path / "fig.pdf"
    svg.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert converter.convert(str(svg), str(pdf)) and len(converted) == 1
    assert converter.convert(str(svg), str(pdf)) and len(converted) == 1  # kept
    later = pdf.stat().st_mtime + 10
    os.utime(svg, (later, later))  # the figure changed
    assert converter.convert(str(svg), str(pdf)) and len(converted) == 2


def converter_for(parallel: int):
    """The PDF build's converter, in a build with ``-j parallel`` (no document)."""
    from types import SimpleNamespace

    from introdl_speed import CachedSVGToPDF

    converter = CachedSVGToPDF.__new__(CachedSVGToPDF)
    app = SimpleNamespace(parallel=parallel)
    converter.document = SimpleNamespace(settings=SimpleNamespace(
        env=SimpleNamespace(app=app)))
    return converter


@pytest.mark.parametrize("route", ["librsvg", "cairosvg"])
def test_with_two_jobs_figures_are_converted_side_by_side(tmp_path, monkeypatch,
                                                          route):
    """Each conversion goes to a pool of two processes; wait_for_figures, when the
    book's doctree is resolved, returns once every PDF is there, and raises the
    error of a conversion that failed. With rsvg-convert (CI installs it, as the
    README says) libRSVG converts, else CairoSVG."""
    import shutil

    import introdl_speed
    from introdl_speed import wait_for_figures
    from sphinx.errors import ExtensionError

    if route == "librsvg":
        assert shutil.which(introdl_speed.RSVG_CONVERT), "apt-get install librsvg2-bin"
        expected_error = ExtensionError  # the library's, with rsvg-convert's message
    else:
        monkeypatch.setattr(introdl_speed, "RSVG_CONVERT", "no-such-rsvg-convert")
        from xml.etree.ElementTree import ParseError as expected_error
    converter = converter_for(parallel=2)
    svgs = []
    for i in range(4):
        svg = tmp_path / f"fig{i}.svg"
        svg.write_text("<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'>"
                       f"<rect width='{i + 1}' height='5'/></svg>")
        svgs.append(svg)
        assert converter.convert(str(svg), str(svg.with_suffix(".pdf")))
    wait_for_figures(None, None, "book/intro")
    assert all(svg.with_suffix(".pdf").read_bytes().startswith(b"%PDF") for svg in svgs)
    broken = tmp_path / "broken.svg"
    broken.write_text("this is not SVG")
    assert converter.convert(str(broken), str(tmp_path / "broken.pdf"))
    with pytest.raises(expected_error):  # from the process that converted
        wait_for_figures(None, None, "book/intro")


def test_the_first_latex_pass_of_a_folder_has_an_empty_index(tmp_path):
    from types import SimpleNamespace

    from introdl_speed import EMPTY_INDEX, index_from_the_first_pass

    def app(builder):
        return SimpleNamespace(builder=SimpleNamespace(name=builder), outdir=tmp_path,
                               config=SimpleNamespace(latex_documents=[
                                   ("book/intro", "introdl.tex", "T", "A", "manual")]))

    index = tmp_path / "introdl.ind"
    index_from_the_first_pass(app("html"), None)
    assert not index.exists()
    index_from_the_first_pass(app("latex"), RuntimeError("the build failed"))
    assert not index.exists()
    index_from_the_first_pass(app("latex"), None)
    assert index.read_text() == EMPTY_INDEX
    index.write_text("the index latexmk made")  # a later build keeps it
    index_from_the_first_pass(app("latex"), None)
    assert index.read_text() == "the index latexmk made"


def test_the_icon_font_is_cut_again_only_when_the_icons_change(tmp_path):
    """A rebuild that writes nothing keeps the cut font; a page with a new icon
    gets a font that has it."""
    from types import SimpleNamespace

    import pydata_sphinx_theme
    from introdl_speed import ICON_CSS, ICON_FONT, ICON_SUBSET, write_icon_font

    theme_static = (Path(pydata_sphinx_theme.__file__).parent
                    / "theme" / "pydata_sphinx_theme" / "static")
    static = tmp_path / "_static"
    (static / ICON_FONT).parent.mkdir(parents=True)
    (static / ICON_FONT).write_bytes((theme_static / ICON_FONT).read_bytes())
    (static / "styles").mkdir()
    (static / "styles" / "theme.css").write_text(
        '.fa-bars:before{content:"\\f0c9"}.fa-moon:before{content:"\\f186"}')
    page = tmp_path / "page.html"
    page.write_text('<i class="fa-solid fa-bars"></i>')
    app = SimpleNamespace(outdir=str(tmp_path), builder=SimpleNamespace(format="html"))

    write_icon_font(app, None)
    font, css = static / ICON_SUBSET, static / ICON_CSS
    first = (font.read_bytes(), css.read_text())
    assert "U+F0C9" in first[1] and "U+F186" not in first[1]
    os.utime(font, (1, 1))  # a cut made again would get a new time
    write_icon_font(app, None)
    assert font.stat().st_mtime == 1 and css.read_text() == first[1]
    page.write_text('<i class="fa-solid fa-bars"></i><i class="fa-moon"></i>')
    write_icon_font(app, None)
    assert "U+F186" in css.read_text() and font.stat().st_mtime > 1


def test_code_tokens_that_look_like_text_are_the_themes_plain_ones():
    from introdl_speed import plain_token_classes
    from pygments.styles import get_style_by_name

    styles = [get_style_by_name(f"a11y-high-contrast-{mode}")
              for mode in ("light", "dark")]
    plain = plain_token_classes(styles)
    assert {"n", "p", "w"} <= plain  # names, punctuation, whitespace
    assert not {"k", "kn", "o", "s", "mi", "c1", "nb", "nf"} & plain  # coloured ones
    # a class is plain only if it is plain in every style
    assert plain_token_classes([get_style_by_name("default")]) != plain


def test_plain_token_spans_are_dropped_only_inside_code_blocks():
    from introdl_speed import without_spans

    code = ('<div class="highlight"><pre><span class="kn">import</span> '
            '<a href="api.html#x" class="sphinx-codeautolink-a"><span class="nn">torch'
            '</span></a><span class="w"> </span><span class="n">x</span>'
            '<span class="o">=</span><span class="p">(</span><span class="mi">1'
            '</span><span class="p">)</span></pre></div>')
    outside = '<p><span class="n">kept</span></p>'
    out = without_spans(outside + code, {"n", "nn", "p", "w"})
    assert out == (outside + '<div class="highlight"><pre>'
                   '<span class="kn">import</span> '
                   '<a href="api.html#x" class="sphinx-codeautolink-a">torch</a> x'
                   '<span class="o">=</span>(<span class="mi">1</span>)</pre></div>')
    assert without_spans(code, set()) == code


def test_citations_are_resolved_without_a_search_of_the_installed_packages(
        monkeypatch):
    """sphinxcontrib-bibtex asks pybtex for its plain-text backend once per
    citation; after the book's extension registered it, pybtex finds it without
    reading every installed distribution's entry points, and it is the same class."""
    import pybtex.plugin
    from introdl_speed import register_bibtex_plugins
    from pybtex.backends.plaintext import Backend

    register_bibtex_plugins()

    def search(**kwargs):
        raise AssertionError(f"searched the installed entry points for {kwargs}")

    monkeypatch.setattr(pybtex.plugin, "entry_points", search)
    assert pybtex.plugin.find_plugin("pybtex.backends", "plaintext") is Backend


WRITER_CONF = '''
import os, sys, time
sys.path.insert(0, {ext!r})
from introdl_book import check_pages_written, forget_page

def fail_on_one_page(app, pagename, *args):
    if pagename == os.environ.get("FAIL_ON"):
        raise RuntimeError("this page cannot be written")

def slow_resolve(app, doctree, docname):
    time.sleep(0.02)  # Sphinx hands out pages while earlier ones are written

def setup(app):
    app.connect("html-page-context", fail_on_one_page)
    app.connect("doctree-resolved", slow_resolve)
    app.connect("doctree-resolved", forget_page)
    app.connect("build-finished", check_pages_written)
    return {{"parallel_read_safe": True, "parallel_write_safe": True}}
'''


def test_a_page_that_fails_to_be_written_fails_the_build_and_is_not_left_stale(
        tmp_path):
    """In a parallel build Sphinx 7.4 can drop the error of a process that writes
    pages and report success; the old pages of that process would stay. The
    extension removes each page before it is written and fails the build if one
    is missing at the end."""
    import subprocess

    ext = str(ROOT / "book" / "_ext")
    (tmp_path / "conf.py").write_text(WRITER_CONF.format(ext=ext))
    pages = [f"p{i}" for i in range(60)]
    (tmp_path / "index.rst").write_text(
        "Index\n=====\n\n.. toctree::\n\n" + "".join(f"   {p}\n" for p in pages))
    for page in pages:
        (tmp_path / f"{page}.rst").write_text(f"{page}\n{'=' * len(page)}\n\nText.\n")

    def build(fail_on=""):
        return subprocess.run(
            [sys.executable, "-m", "sphinx", "-b", "html", "-a", "-q", "-j", "2",
             str(tmp_path), str(tmp_path / "_build")],
            env=dict(os.environ, FAIL_ON=fail_on), capture_output=True, text=True)

    first = build()
    assert first.returncode == 0, first.stderr
    page = tmp_path / "_build" / "p3.html"
    assert page.is_file()
    second = build(fail_on="p3")
    assert second.returncode != 0
    assert "p3" in second.stderr and not page.exists()
    third = build()
    assert third.returncode == 0, third.stderr
    assert page.is_file()


def test_a_parallel_read_is_ordered_so_that_both_processes_finish_together(
        monkeypatch):
    """Sphinx cuts the list of pages into chunks and hands them out in order; in
    alphabetical order one process idled while the other read the last chunk."""
    from types import SimpleNamespace

    import introdl_book
    from sphinx.util.parallel import make_chunks

    pages = [f"book/appendix/page{i}" for i in range(7)]
    chapters = [f"book/lecture{i % 2 + 1}/chapter{i:02d}" for i in range(23)]
    seconds = dict.fromkeys(pages, 0.5)
    seconds.update(zip(chapters, [3.0] * 12 + [11.0, 2.0, 9.0, 4.0, 10.0, 5.0, 3.0,
                                             6.0, 8.0, 2.5, 7.0]))
    monkeypatch.setattr(introdl_book, "_reading_seconds", lambda app, docs: seconds)
    docnames = sorted(pages + chapters)
    before = introdl_book._makespan(make_chunks(docnames, 2), seconds, 2)
    introdl_book.balance_reading(SimpleNamespace(parallel=2), None, docnames)
    after = introdl_book._makespan(make_chunks(docnames, 2), seconds, 2)
    assert sorted(docnames) == sorted(pages + chapters)  # the same pages
    ideal = sum(seconds.values()) / 2
    assert after <= ideal + 1.0 < before
    # one process, or too few pages for Sphinx to read in parallel: left alone
    for app, docs in ((SimpleNamespace(parallel=1), sorted(chapters)),
                      (SimpleNamespace(parallel=2), sorted(chapters)[:5])):
        kept = list(docs)
        introdl_book.balance_reading(app, None, kept)
        assert kept == docs


def test_sphinx_codeautolink_is_handed_the_code_blocks_and_they_go_back_in_place():
    from introdl_speed import code_blocks_only, whole_page_again

    def block(code):
        return (f'<div class="highlight-ipython3 notranslate"><div class="highlight">'
                f'<pre><span></span>{code}</pre></div>\n</div>')

    body = (f"<p>Text and math</p>{block('x = 1')}<p>more <b>text</b></p>"
            f"{block('y = f(x)')}<p>end</p>")
    context = {"body": body}
    code_blocks_only(None, "book/chapter", "page.html", context, None)
    assert "Text" not in context["body"] and "x = 1" in context["body"]
    # what sphinx-codeautolink does: links names inside the blocks
    context["body"] = context["body"].replace("f(x)", '<a href="api.html#f">f</a>(x)')
    whole_page_again(None, "book/chapter", "page.html", context, None)
    assert context["body"] == body.replace("f(x)", '<a href="api.html#f">f</a>(x)')
    assert "introdl_whole_body" not in context
    # a page without code blocks is left as it is
    plain = {"body": "<p>no code</p>"}
    code_blocks_only(None, "book/page", "page.html", plain, None)
    whole_page_again(None, "book/page", "page.html", plain, None)
    assert plain == {"body": "<p>no code</p>"}
    # blocks lost on the way: the build stops and says so
    context = {"body": body}
    code_blocks_only(None, "book/chapter", "page.html", context, None)
    context["body"] = block("x = 1")
    with pytest.raises(ExtensionError, match="2 code blocks went"):
        whole_page_again(None, "book/chapter", "page.html", context, None)


NUMREF_CONF = '''
import json, os, sys
sys.path.insert(0, {ext!r})
numfig = True
loads = []

def count_loads(app, builder):
    env = app.env
    load = env.get_doctree

    def counted(docname):
        loads.append(docname)
        return load(docname)

    env.get_doctree = counted  # the test watches what writing loads

def report(app, exception):
    with open(os.path.join(app.outdir, "loads.json"), "w") as f:
        json.dump(loads, f)

def setup(app):
    if os.environ.get("KEPT_TARGETS"):
        from introdl_speed import NumrefsFromKeptTargets
        app.add_post_transform(NumrefsFromKeptTargets)
    app.connect("write-started", count_loads)
    app.connect("build-finished", report)
'''

NUMREF_PAGES = {
    "index": "Book\n====\n\n.. toctree::\n   :numbered:\n\n   a\n   b\n",
    "a": """A
=

.. _sec-a:

Section in A
------------

.. _fig-a:

.. figure:: dot.svg

   A figure.

.. code-block:: python
   :caption: Some code.
   :name: code-a

   x = 1

.. _table-a:

.. table:: A table.

   = =
   1 2
   = =

See :numref:`fig-a` here.
""",
    "b": """B
=

.. _fig-b:

.. figure:: dot.svg

   B figure.

""" + "".join(f"Ref {i}: :numref:`fig-a`, :numref:`Listing {{number}} <code-a>`, "
              f":numref:`table-a`, :numref:`sec-a`, :numref:`fig-b`, "
              f":numref:`{{name}} ({{number}}) <fig-a>`.\n\n" for i in range(20)),
}


def test_numbered_references_load_each_target_page_once_and_resolve_as_sphinxs(
        tmp_path):
    """Sphinx loads a numref's target page from disk again for every reference
    (122 in the book, in the one process that resolves pages). Resolved with the
    kept targets, the pages are the same, byte for byte, and each target page is
    loaded once."""
    import subprocess

    ext = str(ROOT / "book" / "_ext")
    (tmp_path / "conf.py").write_text(NUMREF_CONF.format(ext=ext))
    (tmp_path / "dot.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')
    for name, text in NUMREF_PAGES.items():
        (tmp_path / f"{name}.rst").write_text(text)

    def build(out: str, **env) -> tuple[dict, list]:
        run = subprocess.run(
            [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W",
             str(tmp_path), str(tmp_path / out)],
            env=dict(os.environ, **env), capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        pages = {p: (tmp_path / out / f"{p}.html").read_text() for p in NUMREF_PAGES}
        return pages, json.loads((tmp_path / out / "loads.json").read_text())

    sphinx_pages, sphinx_loads = build("sphinx")
    kept_pages, kept_loads = build("kept", KEPT_TARGETS="1")
    assert kept_pages == sphinx_pages
    assert "Fig. 1.1" in kept_pages["b"] and "Listing 1.1" in kept_pages["b"]
    assert "Table 1.1" in kept_pages["b"] and "Fig. 2.1" in kept_pages["b"]
    # Sphinx: the target's page once for each reference (100 from b to a, 1 in a,
    # 20 in b to b's own figure) ...
    assert sphinx_loads.count("a") == 101 and sphinx_loads.count("b") == 20
    # ... with kept targets: a once, for b; each page's own from itself
    assert kept_loads.count("a") == 1 and kept_loads.count("b") == 0, kept_loads


def test_with_two_jobs_two_processes_write_the_pages():
    """Sphinx writes with -j minus one processes; the book's extension asks for -j
    writers once, for the HTML builder only."""
    from types import SimpleNamespace

    from introdl_speed import more_writers

    html, latex = SimpleNamespace(format="html"), SimpleNamespace(format="latex")
    app = SimpleNamespace(parallel=2)
    more_writers(app, html)
    more_writers(app, html)  # a second write of the same build: no more
    assert app.parallel == 3
    for parallel, builder in ((1, html), (2, latex)):
        app = SimpleNamespace(parallel=parallel)
        more_writers(app, builder)
        assert app.parallel == parallel


def test_the_last_collection_at_exit_skips_what_the_build_made():
    """Python's collection at exit visited every object of Sphinx's environment
    (about 4 s); the objects are frozen first, at exit only."""
    import subprocess

    code = (
        "import atexit, gc, sys\n"
        f"sys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        # runs after the extension's own exit handler (the last registered first)
        "atexit.register(lambda: print('at exit', gc.get_freeze_count() > 0))\n"
        "from introdl_speed import skip_final_collection\n"
        "skip_final_collection()\n"
        "skip_final_collection()\n"
        "print('before exit', gc.get_freeze_count())\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert run.stdout.split("\n")[:2] == ["before exit 0", "at exit True"]


def test_a_fresh_folder_expects_each_chapter_to_take_what_it_took_in_make_bench(
        monkeypatch, tmp_path):
    """No execution cache yet (a fresh clone): the chapters' times of the last
    make bench order the reading; a chapter it does not know, or no file, takes
    the default."""
    from types import SimpleNamespace

    import introdl_book

    expected = tmp_path / "chapter-seconds.json"
    expected.write_text(json.dumps({"book/a": 11.0, "book/b": 2.0}))
    monkeypatch.setattr(introdl_book, "EXPECTED_SECONDS", expected)
    monkeypatch.setattr(introdl_book, "_chapter_sources",
                        lambda app: {"book/a", "book/b", "book/c"})
    app = SimpleNamespace(env=SimpleNamespace(
        mystnb_config=SimpleNamespace(execution_cache_path=str(tmp_path / "none")),
        doc2path=lambda d: str(tmp_path / f"{d}.md")))
    seconds = introdl_book._reading_seconds(app, ["book/a", "book/b", "book/c", "p"])
    assert seconds == {"book/a": 11.0, "book/b": 2.0,
                       "book/c": introdl_book.CHAPTER_SECONDS,
                       "p": introdl_book.PAGE_SECONDS}
    expected.unlink()
    assert introdl_book._reading_seconds(app, ["book/a"]) == {
        "book/a": introdl_book.CHAPTER_SECONDS}
    # the file make bench leaves: every chapter of the book, in seconds
    shipped = json.loads((ROOT / "book" / "_ext" / "chapter-seconds.json").read_text())
    assert len(shipped) >= 23 and all(0 < v < 60 for v in shipped.values())
