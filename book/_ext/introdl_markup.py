"""Sphinx extension of the book: markup fixes at the source, so that the site validates
and code links work, and a link from each shown snippet to its API entry.

* **Exercise and solution bodies.** sphinx-exercise wraps the body of every exercise
  and solution in a ``section`` with the fixed id ``exercise-content`` or
  ``solution-content``. A page with several exercises then repeats an id, which is
  invalid HTML (the Nu HTML Checker rejects it), and an untitled section breaks
  tools that pair sections with their titles (sphinx-codeautolink fails on such a
  page). Right after a document is read, these bodies become plain containers with
  the same name as a class, and no id.
* **Shown code names itself.** A block that shows the source of one of the package's
  functions or classes (``literalinclude`` with ``:pyobject:``) gets a caption, in
  HTML, with the object's full name linked to its entry in the API reference (which
  links on to the highlighted source). sphinx-codeautolink links the names a block
  *uses*; this links the name a block *defines*.
* **Highlighted source pages.** ``sphinx.ext.viewcode`` (Sphinx 7.4, and still so
  upstream) marks each documented function of a module's source page with a
  ``<div class="viewcode-block">`` *inside* the ``<pre>`` of the highlighted code,
  which HTML does not allow (``pre`` holds phrasing content only). viewcode builds
  that page's body itself, with no node tree to change; the one place to fix its
  markup before the page is written is the page's context, so there the blocks
  become ``<span class="viewcode-block">`` (shown as blocks by
  ``introdl-markup.css``). Nothing else of the body is touched.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes

#: The ids sphinx-exercise gives to the bodies of exercises and solutions.
_BODY_IDS = ("exercise-content", "solution-content")


def exercise_bodies_as_containers(app, doctree) -> None:
    for section in list(doctree.findall(nodes.section)):
        ids = section["ids"]
        if len(ids) == 1 and ids[0] in _BODY_IDS and not any(
                isinstance(child, nodes.title) for child in section.children):
            body = nodes.container(classes=[ids[0]])
            body.extend(section.children)
            section.replace_self(body)
            body["ids"] = []  # replace_self copied the section's id


_DEFINITION = re.compile(r"^(?:async\s+)?(?:def|class)\s+(\w+)", re.M)


def shown_object(app, block: nodes.literal_block) -> str | None:
    """The full name of the package object a block shows, if it shows one."""
    source = block.get("source")
    if not source or block.get("language", "python") not in ("python", "default"):
        return None
    code = Path(app.confdir, "code").resolve()
    path = Path(source).resolve()
    if not path.is_relative_to(code) or path.suffix != ".py":
        return None
    module = ".".join(path.relative_to(code).with_suffix("").parts)
    module = module.removesuffix(".__init__")
    first = next((line for line in block.astext().splitlines()
                  if line.strip() and not line.lstrip().startswith("@")), "")
    match = _DEFINITION.match(first)  # top-level objects only (no methods)
    return f"{module}.{match.group(1)}" if match else None


def link_shown_code(app, doctree, fromdoc) -> None:
    """Caption every shown package object with its name, linked to the API entry."""
    if app.builder.format != "html":
        return
    objects = app.env.get_domain("py").objects
    seen: dict[str, int] = {}
    for block in list(doctree.findall(nodes.literal_block)):
        parent = block.parent
        if isinstance(parent, nodes.container) and parent.get("literal_block"):
            continue  # it has a caption already
        name = shown_object(app, block)
        if name not in objects:
            continue
        entry = objects[name]
        uri = app.builder.get_relative_uri(fromdoc, entry.docname) + "#" + entry.node_id
        link = nodes.reference("", "", internal=True, refuri=uri,
                               reftitle=f"{name} in the API reference")
        link += nodes.literal(name, name)
        seen[name] = seen.get(name, 0) + 1
        ident = "code-" + name.replace(".", "-").replace("_", "-")
        ident += f"-{seen[name]}" if seen[name] > 1 else ""
        wrapper = nodes.container("", classes=["literal-block-wrapper",
                                               "introdl-shown-code"],
                                  literal_block=True, ids=[ident])
        block.replace_self(wrapper)
        wrapper += nodes.caption("", "", link)
        wrapper += block


_VIEWCODE_BLOCK = '<div class="viewcode-block"'


def viewcode_blocks_as_spans(app, pagename, templatename, context, doctree) -> None:
    """Inside the ``<pre>`` of a viewcode page: viewcode's block ``div`` -> ``span``."""
    if not pagename.startswith("_modules/") or "body" not in context:
        return
    body = context["body"]
    start, end = body.find("<pre>"), body.rfind("</pre>")
    if start < 0 or end < start:
        return
    code = body[start:end]
    opened = code.count(_VIEWCODE_BLOCK)
    if opened == 0:
        return
    # inside the highlighted code, viewcode's blocks are the only divs
    if code.count("<div") != opened or code.count("</div>") != opened:
        raise ValueError(f"{pagename}: unexpected markup in viewcode's source page")
    code = code.replace(_VIEWCODE_BLOCK, '<span class="viewcode-block"')
    code = code.replace("</div>", "</span>")
    context["body"] = body[:start] + code + body[end:]


def setup(app):
    # before sphinx-codeautolink reads the code blocks (doctree-read, priority 490)
    app.connect("doctree-read", exercise_bodies_as_containers, priority=400)
    app.connect("doctree-resolved", link_shown_code)
    # after introdl_speed.whole_page_again (501), which restores the whole body
    app.connect("html-page-context", viewcode_blocks_as_spans, priority=600)
    app.add_css_file("introdl-markup.css")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
