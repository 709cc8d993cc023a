"""Shown code is code a reader can copy.

Every object a chapter shows with ``literalinclude`` is taken as Sphinx takes it,
in the book's order, and executed in one clean namespace that holds only the
book's preamble (``book/preamble.py``) and the blocks shown before it. A block
passes when it executes and every global name its functions use resolves to the
standard library, torch, or something shown earlier: what a reader gets by
pasting the blocks, in order, into one file.

Run ``python tests/test_snippets.py`` for the whole list with each verdict.
"""

import ast
import builtins
import dis
import re
import textwrap
import types
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sphinx.pycode import ModuleAnalyzer

ROOT = Path(__file__).resolve().parents[1]
PREAMBLE = ROOT / "book" / "preamble.py"

#: Shown objects that cannot run pasted on their own, each with its reason.
#: The test fails if one of them starts to pass (then remove it from here).
EXCEPTIONS: dict[str, str] = {
    "backpropagation:Value.__mul__": "a method excerpt shown to explain one operation; "
    "the whole Value class is shown later in the same chapter",
    "backpropagation:Value.tanh": "a method excerpt shown to explain one operation; "
    "the whole Value class is shown later in the same chapter",
}

_DIRECTIVE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{literalinclude\}[ \t]+(?P<path>\S+)[ \t]*\n"
    r"(?P<options>(?:[ \t]*:[\w-]+:.*\n)*)", re.M)


@dataclass
class Snippet:
    chapter: str  # e.g. "book/lecture1/perceptron"
    path: Path
    pyobject: str | None
    source: str

    @property
    def key(self) -> str:
        return f"{Path(self.chapter).name}:{self.pyobject or self.path.name}"


def toc_chapters() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part["chapters"]:
            names.append(chapter["file"])
            names += [s["file"] for s in chapter.get("sections", [])]
    return names


def extract(path: Path, pyobject: str | None) -> str:
    """The lines Sphinx's ``literalinclude`` shows (``:pyobject:`` or whole file)."""
    lines = path.read_text().splitlines(keepends=True)
    if pyobject is None:
        return "".join(lines)
    tags = ModuleAnalyzer.for_file(str(path), "").find_tags()
    if pyobject not in tags:  # the build fails on it too
        raise LookupError(f"{pyobject} is not in {path.name}")
    _kind, start, end = tags[pyobject]
    return "".join(lines[start - 1:end])


def snippets() -> list[Snippet]:
    found = []
    for chapter in toc_chapters():
        text = (ROOT / f"{chapter}.md").read_text()
        for match in _DIRECTIVE.finditer(text):
            options = dict(re.findall(r":([\w-]+):[ \t]*(.*)", match["options"]))
            path = (ROOT / chapter).parent / match["path"]
            if path.suffix != ".py":
                continue
            try:
                source = extract(path, options.get("pyobject"))
            except (LookupError, OSError) as error:
                source = f"raise LookupError({str(error)!r})\n"
            found.append(Snippet(chapter, path.resolve(), options.get("pyobject"),
                                 source))
    return found


def global_names(code: types.CodeType) -> set[str]:
    """Names that ``code`` and every function nested in it look up as globals."""
    # (names looked up at module or class level, LOAD_NAME, fail at exec already)
    names = {ins.argval for ins in dis.get_instructions(code)
             if ins.opname == "LOAD_GLOBAL"}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= global_names(const)
    return names


def run_in_order(items: list[Snippet]) -> dict[str, str | None]:
    """Snippet key -> None if it runs pasted after what came before, else why not."""
    namespace: dict = {"__name__": "__book__"}
    exec(compile(PREAMBLE.read_text(), str(PREAMBLE), "exec"), namespace)
    verdicts = {}
    for item in items:
        source = textwrap.dedent(item.source)  # a method excerpt, as Sphinx shows it
        try:
            code = compile(source, item.key, "exec")
            exec(code, namespace)
        except Exception as error:  # what the reader would see
            verdicts[item.key] = f"{type(error).__name__}: {error}"
            continue
        missing = sorted(n for n in global_names(code)
                         if n not in namespace and not hasattr(builtins, n))
        verdicts[item.key] = f"free names not shown: {missing}" if missing else None
    return verdicts


@pytest.fixture(scope="module")
def verdicts():
    return run_in_order(snippets())


def test_the_book_shows_code_and_the_preamble_first(verdicts):
    items = snippets()
    assert len(items) >= 80
    assert items[0].path == PREAMBLE.resolve()  # stated once, before any code


def test_every_shown_object_runs_when_pasted_in_book_order(verdicts):
    failing = {k: why for k, why in verdicts.items() if why and k not in EXCEPTIONS}
    assert failing == {}


def test_listed_exceptions_still_fail_and_are_few(verdicts):
    healed = [k for k in EXCEPTIONS if verdicts.get(k) is None]
    assert healed == [], "these run now: remove them from EXCEPTIONS"
    assert all(reason.strip() for reason in EXCEPTIONS.values())
    passing = sum(1 for why in verdicts.values() if why is None)
    assert passing >= 0.95 * len(verdicts)


def test_a_snippet_with_an_unshown_helper_is_caught():
    """The check itself: a function calling something never shown fails."""
    fake = Snippet("book/x", PREAMBLE, "f", "def f(x):\n    return _hidden(x)\n")
    assert "_hidden" in run_in_order([fake])["x:f"]
    fake = Snippet("book/x", PREAMBLE, "g", "def g(x: Missing) -> int:\n    return 1\n")
    assert run_in_order([fake])["x:g"].startswith("NameError")


# -- Checks must not drown the idea -------------------------------------------------
# In every shown function the logic lines outnumber the argument-check lines. A check
# is a call of a ``check_*`` helper, an ``if`` whose body only raises, a ``raise`` or
# an ``assert``; logic is every other statement line. Signature, docstring, comments
# and blank lines count as neither.

#: Shown functions whose checks may outnumber their logic, each with its reason.
#: (Check helpers themselves, ``check_*``, are not counted: checking is their job.)
CHECK_HEAVY: dict[str, str] = {}


def _is_check(node: ast.stmt) -> bool:
    if isinstance(node, ast.Raise):  # an abstract method's raise is its behaviour
        return "NotImplementedError" not in ast.unparse(node)
    if isinstance(node, ast.Assert):
        return True
    if isinstance(node, ast.If) and not node.orelse:
        return all(isinstance(b, ast.Raise) for b in node.body)
    # a call of a check helper, bare or assigned back to the name it checks
    # (``x = check_tensor("x", x)``); ``self.lr = check_number("lr", lr)`` stores
    # the value elsewhere, so it is logic (the line would be there without the check)
    value = getattr(node, "value", None)
    if not (isinstance(value, ast.Call) and getattr(
            value.func, "id", getattr(value.func, "attr", "")).startswith("check_")):
        return False
    if isinstance(node, ast.Expr):
        return True
    targets = {t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)}
    return bool(targets & {a.id for a in value.args if isinstance(a, ast.Name)})


def check_and_logic_lines(function: ast.FunctionDef, source: str) -> tuple[int, int]:
    """(check lines, logic lines) of ``function``'s body in ``source``."""
    lines = source.splitlines()
    check, logic = set(), set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            span = set(range(node.lineno, node.end_lineno + 1))
            if _is_check(node):
                check.update(span)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                   ast.ClassDef)):
                logic.add(node.lineno)  # a nested helper: its own lines are logic
                visit(node.body)
            else:
                blocks = [getattr(node, f, []) for f in
                          ("body", "orelse", "finalbody", "handlers")]
                blocks = [b for b in blocks if isinstance(b, list) and b]
                if not blocks:
                    logic.update(span)
                    continue
                first = min(b[0].lineno for b in blocks)
                logic.update(range(node.lineno, first))  # the header
                for block in blocks:
                    visit([s for h in block for s in h.body]
                          if isinstance(block[0], ast.ExceptHandler) else block)

    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(
            getattr(body[0], "value", None), ast.Constant):
        body = body[1:]  # the docstring
    visit(body)

    def code(n: int) -> bool:
        text = lines[n - 1].strip()
        return bool(text) and not text.startswith("#")

    return (sum(map(code, check)), sum(map(code, logic - check)))


def _functions(nodes: list[ast.stmt], owner: str = ""):
    """``(qualified name, node)`` of the functions and methods in ``nodes``."""
    for node in nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield owner + node.name, node
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node.body, f"{owner}{node.name}.")


def shown_functions() -> dict[str, tuple[int, int]]:
    """``chapter:qualified name`` -> (check lines, logic lines), for every function
    and method the book shows (methods of shown classes included)."""
    counts = {}
    for item in snippets():
        source = textwrap.dedent(item.source)
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for name, node in _functions(tree.body):
            if node.name.lstrip("_").startswith("check"):
                continue  # a check helper: checking is its logic
            key = f"{Path(item.chapter).name}:{name}"
            counts[key] = check_and_logic_lines(node, source)
    return counts


def test_logic_lines_outnumber_check_lines_in_every_shown_function():
    counts = shown_functions()
    assert len(counts) >= 100
    heavy = {name: c for name, c in counts.items()
             if c[0] >= c[1] and c[0] and name not in CHECK_HEAVY}
    assert heavy == {}, "(check lines, logic lines) of functions whose checks " \
        "drown the idea: shorten the checks"
    assert all(reason.strip() for reason in CHECK_HEAVY.values())


def test_the_line_counter_tells_checks_from_logic():
    source = textwrap.dedent('''
        def f(x, n):
            """Doc."""
            check_tensor("x", x)
            n = check_positive_int("n", n)
            if x.ndim != 2:
                raise ValueError(
                    "x must be 2-d")
            # a comment
            for _ in range(n):
                x = x + 1
            self.n = check_positive_int("n", n)
            return x
    ''')
    function = ast.parse(source).body[0]
    assert check_and_logic_lines(function, source) == (5, 4)


if __name__ == "__main__":
    results = run_in_order(snippets())
    for key, why in results.items():
        print(("ok   " if why is None else "FAIL ") + key + ("" if why is None
                                                             else f"  -- {why}"))
    ok = sum(1 for why in results.values() if why is None)
    print(f"{ok} of {len(results)} shown objects run pasted")
