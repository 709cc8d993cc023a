"""Execute chapters outside the book build: one to a notebook, or all to time them.

    python benchmarks/chapters.py book/lecture1/perceptron.md [more.md ...]

writes ``_build/chapters/<name>.ipynb`` (with outputs) for each chapter and
prints how long each took to execute.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "chapters"


def execute(md: Path, timeout: int = 300) -> tuple[nbformat.NotebookNode, float]:
    """Run a MyST chapter in a fresh kernel; return the notebook and the seconds."""
    nb = jupytext.read(md)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(md.parent)}})
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def main(paths: list[str]) -> None:
    if not paths:
        sys.exit(__doc__)
    OUT.mkdir(parents=True, exist_ok=True)
    for name in paths:
        md = Path(name if name.endswith(".md") else name + ".md").resolve()
        nb, seconds = execute(md)
        target = OUT / (md.stem + ".ipynb")
        nbformat.write(nb, target)
        print(f"{md.relative_to(ROOT)}: executed in {seconds:.1f} s -> "
              f"{target.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
