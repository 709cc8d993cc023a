"""Benchmarks of the book: build times, chapter execution times, and the from-scratch
pieces against PyTorch's built-ins. Prints figures; asserts nothing (`make bench`).

    python benchmarks/run.py            # everything (about 6-8 minutes on 2 cores)
    python benchmarks/run.py --speed    # only the speed comparisons (seconds)
    python benchmarks/run.py --build    # only the build timings

The build timings copy the project to a temporary folder and build it there with
the command `make book` runs, so the first build is truly cold (no execution
cache) and the project's own `_build` is left alone.
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
# the very test the build makes to choose how math is rendered
from introdl_speed import katex_available  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
FLAGS = ["-W", "-n", "--keep-going"]
#: The budgets of issue and guide, in seconds (2-core CPU, no GPU).
BUDGETS = {"cold_html_s": 110, "warm_html_s": 5, "pdf_after_html_s": 60,
           "chapter_s": 20}


def timed(cmd: list[str], cwd: Path = ROOT) -> tuple[float, str]:
    start = time.perf_counter()
    run = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    return seconds, run.stdout


def chapter_times(log: str) -> dict[str, float]:
    pattern = r"(book/\S+)\.md: Executed notebook in ([\d.]+) seconds"
    return {m[0].split("/book/", 1)[-1]: float(m[1])
            for m in re.findall(pattern, log.replace(str(ROOT) + "/", "/"))}


def copy_project(dest: Path) -> Path:
    for name in ("_config.yml", "_toc.yml", "references.bib", "requirements.txt"):
        shutil.copy(ROOT / name, dest / name)
    for name in ("book", "code"):
        shutil.copytree(ROOT / name, dest / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    # npm's packages (``make book`` installs them): with KaTeX there, the copy renders
    # its math when it is built, as ``make book`` does; without, it would measure the
    # fallback (MathJax in the reader's browser)
    if (ROOT / "node_modules").is_dir():
        (dest / "node_modules").symlink_to(ROOT / "node_modules")
    return dest


def fixed_cost() -> float:
    """Seconds to start a kernel, import what every chapter imports and make an
    optimizer (its first one imports ``torch._dynamo``), and stop the kernel."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import torch\nfrom introdl.figures.style import use_book_style\n"
        "use_book_style()\ntorch.set_num_threads(1)\n"
        "torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)")])
    start = time.perf_counter()
    NotebookClient(nb, kernel_name="python3").execute()
    return time.perf_counter() - start


def warm_fixed_cost() -> float:
    """``fixed_cost`` with the kernels an HTML build starts (``warm_kernels``)."""
    import build  # book/_ext/build.py

    env = build.build_environment(os.environ)
    saved = dict(os.environ)
    with build.warm_kernel_server("html", env):
        os.environ.update(env)
        try:
            return median_seconds(fixed_cost, repeats=3, warmup=1)
        finally:
            os.environ.clear()
            os.environ.update(saved)


def build_benchmarks() -> dict:
    root = copy_project(Path(tempfile.mkdtemp(prefix="introdl-bench-")))
    build = [sys.executable, str(root / "book" / "_ext" / "build.py")]
    try:
        cold, log = timed([*build, *FLAGS], root)
        warm, warm_log = timed([*build, *FLAGS], root)
        # a change that no page reads: Sphinx starts, checks every page, writes none
        (root / "unread.txt").write_text("x")
        sphinx, sphinx_log = timed([*build, *FLAGS], root)
        result = {"cold_html_s": cold, "warm_html_s": warm,
                  "math": ("KaTeX, rendered when the book is built"
                           if katex_available(root) else
                           "MathJax, in the reader's browser (no Node.js or KaTeX)"),
                  "warm_executed": warm_log.count("Executing notebook"),
                  "sphinx_nothing_read_s": sphinx,
                  "sphinx_nothing_read_executed":
                      sphinx_log.count("Executing notebook"),
                  "chapters_s": chapter_times(log.replace(str(root), "")),
                  "fixed_cost_s": median_seconds(fixed_cost, repeats=3, warmup=1),
                  "warm_fixed_cost_s": warm_fixed_cost()}
        if shutil.which("xelatex"):
            pdf, pdf_log = timed([*build, "--builder", "latex", *FLAGS], root)
            result.update(pdf_after_html_s=pdf,
                          pdf_executed=pdf_log.count("Executing notebook"))
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def median_seconds(fn, repeats: int = 15, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def speed_benchmarks() -> dict:
    from introdl.attention import scaled_dot_product_attention
    from introdl.gated import LSTM
    from introdl.optim import Adam

    torch.manual_seed(0)
    q, k, v = (torch.randn(8, 4, 256, 64) for _ in range(3))
    sdpa = (median_seconds(lambda: scaled_dot_product_attention(q, k, v)),
            median_seconds(lambda: torch.nn.functional.scaled_dot_product_attention(
                q, k, v)))

    def adam_step(cls):
        p = torch.nn.Parameter(torch.randn(1_000_000))
        p.grad = torch.randn(1_000_000)
        opt = cls([p], lr=1e-3)
        return lambda: opt.step()
    adam = (median_seconds(adam_step(Adam)),
            median_seconds(adam_step(torch.optim.Adam)))

    x = torch.randn(32, 100, 64)  # (B, T=100 steps, input)
    ours, theirs = LSTM(64, 128), torch.nn.LSTM(64, 128, batch_first=True)
    with torch.no_grad():
        lstm = (median_seconds(lambda: ours(x), repeats=7),
                median_seconds(lambda: theirs(x), repeats=7))
    return {"sdpa": sdpa, "adam_1M": adam, "lstm_100_steps": lstm}


def report(results: dict) -> None:
    print(f"\nmachine: {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} torch threads, torch {torch.__version__}")
    if "build" in results:
        b = results["build"]
        jobs = os.environ.get("BOOK_JOBS", "2")
        print(f"math: {b['math']}")
        print(f"cold HTML build (all chapters executed, {jobs} at a time): "
              f"{b['cold_html_s']:6.1f} s   budget {BUDGETS['cold_html_s']} s")
        print(f"rebuild, nothing changed:                {b['warm_html_s']:6.1f} s"
              f"   budget {BUDGETS['warm_html_s']} s; notebooks executed: "
              f"{b['warm_executed']}")
        if "sphinx_nothing_read_s" in b:
            print("rebuild after a change no page reads:    "
                  f"{b['sphinx_nothing_read_s']:6.1f} s   (Sphinx runs and reads "
                  f"nothing; no budget); notebooks executed: "
                  f"{b['sphinx_nothing_read_executed']}")
        if "pdf_after_html_s" in b:
            print("PDF after the HTML build:                "
                  f"{b['pdf_after_html_s']:6.1f} s"
                  f"   budget {BUDGETS['pdf_after_html_s']} s; notebooks executed: "
                  f"{b['pdf_executed']}")
        print("fixed cost of a chapter (kernel start and stop, imports, first "
              f"optimizer): {b['warm_fixed_cost_s']:4.1f} s with the build's warm "
              f"kernels, {b['fixed_cost_s']:4.1f} s with a fresh kernel")
        print(f"chapter execution times (budget {BUDGETS['chapter_s']} s each):")
        for name, seconds in b["chapters_s"].items():
            print(f"  {name:45s} {seconds:5.1f} s")
        print(f"  {'total':45s} {sum(b['chapters_s'].values()):5.1f} s")
    if "speed" in results:
        goals = {"sdpa": 1.5, "adam_1M": 2.0, "lstm_100_steps": 3.0}
        print("from scratch vs PyTorch (median wall-clock time):")
        for name, (ours, theirs) in results["speed"].items():
            ratio = ours / theirs
            verdict = "ok" if ratio <= goals[name] else "MISSED"
            print(f"  {name:16s} ours {ours * 1e3:8.2f} ms  "
                  f"torch {theirs * 1e3:8.2f} ms"
                  f"  ratio {ratio:5.2f}x  goal <= {goals[name]}x  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="store_true", help="only build timings")
    parser.add_argument("--speed", action="store_true", help="only speed comparisons")
    args = parser.parse_args()
    both = not (args.build or args.speed)
    results = {}
    if args.speed or both:
        results["speed"] = speed_benchmarks()
    if args.build or both:
        results["build"] = build_benchmarks()
    report(results)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=1))
    if results.get("build", {}).get("chapters_s"):
        # what a fresh clone's first build expects of each chapter, to read them in
        # an order in which both processes finish together (introdl_book)
        (ROOT / "book" / "_ext" / "chapter-seconds.json").write_text(json.dumps(
            dict(sorted(results["build"]["chapters_s"].items())), indent=1) + "\n")


if __name__ == "__main__":
    main()
