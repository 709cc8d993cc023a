"""Sphinx extension of the book: definitions on hover.

A link to a glossary term (``{term}``), a figure (``{numref}``) or an equation
(``{eq}``) carries what it points to: the term's definition, the figure's
caption or the equation itself. The site shows it as a tooltip when the link
is hovered or focused, without leaving the page.

The definition is put into the page when the book is built, as docutils nodes
(so math in it is rendered like any other math), and no script fetches it:

.. code-block:: html

    <span class="introdl-hover">
      <a class="reference internal" href="..." aria-describedby="introdl-tip-3">ReLU</a>
      <span class="introdl-tip" role="tooltip" id="introdl-tip-3">The ...</span>
    </span>

CSS (``introdl-hover.css``) shows the tooltip on ``:hover`` and ``:focus-within``;
screen readers announce it as the link's description. A small script
(``introdl-hover.js``) lets Escape hide it (WCAG 1.4.13). Identifiers are numbered
in page order when the page is written, so two builds give identical pages.

Only HTML builders get tooltips; the PDF is unchanged. The text of a tooltip is
kept out of the search index: it belongs to the page it comes from.
"""

from __future__ import annotations

import posixpath

from docutils import nodes
from sphinx import addnodes


class hover(nodes.inline):
    """A link and its tooltip (``<span class="introdl-hover">``)."""


class hover_reference(nodes.reference):
    """The link of a :class:`hover`, described by its tooltip."""


class hover_tip(nodes.comment):
    """The tooltip of a :class:`hover`.

    A ``comment`` to the search index, which skips comments: a page is found by its
    own words, not by the definitions of the terms it links to. Rendered in HTML only.
    """


# -- what a link points to ---------------------------------------------------


def _inline_copy(node: nodes.Element) -> list[nodes.Node]:
    """The children of ``node`` as inline content for a tooltip: links and pending
    cross-references become their text (a tooltip holds no link), index entries and
    targets are dropped, displayed math becomes inline math; no identifiers."""
    result = []
    for child in node.children:
        if isinstance(child, (addnodes.pending_xref, nodes.reference)):
            span = nodes.inline()
            span.extend(_inline_copy(child))
            result.append(span)
        elif isinstance(child, (addnodes.index, nodes.target, nodes.footnote_reference,
                                nodes.citation_reference, nodes.system_message)):
            continue
        elif isinstance(child, nodes.math_block):
            result.append(nodes.math(child.astext(), child.astext()))
        elif isinstance(child, nodes.Element):
            copy = child.deepcopy()
            for inner in copy.findall(nodes.Element):
                inner["ids"] = []
            result.append(copy)
        else:
            result.append(child.deepcopy())
    return result


def _first_paragraph(node: nodes.Element) -> nodes.paragraph | None:
    return next(iter(node.findall(nodes.paragraph)), None)


def _targets(doctree: nodes.document) -> dict[str, list[nodes.Node]]:
    """Anchor -> tooltip content, for every term, numbered figure and labelled
    equation of one document."""
    tips = {}
    for item in doctree.findall(nodes.definition_list_item):
        definition = next(iter(item.findall(nodes.definition)), None)
        para = _first_paragraph(definition) if definition is not None else None
        if para is None:
            continue
        for term in item.findall(nodes.term):
            for anchor in term["ids"]:
                if anchor.startswith("term-"):
                    tips[anchor] = _inline_copy(para)
    for figure in doctree.findall(nodes.figure):
        caption = next(iter(figure.findall(nodes.caption)), None)
        if caption is not None and caption.astext().strip():
            for anchor in figure["ids"]:
                tips[anchor] = _inline_copy(caption)
    for block in doctree.findall(nodes.math_block):
        for anchor in block["ids"]:
            if anchor.startswith("equation-"):
                latex = r"\displaystyle " + block.astext()
                tips[anchor] = [nodes.math(latex, latex)]
    return tips


#: The targets of other documents, read once per build (never stored in the
#: environment, which is saved between builds).
_TARGETS: dict[str, dict[str, list[nodes.Node]]] = {}


def _forget_targets(app) -> None:
    _TARGETS.clear()


def _targets_of(app, docname: str) -> dict[str, list[nodes.Node]]:
    if docname not in _TARGETS:
        try:
            _TARGETS[docname] = _targets(app.env.get_doctree(docname))
        except FileNotFoundError:  # a link to a page outside the book's sources
            _TARGETS[docname] = {}
    return _TARGETS[docname]


def _target_of(app, fromdoc: str, ref: nodes.reference) -> tuple[str, str] | None:
    """(docname, anchor) of an internal link, or None."""
    if "refid" in ref:
        return fromdoc, ref["refid"]
    uri = ref.get("refuri", "")
    if not ref.get("internal") or "#" not in uri or "://" in uri:
        return None
    path, anchor = uri.split("#", 1)
    if not path:
        return fromdoc, anchor
    suffix = app.builder.out_suffix
    if not path.endswith(suffix):
        return None
    target = posixpath.normpath(posixpath.join(posixpath.dirname(fromdoc), path))
    return target[: -len(suffix)], anchor


def _is_hoverable(ref: nodes.reference) -> bool:
    """A term, a numbered figure or an equation reference."""
    if isinstance(ref, hover_reference) or isinstance(ref.parent, hover):
        return False
    classes = {c for n in ref.findall(nodes.Element) for c in n["classes"]}
    anchor = ref.get("refid") or ref.get("refuri", "").partition("#")[2]
    return bool(classes & {"std-term", "std-numref"}) or anchor.startswith("equation-")


def add_tooltips(app, doctree, fromdoc) -> None:
    """Wrap every hoverable link of a page with the content it points to.

    What a link points to on the page itself is copied before any link is
    wrapped, so that a tooltip never holds another tooltip (a caption that
    links to a figure whose caption links to a term)."""
    if app.builder.format != "html":
        return
    links = []
    for ref in list(doctree.findall(nodes.reference)):
        if not _is_hoverable(ref):
            continue
        target = _target_of(app, fromdoc, ref)
        if target is None:
            continue
        if target[0] == fromdoc and target[1].startswith("term-"):
            continue  # a term on the glossary page itself: its definition is in view
        links.append((ref, *target))
    own = {}
    if any(docname == fromdoc for _, docname, _ in links):
        own = {anchor: [node.deepcopy() for node in content]
               for anchor, content in _targets(doctree).items()}
    for ref, docname, anchor in links:
        if docname == fromdoc:
            # (or, for the figures the gallery resolves on their own, elsewhere
            # in their chapter: introdl_book._figure_entries)
            content = own.get(anchor) or _targets_of(app, docname).get(anchor)
        else:
            content = _targets_of(app, docname).get(anchor)
        if not content:
            continue
        link = hover_reference(ref.rawsource, "", *ref.children, **ref.attributes)
        tip = hover_tip()
        tip.extend(node.deepcopy() for node in content)
        ref.replace_self(hover("", "", link, tip, classes=["introdl-hover"]))


# -- HTML --------------------------------------------------------------------


def _next_id(self) -> str:
    self.introdl_tip_count = getattr(self, "introdl_tip_count", 0) + 1
    return f"introdl-tip-{self.introdl_tip_count}"


def visit_hover(self, node):
    self.introdl_tip_id = _next_id(self)
    self.body.append(self.starttag(node, "span", ""))


def depart_hover(self, node):
    self.body.append("</span>")


def visit_hover_reference(self, node):
    if "refuri" in node:
        href = node["refuri"] or "#"
    else:
        href = "#" + node["refid"]
    attributes = {"class": "reference internal", "href": href,
                  "aria-describedby": self.introdl_tip_id}
    self.body.append(self.starttag(node, "a", "", **attributes))


def depart_hover_reference(self, node):
    self.body.append("</a>")


def visit_hover_tip(self, node):
    self.body.append(f'<span class="introdl-tip" role="tooltip" '
                     f'id="{self.introdl_tip_id}">')


def depart_hover_tip(self, node):
    self.body.append("</span>")


def skip(self, node):
    raise nodes.SkipNode


def tips_need_math(app, pagename, templatename, context, doctree):
    """A tooltip may carry the only math of a page: then the page loads math too."""
    if doctree is None:
        return
    for tip in doctree.findall(hover_tip):
        if any(True for _ in tip.findall(nodes.math)):
            app.env.get_domain("math").data["has_equations"][pagename] = True
            return


def setup(app):
    html = {"html": (visit_hover, depart_hover)}
    app.add_node(hover, **html, latex=(skip, None), text=(skip, None))
    app.add_node(hover_reference, html=(visit_hover_reference, depart_hover_reference),
                 latex=(skip, None), text=(skip, None))
    app.add_node(hover_tip, html=(visit_hover_tip, depart_hover_tip),
                 latex=(skip, None), text=(skip, None))
    app.connect("doctree-resolved", add_tooltips, priority=400)
    app.connect("html-page-context", tips_need_math, priority=400)
    app.connect("builder-inited", _forget_targets)
    # both files are in book/_static, served by the site
    app.add_css_file("introdl-hover.css")
    app.add_js_file("introdl-hover.js", loading_method="defer")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
