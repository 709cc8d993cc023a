"""The chapters' sources keep the book's standards (no build needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
CHAPTERS = [c["file"] for part in TOC["parts"] for c in part["chapters"]
            if re.match(r"book/(lecture\d|scaling)/", c["file"])]
GLOSSARY = (ROOT / "book/appendix/glossary.md").read_text()
BIB = (ROOT / "references.bib").read_text()

# The key words of the lecture notes (their "Key words" list and headings).
NOTES_KEY_WORDS = [
    "perceptron", "feed-forward neural network", "activation function",
    "weights and bias", "sigmoid", "ReLU", "hyperbolic tangent", "gradient descent",
    "stochastic gradient descent", "backpropagation", "chain rule", "learning rate",
    "Adam", "adaptive learning rate", "local minimum", "overfitting", "regularization",
    "dropout", "early stopping", "sequence modeling", "recurrent neural network",
    "hidden state", "backpropagation through time", "embedding", "exploding gradient",
    "vanishing gradient", "transformer", "attention",
]


def glossary_terms() -> set[str]:
    body = GLOSSARY.split("```{glossary}", 1)[1].split("\n```", 1)[0]
    return {line.strip().lower() for line in body.splitlines()
            if line and not line[0].isspace() and not line.startswith((":", ".."))}


def source(docname: str) -> str:
    return (ROOT / f"{docname}.md").read_text()


def test_toc_lists_only_existing_files():
    files = [TOC["root"]] + [c["file"] for p in TOC["parts"] for c in p["chapters"]]
    assert all((ROOT / f"{f}.md").exists() for f in files)


@pytest.mark.parametrize("word", NOTES_KEY_WORDS)
def test_every_key_word_of_the_notes_is_in_the_glossary(word):
    assert word.lower() in glossary_terms()


@pytest.mark.parametrize("docname", CHAPTERS)
def test_chapter_has_exercises_with_solutions(docname):
    text = source(docname)
    exercises = re.findall(r"^`{3,}\{exercise\}.*\n:label: (\S+)", text, re.M)
    assert len(exercises) >= 3, f"{docname}: {len(exercises)} exercises"
    for label in exercises:
        assert re.search(rf"^`{{3,}}\{{solution(-start)?\}} {label}\s*$", text, re.M), (
            f"{docname}: exercise {label} has no solution")
    for match in re.finditer(r"^`{3,}\{solution(?:-start)?\} .*\n((?::.*\n)*)", text,
                             re.M):
        assert ":class: dropdown" in match.group(1), f"{docname}: solution not hidden"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_chapter_links_terms_and_cites_papers(docname):
    text = source(docname)
    links = re.findall(r"\{term\}`", text)
    assert len(links) >= 3, f"{docname}: too few glossary links"
    assert re.search(r"\{cite(:\w+)?\}`", text), f"{docname}: no citation"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_chapter_follows_the_anatomy(docname):
    text = source(docname)
    assert text.startswith("---\njupytext:"), "jupytext front matter"
    first_cell = text.split("```{code-cell}", 2)[1]
    assert "use_book_style()" in first_cell
    # torch seeds its global generator at random in every process: a chapter whose
    # cells use it (a layer's initial weights, torch.randn) would change every build
    assert "torch.manual_seed(0)" in first_cell, "the global generator is seeded"
    assert ":class: tip" in text and "What you will learn" in text
    assert re.search(r"^## Summary", text, re.M) and re.search(r"^## Exercises", text,
                                                               re.M)
    assert not re.search(r"plt\.(subplots|figure)\(", text), "use introdl.figures.style"
    for alt in re.findall(r"^:alt: (.*)$", text, re.M):
        assert len(alt) >= 30, f"{docname}: alt text too short: {alt!r}"


def bib_entries() -> dict[str, str]:
    return {m.group(2): m.group(0) for m in
            re.finditer(r"@(\w+)\{([^,]+),(.*?)\n\}", BIB, re.S)}


def test_bibliography_entries_are_complete():
    for key, entry in bib_entries().items():
        for field in ("author", "title", "year"):
            assert re.search(rf"\b{field}\s*=", entry), f"{key}: no {field}"
        assert re.search(r"\b(journal|booktitle|publisher|howpublished|institution|"
                         r"school|eprint)\s*=", entry), f"{key}: no venue"


def test_every_cited_key_exists():
    keys = set(bib_entries())
    for path in ROOT.glob("book/**/*.md"):
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", path.read_text()):
            for key in group.split(","):
                assert key.strip() in keys, f"{path.name}: unknown key {key}"
