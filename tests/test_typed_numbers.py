"""No hand-typed measured number in the book's prose (issue 16).

The book promises that every measured number (a loss, an accuracy, a share, a time)
is computed by the build: glued from the executed code (``{glue:text}``) or, in a
solution the build does not run, checked by a test. This test reads every page's
prose the way MyST does (with MyST's own Markdown parser), including what the build
does not execute: figure captions, alt texts, exercises and solutions. Every decimal
number, percentage or number in scientific notation outside code, math and roles must
be one of the reasoned exceptions below, or the test fails and says where.

What is not scanned, and why:
- code and its output: the build runs it;
- math: numbers in formulas are inputs or worked arithmetic the reader can redo by
  hand (for example $0.9^{20} \\approx 0.12$), not measurements;
- integers without a percent sign: counts and sizes ("8 epochs", "256 sequences")
  are settings; measured counts are glued, and the tests of the experiments check
  the claims about them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it.renderer import RendererHTML
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser

from tests.conftest import ROOT

#: A decimal, a percentage, or scientific notation; not part of a dotted version or
#: address (0.1.0, 127.0.0.1), a word (float64) or a label (fig-1.2).
NUMBER = re.compile(
    r"(?<![\w.\-/])"
    r"(\d+(?:\.\d+)?\s?%|\d+\.\d+(?:e[-+]?\d+)?(?!\.\d)|\d+e[-+]?\d+)"
    r"(?![\w.]\d|\w)")

SETTING = "a setting the text chooses (an input of the run, not its result)"
CONVENTION = "a common default or convention the text names"
CITED = "a figure from the cited paper, with its citation beside it"
GIVEN = "given in the exercise statement, or arithmetic on numbers it gives"
MATH = "a mathematical fact (a value of a function), not a measurement"
LICENCE = "the licence's name"

#: file -> {number as written: reason}. Each entry must still occur (see the last test).
EXCEPTIONS: dict[str, dict[str, str]] = {
    "book/intro.md": {"4.0": LICENCE},
    "book/appendix/figures.md": {"4.0": LICENCE},
    "book/lecture1/introduction.md": {
        "0.02": SETTING, "0.002": SETTING,
        "1.2": CITED, "15.3%": CITED, "26.2%": CITED},
    "book/lecture1/perceptron.md": {
        "0.25": MATH + ": the sigmoid's largest slope",
        "0.5": "the decision threshold the figure draws",
        "100%": MATH + ": a result of 0 where 1 is exact"},
    "book/lecture1/loss.md": {
        "0.5": MATH + ": where the two log losses cross",
        "2.3": MATH + ": log 10, the loss of a uniform guess over 10 classes"},
    "book/lecture1/gradient_descent.md": {"0.1": SETTING, "0.01": SETTING},
    "book/lecture1/backpropagation.md": {
        "0.4": SETTING, "0.3": SETTING, "0.2": SETTING, "0.1": SETTING,
        "1e-13": "the range of steps the figure sweeps (a setting)",
        "1e-1": "the range of steps the figure sweeps (a setting)",
        "0.5": "a made-up factor in an argument about depth"},
    "book/lecture1/learning_rates.md": {
        "1.5": MATH + ": the toy loss's minimum, from its formula",
        "0.05": SETTING, "1.0": SETTING, "4.2": SETTING,
        "0.001": SETTING, "0.003": SETTING, "0.01": SETTING,
        "0.9": CONVENTION, "0.99": CONVENTION, "0.1": CONVENTION},
    "book/lecture1/overfitting.md": {
        "0.01": GIVEN, "0.90": GIVEN, "0.85": GIVEN, "0.88": GIVEN, "0.89": GIVEN,
        "1.4": CITED},
    "book/lecture1/regularization.md": {
        "20%": SETTING, "0.1": CONVENTION, "0.5": CONVENTION,
        "0.69": GIVEN, "0.68": GIVEN, "0.02": GIVEN, "0.75": GIVEN, "0.88": GIVEN,
        "0.70": GIVEN, "0.73": GIVEN, "0.71": GIVEN},
    "book/lecture2/sequence_modeling.md": {
        "0.25": MATH + ": chance level for four symbols", "25 %": MATH + ": chance",
        "100 %": "what a task without memory allows, an argument, not a run"},
    "book/lecture2/rnn.md": {"1.5": SETTING},
    "book/lecture2/next_word.md": {"10 %": SETTING},
    "book/lecture2/bptt.md": {"0.5": SETTING, "1.5": SETTING},
    "book/lecture2/lstm_gru.md": {
        "0.1": SETTING + ": the stopping loss", "0.005": SETTING, "0.01": SETTING,
        "0.02": SETTING, "0.04": SETTING,
        "0.98": SETTING + ": the threshold that defines a memory unit",
        "0.95": "an example gate value for the arithmetic that follows"},
    "book/lecture2/attention.md": {
        "100 %": "the ideal the text compares with",
        "8.6": GIVEN + ": 2.1e9 weights times 4 bytes"},
    "book/lecture2/transformers.md": {
        "1.5": CITED, "0.1": CITED + " (the dropout rate of GPT-2's setting)",
        "0.3": SETTING},
    "book/lecture2/encoder_decoder.md": {"4.5": CITED},
    "book/lecture2/decoding.md": {
        "0.9": SETTING, "0.5": SETTING, "0.95": SETTING,
        "30 %": "an example of what calibration means, not a measurement"},
    "book/scaling/scaling_up.md": {
        "2.3": MATH + ": log 10, the start of a 10-class loss"},
}

#: Fenced blocks whose content the build executes or typesets as code or math.
NOT_PROSE = re.compile(r"\{(code-cell|math|literalinclude|code-block|code|glue)\}|\w")
_parser = create_md_parser(
    MdParserConfig(enable_extensions={"dollarmath", "colon_fence", "deflist"}),
    RendererHTML)


def prose(text: str, first_line: int = 0):
    """Yield ``(line, text)`` for the reader-visible prose of MyST ``text``: inline
    text outside math, code and roles, plus the captions, alt texts and bodies of
    directives (exercises, solutions, figures, admonitions)."""
    for token in _parser.parse(text):
        line = first_line + (token.map[0] + 1 if token.map else 0)
        if token.type == "inline":
            for child in token.children or ():
                if child.type == "text":
                    yield line, child.content
        elif token.type == "fence" and token.info.startswith("{"):
            if NOT_PROSE.match(token.info.split()[0]):
                continue
            body = token.content.splitlines()
            options = 0
            while options < len(body) and re.match(r"^:[\w-]+:", body[options]):
                key, _, value = body[options][1:].partition(":")
                if key in ("alt", "caption"):
                    yield line + 1 + options, value
                options += 1
            yield from prose("\n".join(body[options:]), line + options)


def chapters() -> list[Path]:
    return sorted((ROOT / "book").rglob("*.md"))


def typed_numbers(path: Path) -> list[tuple[int, str, str]]:
    found = []
    for line, text in prose(path.read_text(encoding="utf-8")):
        found += [(line, m.group(1), text.strip()) for m in NUMBER.finditer(text)]
    return found


def test_the_scanner_finds_numbers_where_readers_see_them():
    sample = """A run reaches 96 % accuracy and a loss of 0.078 (step 1e-6).

```{glue:figure} fig
:alt: The loss falls to 0.31.

Caption: after 3.5 epochs.
```

```{solution} ex-1
The best step is 1e-5, the ratio 7.8%.
```

Not these: $0.9^{20} \\approx 0.12$, `lr=0.01`, {glue:text}`acc`, edition 0.1.0,
127.0.0.1, float64.

```{code-cell} ipython3
print(0.5)
```
"""
    found = [n for _, t in prose(sample) for n in NUMBER.findall(t)]
    assert found == ["96 %", "0.078", "1e-6", "0.31", "3.5", "1e-5", "7.8%"]


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.name)
def test_no_hand_typed_measured_number(path):
    name = path.relative_to(ROOT).as_posix()
    allowed = EXCEPTIONS.get(name, {})
    stray = [f"{name}:{line}: {number!r} in {text[:90]!r}"
             for line, number, text in typed_numbers(path) if number not in allowed]
    assert not stray, (
        "numbers typed into prose; glue them from the executed code "
        "({glue:text}), check them in a test, or list them in EXCEPTIONS with a "
        "reason:\n" + "\n".join(stray))


def test_every_exception_is_still_needed():
    stale = []
    for name, allowed in EXCEPTIONS.items():
        present = {number for _, number, _ in typed_numbers(ROOT / name)}
        stale += [f"{name}: {n}" for n in allowed if n not in present]
    assert not stale, "exceptions that no longer occur:\n" + "\n".join(stale)
